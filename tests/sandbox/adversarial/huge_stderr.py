# expect: OUTPUT_LIMIT output=65536 wall=5
import sys
while True:
    sys.stderr.write("e" * 4096)
