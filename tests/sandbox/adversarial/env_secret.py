# expect: OK
# The caller's environment is not passed: only a fixed minimal one.
import os
if "R1KIT_TEST_SECRET" in os.environ or any("host-secret" in v for v in os.environ.values()):
    print("ESCAPED: host environment visible")
allowed = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "PYTHONDONTWRITEBYTECODE", "PWD"}
extra = set(os.environ) - allowed
if extra:
    print("ESCAPED: unexpected variables", sorted(extra))
print("done")
