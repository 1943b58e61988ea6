"""The baseline of bench/regex.cpp: the `tokenizers` library's Split(Regex(p), "isolated")
pre-tokenizer on the same documents, timed with pre_tokenize_str (its Python entry point) and with
pre_tokenize on a PreTokenizedString (no Python list of pieces built).

argv: DOCS_JSON PATTERNS_JSON    ({"corpus": [documents]} and {"name": pattern})
stdout: {"name.corpus": {"pieces": N, "str_mb_s": X, "rust_mb_s": Y}}
Rates are UTF-8 megabytes (1e6) per second of process CPU time, the median of 3 runs.
"""

import json
import statistics
import sys
import time

from tokenizers import PreTokenizedString, Regex, pre_tokenizers


def rate(fn, nbytes):
    times = []
    for _ in range(3):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return nbytes / statistics.median(times) / 1e6


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        corpora = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        patterns = json.load(f)
    out = {}
    for name, pattern in patterns.items():
        split = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
        for corpus, docs in corpora.items():
            nbytes = sum(len(d.encode("utf-8")) for d in docs)
            pieces = sum(len(split.pre_tokenize_str(d)) for d in docs)

            def via_str():
                for d in docs:
                    split.pre_tokenize_str(d)

            def via_rust():
                for d in docs:
                    split.pre_tokenize(PreTokenizedString(d))

            out["%s.%s" % (name, corpus)] = {"pieces": pieces, "str_mb_s": rate(via_str, nbytes),
                                             "rust_mb_s": rate(via_rust, nbytes)}
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
