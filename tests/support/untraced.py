"""The environment for a child process that runs no code from examples/.

`make test` measures examples/ only, and coverage's subprocess patch starts a
tracer in every Python child it can reach (it passes COVERAGE_PROCESS_CONFIG on).
A strict mkdocs build or a schema check traced that way costs twice the CPU and
adds no line, so such children get the environment without it.
"""

import os


def untraced(env: dict | None = None) -> dict:
    """A copy of `env` (default: os.environ) that starts no coverage in the child."""
    env = dict(os.environ if env is None else env)
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        env.pop(name, None)
    return env
