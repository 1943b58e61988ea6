"""A JSON-lines reward plugin that misbehaves on request, for tests/rewards/plugin_test.cpp.

The first sample's completion of a batch picks the behaviour: CRASH (exit 3 without answering),
SIGNAL (SIGKILL itself), HANG (sleep), GARBAGE (a non-JSON line), COUNT (one result too few),
TYPES (a string value), NAN / INF (Python's bare NaN / Infinity tokens for the first sample),
TWO_LINES (two responses), UNSCORED (the plugin declines), PARTIAL (half a line, then hang).
Anything else: value = len(completion), info = {"pid": ...} so tests can see restarts.
"""

import json
import os
import signal
import sys
import time


def normal(samples):
    return [{"value": len(s["completion"]), "info": {"pid": os.getpid()}} for s in samples]


def main():
    for line in sys.stdin:
        samples = json.loads(line)["samples"]
        mode = samples[0]["completion"]
        results = normal(samples)
        if mode == "CRASH":
            sys.exit(3)
        if mode == "SIGNAL":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "HANG":
            time.sleep(60)
        if mode == "PARTIAL":
            sys.stdout.write('{"results": [')
            sys.stdout.flush()
            time.sleep(60)
        if mode == "GARBAGE":
            sys.stdout.write("this is not json\n")
        elif mode == "COUNT":
            sys.stdout.write(json.dumps({"results": results[:-1]}) + "\n")
        elif mode == "TYPES":
            results[0]["value"] = "high"
            sys.stdout.write(json.dumps({"results": results}) + "\n")
        elif mode in ("NAN", "INF"):
            results[0]["value"] = float("nan") if mode == "NAN" else float("inf")
            sys.stdout.write(json.dumps({"results": results}) + "\n")
        elif mode == "TWO_LINES":
            sys.stdout.write(json.dumps({"results": results}) + "\n" + json.dumps({"results": results}) + "\n")
        elif mode == "UNSCORED":
            sys.stdout.write(json.dumps({"results": [{"value": None, "unscored": "cannot judge"} for _ in samples]}) + "\n")
        else:
            sys.stdout.write(json.dumps({"results": results}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
