"""The container's program: it says it is ready, then waits for work until told to stop.

It handles SIGTERM itself. A process that is PID 1 in its container gets no default signal
handling from the kernel: without a handler, SIGTERM is simply ignored.
"""

import signal
import sys
import time


# --8<-- [start:sigterm]
def stop(signum, frame):
    print("SIGTERM: stopping", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
# --8<-- [end:sigterm]
print("ready", flush=True)
while True:
    time.sleep(0.2)
