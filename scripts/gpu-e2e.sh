#!/usr/bin/env bash
# The second half of `scripts/gpu-check.sh --e2e` (issue 9, acceptance 4), run by it after the build
# with: BUILD_DIR OUT_DIR PYTHON GPU_DESCRIPTION TORCH_DESCRIPTION START_EPOCH_SECONDS.
#  1. bench/rollout --device cuda: rollout tokens/s of the tiny DeepSeek-V3 and the Qwen2.5-0.5B
#     shape at 1, 64 and 256 concurrent sequences, transformers' generate() on the GPU beside them.
#  2. When the CPU demo's cold-start model and metrics were carried (runs/tiny_r1/cold_start/model,
#     runs/tiny_r1/metrics.jsonl): recipes/tiny_r1.yaml's reasoning_rl stage on the GPU from that
#     model, for R1KIT_E2E_GRPO_STEPS steps (default 35, the recipe's eval_every: evaluations at 0 and 35), and
#     its held-out figures beside the CPU run's at the same steps. They agree "within sampling noise"
#     when every difference is at most 3 standard errors of a difference of two proportions over the
#     128 held-out prompts (the two runs sample differently, so the trajectories are not expected to
#     be equal, only statistically alike).
# Writes OUT_DIR/gpu-e2e.json; exits non-zero when a step fails or a figure disagrees.
set -uo pipefail
build=$1 out=$2 python=$3 gpu=$4 torch=$5 start=$6
log() { printf 'gpu-check: %s\n' "$*" | tee -a "$out/gpu-check.log"; }
status=0

if timeout 420 env R1KIT_SOURCE_DIR="$PWD" "$build/bench/rollout" --device cuda --seqs 1,64,256 --new-tokens 256 \
     --no-naive >"$out/bench_rollout.log" 2>&1; then
  log "bench/rollout --device cuda done at $(( $(date +%s) - start )) s"
else
  log "bench/rollout --device cuda failed (bench_rollout.log)"
  status=1
fi
tail -n 1 "$out/bench_rollout.log" >"$out/bench_rollout.json" || true

cold=runs/tiny_r1/cold_start/model
cpu_metrics=runs/tiny_r1/metrics.jsonl
if [[ -f $cold/config.json && -f $cpu_metrics ]]; then
  "$python" - "$cold" "$out" "${R1KIT_E2E_GRPO_STEPS:-35}" <<'PY' || status=1
import os, sys, yaml
cold, out, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
recipe = yaml.safe_load(open("recipes/tiny_r1.yaml"))
stage = recipe["stages"]["reasoning_rl"]
stage.update({"model": os.path.abspath(cold), "num_steps": steps})
run = {"dir": os.path.join(out, "grpo_gpu"), "seed": recipe["run"]["seed"], "device": "cuda"}
yaml.safe_dump({"run": run, "stages": {"reasoning_rl": stage}}, open(os.path.join(out, "grpo_gpu.yaml"), "w"))
PY
  if timeout 480 "$build/r1kit" run "$out/grpo_gpu.yaml" >"$out/grpo_gpu.log" 2>&1; then
    log "GRPO on the GPU done at $(( $(date +%s) - start )) s"
  else
    log "GRPO on the GPU failed (grpo_gpu.log)"
    status=1
  fi
else
  log "GRPO on the GPU not run: carry $cold and $cpu_metrics (the CPU demo's) to run it"
fi

"$python" - "$out" "$gpu" "$torch" "$(( $(date +%s) - start ))" "$cpu_metrics" <<'PY' || status=1
import json, math, os, sys
out, gpu, torch, seconds, cpu_metrics = sys.argv[1:6]
report = {"gpu": gpu, "torch": torch, "seconds": int(seconds)}
try:
    report["bench_rollout"] = json.loads(open(f"{out}/bench_rollout.json").read())
except (OSError, ValueError) as e:
    report["bench_rollout"] = {"error": f"no JSON line from bench/rollout ({e}); see bench_rollout.log"}
ok = "error" not in report["bench_rollout"]

def evals(path):
    rows = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("stage") == "reasoning_rl" and "eval/accuracy" in r:
            rows[r["step"]] = r
    return rows

gpu_metrics = f"{out}/grpo_gpu/metrics.jsonl"
if os.path.exists(gpu_metrics):
    cpu, gpu_rows = evals(cpu_metrics), evals(gpu_metrics)
    compared = []
    for step in sorted(gpu_rows):
        if step not in cpu:
            continue
        for key in ("eval/accuracy", "eval/sampled_accuracy", "eval/format_rate", "eval/language_consistency"):
            a, b = cpu[step].get(key), gpu_rows[step].get(key)
            if a is None or b is None:
                continue
            n = gpu_rows[step].get("eval/num_prompts", 128)
            se = math.sqrt(max(a * (1 - a), 1 / n) / n + max(b * (1 - b), 1 / n) / n)
            agree = abs(a - b) <= 3 * se
            ok &= agree
            compared.append({"step": step, "metric": key, "cpu": a, "gpu": b, "tolerance": 3 * se, "agree": agree})
    train = [json.loads(l) for l in open(gpu_metrics)]
    train = [r for r in train if "time/rollout_s" in r]
    report["grpo"] = {"compared": compared,
                      "steps": len(train),
                      "seconds_per_step": {k: sum(r.get(f"time/{k}_s", 0) for r in train) / max(1, len(train))
                                           for k in ("rollout", "reward", "update")},
                      "rollout_tokens_per_s": sum(r.get("rollout/tokens_per_s", 0) for r in train) / max(1, len(train))}
    ok &= bool(compared)
else:
    report["grpo"] = {"not_run": "see gpu-check.log"}
json.dump(report, open(f"{out}/gpu-e2e.json", "w"), indent=1)
print(json.dumps(report))
sys.exit(0 if ok else 4)
PY
log "report: $out/gpu-e2e.json (status $status)"
exit $status
