# expect: OK
# /proc shows only the run's own pid namespace; no process there carries the host's environment.
import os
pids = [p for p in os.listdir("/proc") if p.isdigit()]
if len(pids) > 3:
    print("ESCAPED: sees", len(pids), "processes")
for pid in pids:
    for name in ["environ", "cmdline"]:
        try:
            data = open("/proc/%s/%s" % (pid, name), "rb").read()
        except OSError:
            continue
        if b"R1KIT_TEST_SECRET" in data or b"host-secret" in data:
            print("ESCAPED: /proc/%s/%s" % (pid, name))
print("done")
