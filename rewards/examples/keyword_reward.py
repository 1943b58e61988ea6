#!/usr/bin/env python3
"""Example JSON-lines reward plugin (docs/rewards.md, "Writing a reward plugin").

r1kit starts this program once and keeps it. For each batch it writes one request line on stdin,
    {"r1kit_reward": 1, "options": {...}, "samples": [{"prompt": ..., "completion": ..., ...}, ...]}
and reads one response line on stdout,
    {"results": [{"value": 0.5, "info": {...}}, ...]}      (one result per sample, in order)
A sample it cannot score gets {"value": null, "unscored": "why"}. Logs go to stderr: stdout
carries only responses. The reward: the share of the configured keywords (options "keywords",
case-insensitive) found in the summary, the text after the last </think>.
"""

import json
import sys


def score(sample, keywords):
    completion = sample["completion"]
    summary = completion.rsplit("</think>", 1)[-1].lower()
    found = [k for k in keywords if k.lower() in summary]
    return {"value": len(found) / len(keywords), "info": {"found": found}}


def main():
    for line in sys.stdin:
        request = json.loads(line)
        keywords = request["options"].get("keywords", [])
        if not keywords:
            results = [{"value": None, "unscored": "no keywords configured"} for _ in request["samples"]]
        else:
            results = [score(s, keywords) for s in request["samples"]]
        sys.stdout.write(json.dumps({"results": results}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
