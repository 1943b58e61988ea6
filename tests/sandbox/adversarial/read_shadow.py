# expect: OK
# Host secrets: /etc/shadow and other host files are not in the sandbox at all.
for path in ["/etc/shadow", "/etc/passwd", "/etc/hostname", "/etc/ssh/ssh_host_rsa_key", "/root/.bashrc", "/root/.ssh/id_rsa"]:
    try:
        print("ESCAPED: read", path, len(open(path, "rb").read()))
    except OSError:
        pass
print("done")
