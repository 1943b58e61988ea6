"""The reference side of r1kit's model tests: builds, loads and runs Llama, Qwen2 and DeepSeek-V3
checkpoints with Hugging Face `transformers` and prints what it did as one JSON line on stdout.

  make --config CONFIG.json --out DIR --seed S [--dtype float32|bfloat16] [--fp8 ROWS,COLS]
      a seeded random model saved with save_pretrained; --fp8 then rewrites its decoder-layer
      projections into DeepSeek's block-scaled float8_e4m3fn format (DeepSeek-V3 only).
      Prints {"dir", "tensors": {name: shape}} for the names that landed in the safetensors file.
  logits --model DIR --ids IDS.json --out OUT.safetensors [--dtype float32|bfloat16|float64]
         [--attn eager|sdpa]
      float32 logits `logits.<i>` [len, vocab] for each sequence of IDS.json ({"sequences": [[id...]]}),
      each run alone (batch 1, no padding). Prints {"num_sequences", "param_names", "loading_info"}.
  loss --model DIR --ids IDS.json [--dtype ...] [--attn ...]
      transformers' own causal-LM loss (labels = input_ids, mean over the len-1 predicted tokens)
      per sequence: {"losses": [...]}, null for a one-token sequence.

An fp8 checkpoint is never handed to transformers' fp8 quantizer: it wants a GPU, its CPU fallback
(dequantize on load) rejects ragged edge blocks such as DeepSeek-V3's 576-row kv_a_proj_with_mqa,
and it would not be independent of what it checks. Instead this script dequantizes every weight in float32 itself and
loads the result as a plain checkpoint, so r1kit's dequantization is checked against an
independent one.
"""

import argparse
import json
import math
import os
import re
import tempfile

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForCausalLM

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float64": torch.float64}

# DeepSeek-V3 stores every projection inside a decoder layer in fp8; embeddings, lm_head, norms,
# the router weight and its correction bias stay in high precision.
FP8_WEIGHT = re.compile(r"^model\.layers\.\d+\..*_proj(_with_mqa)?\.weight$")
E4M3_MAX = 448.0


def random_value(name, shape, hidden, gen):
    """A value for one tensor, chosen so that every tensor matters and logits have std ~2.

    Linear weights use std 1/sqrt(fan_in), which keeps activations O(1) through the layers, gives
    attention scores O(1) (softmax neither uniform nor one-hot) and router logits O(1). The
    embedding and lm_head use 2/sqrt(hidden): the logits come out with std ~2, and a tied embedding
    (Qwen2) does the same job for both ends.
    """
    noise = torch.randn(shape, generator=gen, dtype=torch.float32)
    if name.endswith("e_score_correction_bias"):
        # The same order as the spread of sigmoid scores near the top-k boundary, so the bias
        # changes which experts are chosen for some tokens but not for all.
        return 0.05 * noise
    if "norm" in name:
        return 1.0 + 0.1 * noise
    if name.endswith(".bias"):
        return 0.05 * noise
    if "embed_tokens" in name or name.startswith("lm_head"):
        return noise * (2.0 / math.sqrt(hidden))
    assert len(shape) >= 2, f"no rule for {name} {list(shape)}"
    return noise / math.sqrt(shape[-1])


def randomize(model, seed):
    gen = torch.Generator().manual_seed(seed)
    hidden = model.config.hidden_size
    seen = set()
    with torch.no_grad():
        # Sorted names, so the values do not depend on module registration order; a tied tensor
        # is filled once.
        state = model.state_dict()
        for name in sorted(state):
            t = state[name]
            if t.data_ptr() in seen:
                continue
            seen.add(t.data_ptr())
            t.copy_(random_value(name, t.shape, hidden, gen))


