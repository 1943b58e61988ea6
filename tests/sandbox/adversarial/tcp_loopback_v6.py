# expect: OK
# args: {port6}
import socket, sys
try:
    socket.create_connection(("::1", int(sys.argv[1])), timeout=0.5)
    print("ESCAPED: connected")
except OSError:
    pass
print("done")
