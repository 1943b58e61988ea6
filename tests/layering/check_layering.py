#!/usr/bin/env python3
"""Checks r1kit's include graph against DESIGN.md section 2 (STYLE.md rules 1-3 and 28).

  check_layering.py ROOT         check the tree at ROOT; prints each violation, exits 1 if any
  check_layering.py --self-test  builds small trees with known violations and checks they are caught

Rules:
  * a library includes only itself and the libraries DESIGN.md lets it use (no upward includes);
  * core, sandbox and rewards are torch-free (rewards/reward_model/ alone may use model and LibTorch);
  * <torch/torch.h> appears nowhere; headers include no torch/nn or <ATen/ATen.h> (only the PCH may,
    and a LibTorch library's <lib>/internal/ headers: they declare the modules its .cpp files share,
    reach only those files, and those files have the PCH anyway, so rule 28's compile cost is not
    paid twice);
  * <lib>/internal/ headers are included only from inside <lib>.
rollout/kernels/ is its own layer, below model: kernels, their CPU references and tensor-level
wrappers, using core only (r1_fp8 is built from its fp8 files and linked by r1_model, whose
DeepSeek-V3 FP8 layers call it; docs/rollout.md "FP8 layering"). Every library that may use model
may use it.
"""
import os
import re
import sys
import tempfile

# DESIGN.md section 2, "may use".
KERNELS = "rollout/kernels"
ALLOWED = {
    "core": set(),
    "sandbox": {"core"},
    "rewards": {"sandbox", "core"},
    KERNELS: {"core"},
    "model": {KERNELS, "core"},
    "rollout": {KERNELS, "model", "core"},
    "sft": {KERNELS, "model", "core"},
    "rl": {KERNELS, "sft", "rollout", "rewards", "model", "core"},
    "distill": {KERNELS, "sft", "rollout", "rewards", "model", "core"},
    "pipeline": {KERNELS, "core", "sandbox", "rewards", "model", "rollout", "sft", "rl", "distill"},
    "cli": {KERNELS, "core", "sandbox", "rewards", "model", "rollout", "sft", "rl", "distill", "pipeline"},
}
TORCH_FREE = {"core", "sandbox", "rewards"}
TORCH_PREFIXES = ("torch/", "ATen/", "c10/", "caffe2/")
SOURCE_EXT = (".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
PCH = "model/pch/torch_pch.h"


def library_of(rel):
    if rel.startswith(KERNELS + "/"):
        return KERNELS
    top = rel.split("/", 1)[0]
    return top if top in ALLOWED else None


def check_file(rel, text):
    lib = library_of(rel)
    errors = []
    is_header = rel.endswith((".h", ".hpp", ".cuh"))
    for m in INCLUDE.finditer(text):
        kind, inc = m.group(1), m.group(2)
        line = text.count("\n", 0, m.start()) + 1
        where = f"{rel}:{line}: #include {kind}{inc}{'>' if kind == '<' else chr(34)}"
        if inc == "torch/torch.h":
            errors.append(f"{where}: <torch/torch.h> is banned everywhere (22 s per TU; STYLE.md 28)")
            continue
        if inc.startswith(TORCH_PREFIXES):
            if lib in TORCH_FREE and not rel.startswith("rewards/reward_model/"):
                errors.append(f"{where}: {lib}/ is torch-free (DESIGN.md section 2)")
            elif (is_header and rel != PCH and "/internal/" not in rel
                  and (inc.startswith("torch/nn") or inc == "ATen/ATen.h")):
                errors.append(f"{where}: headers include at most <ATen/core/Tensor.h> (STYLE.md 28)")
            continue
        target = library_of(inc)
        if lib is None or target is None:
            continue
        if target != lib:
            allowed = ALLOWED[lib] | ({"model"} if rel.startswith("rewards/reward_model/") else set())
            if target not in allowed:
                errors.append(f"{where}: {lib} may not use {target} "
                              f"(allowed: {', '.join(sorted(allowed)) or 'nothing'})")
            elif "/internal/" in inc:
                errors.append(f"{where}: {inc} is private to {target}/")
    return errors


def check_tree(root):
    errors = []
    for lib in ALLOWED:
        if lib == KERNELS:  # walked with rollout/
            continue
        base = os.path.join(root, lib)
        for dirpath, _, files in os.walk(base):
            for name in sorted(files):
                if not name.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                with open(path, encoding="utf-8", errors="replace") as f:
                    errors += check_file(rel, f.read())
    return errors


def self_test():
    cases = {  # file -> (content, expected violation substring or None)
        "core/a.h": ('#include "model/m.h"\n', "core may not use model"),
        "core/b.cpp": ("#include <ATen/ATen.h>\n", "torch-free"),
        "sandbox/s.cpp": ('#include "rewards/r.h"\n', "sandbox may not use rewards"),
        "rewards/r.cpp": ('#include "sandbox/s.h"\n#include "core/e.h"\n', None),
        "rewards/reward_model/rm.cpp": ('#include "model/m.h"\n#include <ATen/ATen.h>\n', None),
        "model/m.h": ("#include <torch/nn/module.h>\n", "headers include at most"),
        "model/ok.h": ("#include <ATen/core/Tensor.h>\n", None),
        "model/internal/layers.h": ("#include <torch/nn/module.h>\n#include <ATen/ATen.h>\n", None),
        "core/internal/x.h": ("#include <ATen/ATen.h>\n", "torch-free"),
        "rollout/x.cpp": ("#include <torch/torch.h>\n", "banned everywhere"),
        "rl/y.cpp": ('#include "sft/internal/z.h"\n', "private to sft/"),
        "cli/main.cpp": ('#include "pipeline/runner.h"\n#include "rl/grpo.h"\n', None),
        "model/fp8_user.cpp": ('#include "rollout/kernels/fp8_torch.h"\n', None),
        "model/engine_user.cpp": ('#include "rollout/engine.h"\n', "model may not use rollout"),
        "rollout/kernels/k.cpp": ('#include "model/causal_lm.h"\n', "rollout/kernels may not use model"),
        "rollout/kernels/fp8_torch.h": ("#include <ATen/core/Tensor.h>\n", None),
    }
    failures = 0
    for rel, (content, expected) in cases.items():
        errs = check_file(rel, content)
        ok = (not errs) if expected is None else any(expected in e for e in errs)
        if not ok:
            failures += 1
            print(f"self-test: {rel}: expected {expected!r}, got {errs}")
    with tempfile.TemporaryDirectory() as tmp:  # the tree walk finds a violation on disk too
        os.makedirs(os.path.join(tmp, "core"))
        with open(os.path.join(tmp, "core", "bad.cpp"), "w") as f:
            f.write('#include "pipeline/runner.h"\n')
        if len(check_tree(tmp)) != 1:
            failures += 1
            print("self-test: tree walk missed core/bad.cpp")
    print(f"layering self-test: {len(cases) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    errors = check_tree(sys.argv[1])
    for e in errors:
        print(e)
    print(f"layering: {len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