def quantize_blockwise(weight, rows, cols):
    """DeepSeek's block fp8: one float32 scale per rows x cols block (ragged at the edges),
    scale = amax / 448, stored = weight / scale in e4m3; `weight_scale_inv` holds the scale."""
    out_dim, in_dim = weight.shape
    w = weight.float()
    block_rows, block_cols = -(-out_dim // rows), -(-in_dim // cols)
    padded = torch.zeros(block_rows * rows, block_cols * cols)
    padded[:out_dim, :in_dim] = w.abs()
    amax = padded.view(block_rows, rows, block_cols, cols).amax(dim=(1, 3))
    scale = torch.where(amax > 0, amax / E4M3_MAX, torch.ones_like(amax))
    per_element = scale.repeat_interleave(rows, 0).repeat_interleave(cols, 1)[:out_dim, :in_dim]
    # amax / scale can land a rounding step above 448, which e4m3fn would turn into NaN.
    stored = (w / per_element).clamp(-E4M3_MAX, E4M3_MAX).to(torch.float8_e4m3fn)
    return stored, scale


def dequantize_blockwise(stored, scale_inv, rows, cols):
    """Inverse of quantize_blockwise, written per block rather than by expanding the scale grid,
    so a shared mistake in the expansion cannot hide."""
    out_dim, in_dim = stored.shape
    result = torch.empty(out_dim, in_dim, dtype=torch.float32)
    for bi in range(scale_inv.shape[0]):
        for bj in range(scale_inv.shape[1]):
            r, c = slice(bi * rows, (bi + 1) * rows), slice(bj * cols, (bj + 1) * cols)
            result[r, c] = stored[r, c].float() * scale_inv[bi, bj].float()
    return result


def single_checkpoint_file(directory):
    path = os.path.join(directory, "model.safetensors")
    assert os.path.exists(path), f"{directory}: expected one model.safetensors (sharded checkpoints are not handled)"
    return path


def rewrite_fp8(directory, rows, cols):
    path = single_checkpoint_file(directory)
    tensors = load_file(path)
    assert any(n.startswith("model.layers.") and ".mlp.gate.weight" in n for n in tensors), \
        "--fp8 is for DeepSeek-V3 checkpoints"
    for name in [n for n in tensors if FP8_WEIGHT.match(n)]:
        stored, scale = quantize_blockwise(tensors[name], rows, cols)
        tensors[name] = stored
        tensors[name + "_scale_inv"] = scale
    save_file(tensors, path, metadata={"format": "pt"})
    config_path = os.path.join(directory, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                                     "weight_block_size": [rows, cols]}
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def cmd_make(args):
    with open(args.config) as f:
        config = AutoConfig.for_model(**json.load(f))
    torch.manual_seed(args.seed)
    # dtype at construction, so transformers keeps what it keeps in float32 (DeepSeek's router).
    model = AutoModelForCausalLM.from_config(config, dtype=DTYPES[args.dtype])
    randomize(model, args.seed)
    model.save_pretrained(args.out)
    if args.fp8:
        rows, cols = (int(x) for x in args.fp8.split(","))
        rewrite_fp8(args.out, rows, cols)
    with safe_open(single_checkpoint_file(args.out), framework="pt") as f:
        shapes = {name: f.get_slice(name).get_shape() for name in f.keys()}
    return {"dir": args.out, "tensors": shapes}


def dequantized_copy(directory, quant, scratch):
    """A plain float32 checkpoint in `scratch` holding DIR's weights with fp8 dequantized."""
    assert quant.get("quant_method") == "fp8" and quant.get("fmt", "e4m3") == "e4m3", f"unsupported {quant}"
    rows, cols = quant["weight_block_size"]
    tensors = load_file(single_checkpoint_file(directory))
    plain = {}
    for name, t in tensors.items():
        if name.endswith("_scale_inv"):
            continue
        scale_inv = tensors.get(name + "_scale_inv")
        if t.dtype == torch.float8_e4m3fn:
            assert scale_inv is not None, f"{name} is fp8 without {name}_scale_inv"
            plain[name] = dequantize_blockwise(t, scale_inv, rows, cols)
        else:
            plain[name] = t
    save_file(plain, os.path.join(scratch, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    del config["quantization_config"]
    with open(os.path.join(scratch, "config.json"), "w") as f:
        json.dump(config, f)


def load_model(args):
    with open(os.path.join(args.model, "config.json")) as f:
        quant = json.load(f).get("quantization_config")
    with tempfile.TemporaryDirectory() as scratch:
        source = args.model
        if quant is not None:
            dequantized_copy(args.model, quant, scratch)
            source = scratch
        # transformers 5 runs MoE experts through torch's grouped_mm by default, which refuses
        # float64; the eager per-expert loop is the plain reference and takes every dtype.
        model, info = AutoModelForCausalLM.from_pretrained(
            source, dtype=DTYPES[args.dtype], attn_implementation=args.attn, experts_implementation="eager",
            output_loading_info=True)
    model.eval()
    return model, {k: sorted(map(str, v)) for k, v in info.items() if k != "error_msgs"}


def read_sequences(path):
    with open(path) as f:
        return [torch.tensor([seq], dtype=torch.long) for seq in json.load(f)["sequences"]]


def cmd_logits(args):
    model, info = load_model(args)
    sequences = read_sequences(args.ids)
    with torch.inference_mode():
        logits = {f"logits.{i}": model(input_ids=ids, use_cache=False).logits[0].float().contiguous()
                  for i, ids in enumerate(sequences)}
    save_file(logits, args.out)
    return {"num_sequences": len(sequences), "param_names": sorted(model.state_dict()), "loading_info": info}


def cmd_loss(args):
    model, _ = load_model(args)
    losses = []
    with torch.inference_mode():
        for ids in read_sequences(args.ids):
            # One token has nothing to predict; transformers would return 0/0 = NaN, which is not JSON.
            losses.append(model(input_ids=ids, labels=ids, use_cache=False).loss.item() if ids.shape[1] > 1 else None)
    return {"losses": losses}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make")
    make.add_argument("--config", required=True)
    make.add_argument("--out", required=True)
    make.add_argument("--seed", type=int, required=True)
    make.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    make.add_argument("--fp8", metavar="ROWS,COLS")
    for name in ("logits", "loss"):
        run = commands.add_parser(name)
        run.add_argument("--model", required=True)
        run.add_argument("--ids", required=True)
        run.add_argument("--dtype", choices=list(DTYPES), default="float32")
        run.add_argument("--attn", choices=["eager", "sdpa"], default="eager")
        if name == "logits":
            run.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    result = {"make": cmd_make, "logits": cmd_logits, "loss": cmd_loss}[args.command](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
