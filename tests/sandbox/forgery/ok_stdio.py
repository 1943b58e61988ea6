#@ attack: none (positive control): a correct stdin/stdout Python program, judged in all three compare modes
#@ test {"stdin": "3\n1 2 3\n", "expected_stdout": "6\n", "compare": "exact"}
#@ test {"stdin": "2\n10 20\n", "expected_stdout": "30", "compare": "tokens"}
#@ test {"stdin": "3\n1 1 1\n", "expected_stdout": "3.0000001", "compare": "float", "tolerance": 1e-6}
#@ expect {"verdict": "OK", "passed": 3}
import sys

data = sys.stdin.read().split()
print(sum(int(x) for x in data[1:1 + int(data[0])]))
