"""transformers' generate() baseline for bench/rollout: the same config with random weights, a batch
of sequences whose prompts are groups of identical 128-token prompts, greedy-free sampling with EOS
ignored, timed end to end. Prints one JSON line.

  python bench/rollout_reference.py --config CONFIG.json --seqs N --group G --prompt-len P
         --new-tokens K --dtype float32|bfloat16 --threads T [--device cpu|cuda]
"""

import argparse
import json
import time

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--seqs", type=int, required=True)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--prompt-len", type=int, default=128)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open(args.config) as f:
        config = AutoConfig.for_model(**json.load(f))
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    model = AutoModelForCausalLM.from_config(config, dtype=dtype).eval().to(args.device)
    groups = max(1, args.seqs // args.group)
    prompts = torch.randint(0, config.vocab_size, (groups, args.prompt_len))
    input_ids = prompts.repeat_interleave(args.seqs // groups, dim=0).to(args.device)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), do_sample=True,
                             temperature=1.0, top_k=0, max_new_tokens=args.new_tokens,
                             min_new_tokens=args.new_tokens, pad_token_id=0)
    if args.device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    generated = (out.shape[1] - args.prompt_len) * out.shape[0]
    print(json.dumps({"library": "transformers", "version": transformers.__version__, "dtype": args.dtype,
                      "device": args.device,
                      "seqs": args.seqs, "new_tokens": args.new_tokens, "seconds": seconds,
                      "tokens_per_s": generated / seconds}))


if __name__ == "__main__":
    main()
