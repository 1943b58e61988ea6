#!/usr/bin/env bash
# Usage: scripts/bench.sh BUILD [NAME]
# Builds and runs BUILD/bench/NAME, or every benchmark (one per bench/*.cpp) when NAME is empty.
# Each prints a table and ends with one JSON line (bench/README.md); this script adds nothing to
# their output and exits non-zero when a benchmark fails to build or run.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 BUILD [NAME]" >&2
  exit 2
fi
build=$1
name=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Benchmarks that run a Python reference script find it through the source directory.
export R1KIT_SOURCE_DIR="$here"

names=()
if [[ -n "$name" ]]; then
  if [[ ! -f "$here/bench/$name.cpp" ]]; then
    echo "bench.sh: no benchmark '$name' (no bench/$name.cpp); available:" \
      "$(cd "$here/bench" && ls -- *.cpp | sed 's/\.cpp$//' | tr '\n' ' ')" >&2
    exit 2
  fi
  names=("$name")
else
  for source in "$here"/bench/*.cpp; do
    names+=("$(basename "$source" .cpp)")
  done
fi

for n in "${names[@]}"; do
  cmake --build "$build" --target "bench_$n"
  echo "== bench/$n"
  "$build/bench/$n"
done
