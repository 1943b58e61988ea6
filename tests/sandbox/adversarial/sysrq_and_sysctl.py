# expect: OK
for path, value in [("/proc/sysrq-trigger", "h"), ("/proc/sys/kernel/hostname", "x"), ("/proc/sys/vm/drop_caches", "3"),
                    ("/proc/sys/net/ipv4/ip_forward", "1"), ("/proc/sys/user/max_user_namespaces", "100")]:
    try:
        with open(path, "w") as f:
            f.write(value)
        print("ESCAPED: wrote", path)
    except OSError:
        pass
print("done")
