# expect: OK
# Raising a hard limit must fail.
import resource
for lim in (resource.RLIMIT_CPU, resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE, resource.RLIMIT_NPROC, resource.RLIMIT_AS):
    soft, hard = resource.getrlimit(lim)
    want = resource.RLIM_INFINITY
    try:
        resource.setrlimit(lim, (want, want))
        if hard != resource.RLIM_INFINITY:
            print("ESCAPED: raised", lim)
    except (ValueError, OSError):
        pass
print("done")
