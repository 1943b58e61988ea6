# expect: TIME_LIMIT wall=1
import time
time.sleep(1000)
