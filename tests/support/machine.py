"""How fast this machine runs Python today, for budgets that issues state in seconds.

Machines of the same kind have run this suite at very different speeds: the strict
build took 1.45 s of CPU in one session and 6.5-7 s in another, on the same code. A
budget in plain seconds would then fail for the machine, not for the code. So a
budget is scaled by `slowdown()`: how much longer than on the nominal machine a
fixed pure-Python loop takes here, never less than 1 (a fast machine gets no slack).
"""

import resource
import subprocess
import sys

from support.untraced import untraced

LOOP = "s = 0\nfor i in range(5_000_000):\n    s += i\n"
# CPU seconds of LOOP on the nominal machine, where the strict build took 1.45 s: derived
# from a session that measured the loop at 2.25-2.30 s and the same build at 6.5-7.0 s.
NOMINAL_LOOP_S = 0.48


def loop_seconds() -> float:
    """CPU seconds of LOOP in a fresh, untraced interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", LOOP], env=untraced(), check=True, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def slowdown() -> float:
    """This machine's time for LOOP over the nominal machine's, at least 1."""
    return max(1.0, loop_seconds() / NOMINAL_LOOP_S)
