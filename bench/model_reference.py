"""Reference side of bench/model: times a training step (forward with transformers' own causal-LM
loss, backward, zero the gradients; no optimizer step) of a randomly initialised model built by
`transformers` from a config.json, in the same run as r1kit.

Usage: model_reference.py --config CONFIG.json --seq S --batch B --steps N --warmup W
                          --dtype float32|bfloat16 --threads T [--attn sdpa|eager]

Weights are held in --dtype itself (no autocast), so bfloat16 times bf16 matmuls, which are slow on
CPUs without AVX-512 BF16. Prints one JSON object:
  {"library", "version", "torch", "dtype", "threads", "seq", "batch", "params", "attn",
   "step_s": [seconds per timed step], "median_step_s", "tokens_per_s", "loss"}
where loss is the first timed step's loss (about ln(vocab) for a fresh model), to show the step did
the real work.
"""

import argparse
import json
import statistics
import time

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--seq", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--dtype", choices=list(DTYPES), required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--attn", choices=["sdpa", "eager"], default="sdpa")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    torch.set_num_threads(args.threads)

    with open(args.config) as f:
        config = AutoConfig.for_model(**json.load(f))
    # Dropout would make forward+backward do different work from r1kit's (and is off in R1 training).
    config.attention_dropout = 0.0
    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_config(config, dtype=DTYPES[args.dtype], attn_implementation=args.attn)
    model.train()
    ids = torch.randint(0, config.vocab_size, (args.batch, args.seq),
                        generator=torch.Generator().manual_seed(args.seed))

    step_s, losses = [], []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        model.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - start
        if step >= args.warmup:
            step_s.append(elapsed)
            losses.append(loss.item())

    median = statistics.median(step_s)
    print(json.dumps({
        "library": "transformers", "version": transformers.__version__, "torch": torch.__version__,
        "dtype": args.dtype, "threads": args.threads, "seq": args.seq, "batch": args.batch,
        # parameters() yields a tied embedding once, so this is the count a user would quote.
        "params": sum(p.numel() for p in model.parameters()), "attn": args.attn,
        "step_s": step_s, "median_step_s": median, "tokens_per_s": args.batch * args.seq / median,
        "loss": losses[0],
    }))


if __name__ == "__main__":
    main()
