# expect: RUNTIME_ERROR exit=3
import sys
sys.exit(3)
