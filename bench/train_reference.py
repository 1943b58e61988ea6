"""TRL baseline for bench/train: `trl`'s GRPOTrainer doing GRPO steps on a randomly initialised model
built by transformers from a config.json (the tiny Qwen2), on this CPU, timed per optimizer step.

Usage: train_reference.py --config CONFIG.json --prompts P --group G --prompt-len LP
                          --completion-len LC --steps N --warmup W --threads T

Each step: P prompts of LP random tokens, G samples each (sampling at temperature 1, top_k 0, top_p 1),
exactly LC new tokens per sample (min_new_tokens = max_completion_length, so EOS cannot end one
early), a trivial reward (the share of even token ids in the completion, so advantages are not all
zero), then TRL's loss, backward and AdamW step. beta = 0 (no reference model) and num_iterations = 1,
TRL's defaults, with which TRL skips recomputing the old logprobs (they equal the current ones).

The tokenizer is a WordLevel `tokenizers` model over the config's vocabulary ("t<id>" words, ids 0-2
pad/bos/eos as in the config), built in memory, so a prompt of LP words is exactly LP ids and no
download is needed.

Prints one JSON object on its last line:
  {"library", "version", "transformers", "torch", "threads", "prompts", "group", "prompt_len",
   "completion_len", "params", "step_s": [seconds per timed step], "median_step_s",
   "rollout_s": [...], "reward_s": [...], "median_rollout_s", "median_reward_s",
   "completion_lengths": [distinct lengths seen], "loss_type"}
The run fails (exit 1) if a completion is not LC tokens long: then the steps did other work than
r1kit's.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings

import torch


def build_tokenizer(vocab_size, pad_id, bos_id, eos_id):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    special = {pad_id: "<pad>", bos_id: "<bos>", eos_id: "<eos>"}
    vocab = {special.get(i, f"t{i}"): i for i in range(vocab_size)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<bos>",
                                   eos_token="<eos>", padding_side="left")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--prompts", type=int, required=True)
    parser.add_argument("--group", type=int, required=True)
    parser.add_argument("--prompt-len", type=int, required=True)
    parser.add_argument("--completion-len", type=int, required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (the Trainer's bf16=True), as r1kit's --grpo-bf16 1")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)

    import datasets
    import transformers
    import trl
    from transformers import AutoConfig, AutoModelForCausalLM, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    with open(args.config) as f:
        config = AutoConfig.for_model(**json.load(f))
    config.attention_dropout = 0.0
    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    tokenizer = build_tokenizer(config.vocab_size, config.pad_token_id, config.bos_token_id, config.eos_token_id)

    # Distinct random prompts (ids >= 3, no specials), enough for every step.
    gen = torch.Generator().manual_seed(args.seed)
    total_steps = args.warmup + args.steps
    ids = torch.randint(3, config.vocab_size, (args.prompts * total_steps, args.prompt_len), generator=gen)
    dataset = datasets.Dataset.from_dict({"prompt": [" ".join(f"t{i}" for i in row.tolist()) for row in ids]})
    for row in dataset.select(range(3))["prompt"]:
        assert len(tokenizer(row)["input_ids"]) == args.prompt_len

    lengths = set()
    reward_s = []

    def even_share(completion_ids, **kwargs):
        start = time.perf_counter()
        out = []
        for c in completion_ids:
            lengths.add(len(c))
            out.append(sum(1 for t in c if t % 2 == 0) / max(1, len(c)))
        reward_s.append(time.perf_counter() - start)
        return out

    step_s = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            self.start = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            step_s.append(time.perf_counter() - self.start)

    with tempfile.TemporaryDirectory() as out_dir:
        grpo_args = GRPOConfig(
            output_dir=out_dir, per_device_train_batch_size=args.prompts * args.group,
            num_generations=args.group, max_completion_length=args.completion_len,
            generation_kwargs={"min_new_tokens": args.completion_len}, temperature=1.0, top_k=0, top_p=1.0,
            learning_rate=1e-6, beta=0.0, num_iterations=1, max_steps=total_steps, use_cpu=True, bf16=args.bf16,
            fp16=False, report_to=[], logging_steps=1, save_strategy="no", disable_tqdm=True,
            dataloader_num_workers=0, seed=args.seed, shuffle_dataset=False)
        trainer = GRPOTrainer(model=model, reward_funcs=even_share, args=grpo_args, train_dataset=dataset,
                              processing_class=tokenizer, callbacks=[StepTimer()])
        rollout_s = []
        generate = trainer._generate

        def timed_generate(*a, **kw):
            start = time.perf_counter()
            result = generate(*a, **kw)
            rollout_s.append(time.perf_counter() - start)
            return result

        trainer._generate = timed_generate
        torch.set_num_threads(args.threads)
        trainer.train()

    if lengths != {args.completion_len}:
        print(f"train_reference.py: completion lengths {sorted(lengths)}, expected {args.completion_len}",
              file=sys.stderr)
        sys.exit(1)
    timed = slice(args.warmup, None)
    print(json.dumps({
        "library": "trl", "version": trl.__version__, "transformers": transformers.__version__,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "prompts": args.prompts,
        "group": args.group, "prompt_len": args.prompt_len, "completion_len": args.completion_len,
        "params": sum(p.numel() for p in model.parameters()), "loss_type": grpo_args.loss_type, "bf16": args.bf16,
        "step_s": step_s[timed], "median_step_s": statistics.median(step_s[timed]),
        "rollout_s": rollout_s[timed], "median_rollout_s": statistics.median(rollout_s[timed]),
        "reward_s": reward_s[timed], "median_reward_s": statistics.median(reward_s[timed]),
        "completion_lengths": sorted(lengths),
    }))


if __name__ == "__main__":
    main()
