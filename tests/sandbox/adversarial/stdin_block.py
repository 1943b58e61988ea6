# expect: OK wall=2
# Reading stdin to the end must not hang: it is at EOF.
import sys
data = sys.stdin.read()
print("read", len(data))
