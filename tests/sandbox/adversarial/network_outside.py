# expect: OK
# No route anywhere: only a loopback interface of its own.
import socket
names = [n for _, n in socket.if_nameindex()]
if names != ["lo"]:
    print("ESCAPED: interfaces", names)
for addr in [("1.1.1.1", 53), ("8.8.8.8", 53), ("10.0.0.1", 80)]:
    try:
        socket.create_connection(addr, timeout=0.3)
        print("ESCAPED: connected to", addr)
    except OSError:
        pass
print("done")
