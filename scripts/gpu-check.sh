#!/usr/bin/env bash
# The standing GPU check (issue 9): on a machine with an NVIDIA GPU, CUDA and a CUDA build of
# PyTorch, builds r1kit against that PyTorch with LibTorch's CUDA backend and the CUDA kernels
# (sm_90a), runs the LibTorch test suites (the tests that need a GPU skip themselves elsewhere and
# run here) and the GPU benchmarks, and writes one report: $OUT/gpu-check.json (or ./gpu-check-out/).
# On the lent machines, which have no package registry, first run scripts/gpu-deps.sh here and
# carry .gpu-deps; for example, with the device tool:
#   run(command="bash scripts/gpu-check.sh", carry=[".gpu-deps"], timeout_s=600)
# Options: --configure-only (check the toolchain and dependencies, build nothing), --jobs N,
# --kernels-only (build and run only the CUDA kernels: cuda_kernels_test, its sanitizer runs and
# bench/kernels, no LibTorch suites: about 3 minutes, for a device lease too short for the rest),
# --e2e (issue 9's end-to-end checks instead of the suites: builds r1kit and bench/rollout, runs
# bench/rollout --device cuda at 1, 64 and 256 sequences beside transformers on the GPU, and, when the
# CPU demo's cold-start model and metrics are carried, the demo's reasoning GRPO stage on the GPU from
# that model, compared with the CPU run's held-out figures; report in $OUT/gpu-e2e.json). For --e2e
# carry the CPU run too:
#   run(command="bash scripts/gpu-check.sh --e2e", carry=[".gpu-deps", "runs/tiny_r1/cold_start/model",
#       "runs/tiny_r1/metrics.jsonl"], timeout_s=600)
# Budget: about 10 minutes on 16 cores for the LibTorch suites' build, plus about 3 for the kernel
# checks (estimates: the script has been run here, without a GPU, up to --configure-only and the
# kernels' build; not yet on a GPU machine). Steps 6 and 7 run the FP8 GEMM test's small shapes under
# compute-sanitizer memcheck and racecheck and bench/kernels (issue 9); their results join the report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

configure_only=0
kernels_only=0
e2e=0
jobs=$(nproc)
while (($#)); do
  case "$1" in
    --configure-only) configure_only=1 ;;
    --kernels-only) kernels_only=1 ;;
    --e2e) e2e=1 ;;
    --jobs) jobs=$2; shift ;;
    *) echo "gpu-check: unknown option $1 (expected --configure-only, --kernels-only, --e2e or --jobs N)" >&2; exit 2 ;;
  esac
  shift
done

out=${OUT:-$PWD/gpu-check-out}
mkdir -p "$out"
build=${R1KIT_GPU_BUILD:-build-gpu}
python=${R1KIT_GPU_PYTHON:-python3}
log() { printf 'gpu-check: %s\n' "$*" | tee -a "$out/gpu-check.log"; }
start=$(date +%s)

# 1. The machine.
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo none)
torch=$("$python" -c 'import torch; print(torch.__version__, torch.cuda.is_available())')
venv=$("$python" -c 'import sys; print(sys.prefix)')
log "gpu: $gpu; torch (version, cuda): $torch; python prefix: $venv"

