# expect: OK
# args: {tmpdir}
# The test wrote secret.txt into its temp dir and passes the host path: it must not be readable.
import sys, os
try:
    print("ESCAPED:", open(sys.argv[1] + "/secret.txt").read())
except OSError:
    pass
for root, dirs, files in os.walk("/"):
    if root.startswith(("/proc", "/usr")):
        dirs[:] = []
        continue
    if "secret.txt" in files:
        print("ESCAPED: found", root)
print("done")
