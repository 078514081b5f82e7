"""How fast this machine runs Python today, for budgets stated in seconds.

Machines of the same kind run this suite at very different speeds, several times apart
on the same code, so a budget in plain seconds would fail for the machine, not for the
code. A budget is scaled by `slowdown()`: how much longer than on the nominal machine a
fixed pure-Python loop takes here, never less than 1 (a fast machine gets no slack).
"""

import resource
import subprocess
import sys

from support.untraced import untraced

LOOP = "s = 0\nfor i in range(5_000_000):\n    s += i\n"
# CPU seconds of LOOP on the nominal machine: the one the budgets were set on.
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
