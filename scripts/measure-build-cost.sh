#!/usr/bin/env bash
# Re-measures STYLE.md's build-cost table with this machine's compiler and LibTorch (docs/build.md):
# the compile time of one translation unit per include set, without and with the shared PCH.
#   scripts/measure-build-cost.sh [BUILD_DIR]   (BUILD_DIR: a configured build, default build)
# Run it on an otherwise idle machine; it prints a markdown table. ccache is bypassed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
venv=${R1KIT_VENV:-$HOME/.cache/r1kit/venv}
torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The flags r1_model compiles with, minus ccache (taken from the build's compile_commands.json).
flags=$("$venv/bin/python" - "$build/compile_commands.json" <<'PY'
import json, shlex, sys
for c in json.load(open(sys.argv[1])):
    if c["file"].endswith("model/tensor_io.cpp"):
        args = shlex.split(c["command"])
        keep, skip = [], False
        for a in args[1:]:
            if skip: skip = False; continue
            if a in ("-o", "-c", "-include", "-MF", "-MT"): skip = True; continue
            if a.startswith(("-MD", "-Winvalid-pch", "-fpch")) or a.endswith((".cpp", ".o")): continue
            if "ccache" in a or a.startswith("CCACHE") or a in ("-E", "env", "--"): continue
            keep.append(a)
        print(" ".join(shlex.quote(k) for k in keep if not k.endswith("cmake")))
        break
PY
)
cxx=$(command -v g++)

tu() {  # name, includes..., then a use of them
  local file=$work/$1.cpp; shift
  printf '%s\n' "$@" >"$file"
}
tu none '#include <string>' '#include <vector>' 'std::string f(std::vector<int> v) { return std::to_string(v.size()); }'
tu tensor_h '#include <ATen/core/Tensor.h>' 'int64_t f(const at::Tensor& t) { return t.dim(); }'
tu aten '#include <ATen/ATen.h>' 'at::Tensor f(const at::Tensor& t) { return at::matmul(t, t).relu(); }'
tu nn '#include <torch/nn/module.h>' '#include <torch/nn/modules/linear.h>' \
   'struct M : torch::nn::Module { M() : l(register_module("l", torch::nn::Linear(4, 4))) {} torch::nn::Linear l; };' \
   'at::Tensor f(const at::Tensor& t) { M m; return m.l(t); }'
tu torch_h '#include <torch/torch.h>' 'at::Tensor f(const at::Tensor& t) { return torch::relu(t); }'

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'; }

# Shared PCH: model/pch/torch_pch.h compiled once with the same flags.
grep -v "#pragma once" "$root/model/pch/torch_pch.h" >"$work/pch.h"
pch_build=$(eval seconds "$cxx" $flags -x c++-header "$work/pch.h" -o "$work/pch.h.gch")
pch_size=$(du -m "$work/pch.h.gch" | cut -f1)

echo "| translation unit includes | no PCH | shared PCH |"
echo "|---|---:|---:|"
for name in none tensor_h aten nn torch_h; do
  plain=$(eval seconds "$cxx" $flags -c "$work/$name.cpp" -o "$work/$name.o")
  if [[ $name == none ]]; then with="–"; else
    with=$(eval seconds "$cxx" $flags -include "$work/pch.h" -Winvalid-pch -c "$work/$name.cpp" -o "$work/$name.pch.o")
    with=$(printf '%.1f s' "$with")
  fi
  printf '| %s | %.1f s | %s |\n' "$name" "$plain" "$with"
done
printf '\nPCH build: %.1f s, %s MB (model/pch/torch_pch.h)\n' "$pch_build" "$pch_size"
