#@ attack: none (positive control): a correct HumanEval-style solution with a check(candidate) test that uses the prompt's import
#@ test {"check": "METADATA = {'author': 'x'}\n\ndef check(candidate):\n    assert math.isclose(candidate([1.0, 2.0, 3.0]), 2.0)\n    assert candidate([5.0]) == 5.0\n    assert abs(candidate([-1, 1])) < 1e-9\n", "entry_point": "mean"}
#@ expect {"verdict": "OK", "passed": 1}
import math
from typing import List


def mean(numbers: List[float]) -> float:
    return math.fsum(numbers) / len(numbers)
