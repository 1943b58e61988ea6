# expect: OK
# args: {port4}
# The host's loopback listener must see no connection (the run has its own network namespace).
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5)
    print("ESCAPED: connected")
except OSError:
    pass
print("done")
