"""Loads Hugging Face model directories with transformers and prints what it understood.

Usage: hf_config_load.py DIR...   One JSON line per DIR: the key fields of AutoConfig (and of
GenerationConfig when DIR has a generation_config.json). Used by tests/core/hf_config_test.cpp to
check that a config.json written by r1kit loads in transformers as the same model.
"""
import json
import os
import sys

from transformers import AutoConfig, GenerationConfig

CONFIG_FIELDS = [
    "architectures", "model_type", "vocab_size", "hidden_size", "intermediate_size",
    "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_act",
    "max_position_embeddings", "rms_norm_eps", "tie_word_embeddings", "attention_bias", "mlp_bias",
    "bos_token_id", "eos_token_id", "pad_token_id", "use_sliding_window", "max_window_layers",
    "moe_intermediate_size", "n_shared_experts", "n_routed_experts", "routed_scaling_factor",
    "kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "v_head_dim", "qk_nope_head_dim",
    "topk_method", "n_group", "topk_group", "num_experts_per_tok", "moe_layer_freq",
    "first_k_dense_replace", "norm_topk_prob", "scoring_func", "num_nextn_predict_layers",
    "quantization_config",
]
GENERATION_FIELDS = [
    "bos_token_id", "eos_token_id", "pad_token_id", "do_sample", "temperature", "top_p", "top_k",
    "max_new_tokens", "max_length", "repetition_penalty",
]


def describe(directory):
    config = AutoConfig.from_pretrained(directory)
    out = {"class": type(config).__name__}
    for name in CONFIG_FIELDS:
        if hasattr(config, name):
            out[name] = getattr(config, name)
    out["dtype"] = str(config.dtype).removeprefix("torch.") if config.dtype is not None else None
    out["rope_parameters"] = config.rope_parameters
    if os.path.exists(os.path.join(directory, "generation_config.json")):
        generation = GenerationConfig.from_pretrained(directory)
        out["generation"] = {name: getattr(generation, name) for name in GENERATION_FIELDS}
    return out


def main():
    for directory in sys.argv[1:]:
        print(json.dumps(describe(directory), default=str))


if __name__ == "__main__":
    main()
