# expect: OK
# nohup-style: SIGHUP ignored, new session, an exec'd sleep carrying the marker in its argv.
import signal, subprocess
signal.signal(signal.SIGHUP, signal.SIG_IGN)
subprocess.Popen(["/bin/bash", "-c", "exec -a r1kit_escape_daemon /bin/sleep 60"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.Popen(["/usr/bin/nohup", "/bin/sleep", "61"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("spawned")
