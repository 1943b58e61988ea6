"""The baseline of bench/reward.cpp: format + language + math-verify accuracy on the same samples.

argv: SAMPLES_JSONL (the first M samples r1kit scored)
stdout (last line): {"samples": M, "seconds": S, "accuracy": [0|1, ...], "format_mean": f,
                     "language_mean": l}
S is the wall time of scoring all M samples in this one process (reading excluded). Format and
language follow docs/rewards.md's rules in plain Python (a simpler word split: Han characters one
by one, runs of Latin letters as words, $...$ spans dropped); they cost little beside math-verify,
which is called as its README shows: gold = parse("$" + answer + "$"), pred = parse(summary), then
verify(gold, pred). math-verify's own timeouts (signals) are fine here: main thread, own process.
"""

import json
import re
import sys
import time

from math_verify import parse, verify

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:'[A-Za-z\u00c0-\u024f]+)*")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]|\\[A-Za-z]+", re.S)


def format_reward(completion):
    stripped = completion.lstrip()
    if not stripped.startswith("<think>") or completion.count("<think>") != 1 or completion.count("</think>") != 1:
        return 0.0
    return 1.0 if completion.split("</think>", 1)[1].strip() else 0.0


def language_reward(completion, language):
    if "<think>" in completion:
        cot = completion.split("<think>", 1)[1].split("</think>", 1)[0]
    else:
        cot = completion.split("</think>", 1)[0] if "</think>" in completion else ""
    cot = MATH.sub(" ", cot)
    han = len(HAN.findall(cot))
    latin = len(LATIN_WORD.findall(cot))
    total = han + latin
    if total == 0 or not language:
        return 0.0
    return (han if language.startswith("zh") else latin) / total


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        samples = [json.loads(line) for line in f if line.strip()]
    start = time.perf_counter()
    accuracy, fmt, lang = [], 0.0, 0.0
    for s in samples:
        completion = s["completion"]
        fmt += format_reward(completion)
        lang += language_reward(completion, s.get("language", ""))
        summary = completion.rsplit("</think>", 1)[-1]
        gold = parse("$" + s["answer"] + "$")
        pred = parse(summary)
        accuracy.append(1 if verify(gold, pred) else 0)
    seconds = time.perf_counter() - start
    print(json.dumps({"samples": len(samples), "seconds": seconds, "accuracy": accuracy,
                      "format_mean": fmt / len(samples), "language_mean": lang / len(samples)}))


if __name__ == "__main__":
    main()
