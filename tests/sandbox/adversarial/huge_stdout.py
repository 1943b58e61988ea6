# expect: OUTPUT_LIMIT output=65536 wall=5
import sys
while True:
    sys.stdout.write("x" * 4096)