# 2. Dependencies carried as .deb files, unpacked into a private prefix (nothing is installed).
if compgen -G ".gpu-deps/*.deb" >/dev/null; then
  deps=/tmp/r1kit-deps
  mkdir -p "$deps"
  for f in .gpu-deps/*.deb; do dpkg-deb -x "$f" "$deps"; done
  arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
  export CMAKE_PREFIX_PATH="$deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export PKG_CONFIG_PATH="$deps/usr/lib/$arch/pkgconfig:$deps/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR="$deps"  # the .pc files say /usr: prefix their -I and -L
  export LD_LIBRARY_PATH="$deps/usr/lib/$arch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  command -v pkg-config >/dev/null || export PKG_CONFIG="$deps/usr/bin/pkgconf"
  log "dependencies from .gpu-deps unpacked into $deps"
fi

# 3. Configure: this machine's PyTorch, its CUDA backend linked, CUDA code for Hopper.
cmake -S . -B "$build" -G Ninja -DR1KIT_VENV="$venv" -DR1KIT_TORCH_CUDA=ON -DR1KIT_CUDA=ON \
  -DR1KIT_ASAN=OFF >"$out/configure.log" 2>&1 || { log "configure failed (configure.log)"; tail -20 "$out/configure.log"; exit 1; }
log "configured $build"
((configure_only)) && exit 0

# 4. Build what the check runs.
# cuda_kernels_test: the CUDA kernels against their CPU references (no LibTorch; needs R1KIT_CUDA=ON);
# fp8_gpu_test: the tensor-level FP8 ops (rollout/kernels/fp8_torch.h) on CUDA tensors against their
# CPU path (LibTorch's CUDA backend); bench_kernels: bench/kernels.cu (step 7).
suites=(model_test rollout_test cuda_kernels_test fp8_gpu_test)
((kernels_only)) && suites=(cuda_kernels_test)
targets=("${suites[@]}" bench_kernels)
((e2e)) && targets=(r1kit bench_rollout)
ninja -C "$build" -j "$jobs" "${targets[@]}" >"$out/build.log" 2>&1 || { log "build failed (build.log)"; tail -30 "$out/build.log"; exit 1; }
log "built ${targets[*]} in $(( $(date +%s) - start )) s"
((e2e)) && exec bash scripts/gpu-e2e.sh "$build" "$out" "$python" "$gpu" "$torch" "$start"

# 5. Tests: every LibTorch suite and the CUDA kernel suite, with gtest's JSON report; the summary
# names the tests that ran (not skipped) and need CUDA by name, so a GPU test silently skipping on a
# GPU shows up.
status=0
for t in "${suites[@]}"; do
  "$build/tests/$t" --gtest_output="json:$out/$t.json" >"$out/$t.log" 2>&1 || status=1
done
log "tests run in $(( $(date +%s) - start )) s"

# 6. The FP8 GEMMs' small shapes (Fp8GemmCuda.Small*: both kernels, grouped with ragged and empty
# experts, dense, fp32 and bf16 out) under compute-sanitizer: memcheck (out-of-bounds and misaligned
# accesses) and racecheck (shared-memory hazards). Verdicts in sanitizer-<tool>.txt, logs beside.
sanitizer=$(command -v compute-sanitizer || true)
[[ -z "$sanitizer" && -x /usr/local/cuda/bin/compute-sanitizer ]] && sanitizer=/usr/local/cuda/bin/compute-sanitizer
for tool in memcheck racecheck; do
  if [[ -z "$sanitizer" ]]; then
    echo "not run: no compute-sanitizer on PATH or in /usr/local/cuda/bin" >"$out/sanitizer-$tool.txt"
    status=1
  elif timeout 300 "$sanitizer" --tool "$tool" --error-exitcode 9 "$build/tests/cuda_kernels_test" \
         --gtest_filter='Fp8GemmCuda.Small*' >"$out/sanitizer-$tool.log" 2>&1; then
    echo clean >"$out/sanitizer-$tool.txt"
  else
    echo "failed with exit $? (9: hazards found, 124: timed out; see sanitizer-$tool.log)" >"$out/sanitizer-$tool.txt"
    status=1
  fi
  log "compute-sanitizer $tool: $(cat "$out/sanitizer-$tool.txt")"
done

# 7. bench/kernels: the grouped FP8 GEMM at DeepSeek-V3 shapes beside cuBLAS bf16 and the FP8 peak
# (bench/README.md); its table in bench_kernels.log, its closing JSON line in the report.
if ! timeout 300 "$build/bench/kernels" >"$out/bench_kernels.log" 2>&1; then
  log "bench/kernels failed (bench_kernels.log)"
  status=1
fi
tail -n 1 "$out/bench_kernels.log" >"$out/bench_kernels.json" || true
log "bench/kernels done at $(( $(date +%s) - start )) s"

"$python" - "$out" "$gpu" "$torch" "$(( $(date +%s) - start ))" "${suites[@]}" <<'PY' || status=1
import json, os, re, sys
out, gpu, torch, seconds, suites = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
report = {"gpu": gpu, "torch": torch, "seconds": seconds, "suites": {}, "cuda_tests_run": [], "cuda_tests_skipped": []}
for suite in suites:
    if not os.path.exists(f"{out}/{suite}.json"):  # the suite crashed before writing its report
        report["suites"][suite] = {"error": f"no {suite}.json (see {suite}.log)"}
        continue
    data = json.load(open(f"{out}/{suite}.json"))
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for group in data["testsuites"]:
        for t in group["testsuite"]:
            name = f'{group["name"]}.{t["name"]}'
            state = "failed" if t.get("failures") else "skipped" if t.get("result") == "SKIPPED" else "passed"
            counts[state] += 1
            if re.search(r"cuda|gpu", name, re.I):
                report["cuda_tests_skipped" if state == "skipped" else "cuda_tests_run"].append(f"{name}: {state}")
    report["suites"][suite] = counts
report["sanitizer"] = {}
for tool in ("memcheck", "racecheck"):
    path = f"{out}/sanitizer-{tool}.txt"
    report["sanitizer"][tool] = open(path).read().strip() if os.path.exists(path) else "not run"
try:
    report["bench_kernels"] = json.loads(open(f"{out}/bench_kernels.json").read())
except (OSError, ValueError) as e:
    report["bench_kernels"] = {"error": f"no JSON line from bench/kernels ({e}); see bench_kernels.log"}
json.dump(report, open(f"{out}/gpu-check.json", "w"), indent=1)
print(json.dumps(report))
# On a GPU, a CUDA test that skipped means LibTorch's CUDA backend did not come up: a failure.
sys.exit(3 if gpu != "none" and report["cuda_tests_skipped"] else 0)
PY
log "report: $out/gpu-check.json (status $status)"
exit $status
