# expect: TIME_LIMIT wall=1 procs=16
# Threads until the pids limit refuses more, then everyone sleeps.
import threading, time
started = 0
while True:
    try:
        threading.Thread(target=time.sleep, args=(100,), daemon=True).start()
        started += 1
    except RuntimeError:
        break
if started > 20:
    print("ESCAPED: started", started, "threads with procs=16")
time.sleep(100)
