"""`python -m support.launch celery|uvicorn <args>`: a program the test stack starts.

It runs the same `celery` or `uvicorn` command line as the console scripts, with two
differences, neither of which changes what a worker, Beat or the API does:

- DEMO_SETTINGS (JSON, written by support.stack) shortens the examples' demo timings for
  tests: the examples keep their production values (a 60 s retry delay, 2 s of slow work, a
  one-hour visibility timeout), and the test configuration sets what a demo needs before the
  program starts. Each key is a dotted path, `module.attribute[.attribute…]`, set to its
  value; a dict on the way is indexed rather than read as an attribute:

      {"celery_app.send_email.default_retry_delay": 0,
       "periodic.app.conf.beat_schedule.digest.schedule": 1.0}

  The key "pause_after_run" maps task names to seconds a task lingers after its body has
  run, before its result is stored and its message acknowledged: the window a crash demo
  kills the worker in, with nothing of the kind in the example.
- `celery` loads no CLI plugin unless the command is `flower` (the only one installed),
  so a worker does not import Flower and Tornado.
"""

import functools
import importlib
import importlib.metadata
import json
import os
import sys
import time
from typing import Any

SETTINGS_VAR = "DEMO_SETTINGS"
PAUSE = "pause_after_run"


def _resolve(path: str) -> tuple[Any, str]:
    """The object holding the last part of `path`, and that part's name."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for part in parts[split:-1]:
            obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
        return obj, parts[-1]
    raise ValueError(f"{path!r} names no importable module")


def _pause_after(task, seconds: float) -> None:
    run = task.run

    @functools.wraps(run)
    def paused(*args, **kwargs):
        result = run(*args, **kwargs)
        time.sleep(seconds)  # the body's effects are done; the result and the ack wait
        return result

    task.run = paused


def apply(settings: dict) -> None:
    """Set every attribute `settings` names (see the module's docstring)."""
    for path, value in settings.items():
        if path == PAUSE:
            continue
        obj, name = _resolve(path)
        if isinstance(obj, dict):
            obj[name] = value
        else:
            setattr(obj, name, value)
    for task_name, seconds in settings.get(PAUSE, {}).items():
        module, _, attr = task_name.rpartition(".")
        _pause_after(getattr(importlib.import_module(module), attr), seconds)


def _celery(args: list[str]) -> int:
    entry_points = importlib.metadata.entry_points
    if "flower" not in args:
        def without_plugins(**selection):
            if selection.get("group") == "celery.commands":
                return importlib.metadata.EntryPoints(())
            return entry_points(**selection)

        importlib.metadata.entry_points = without_plugins
    try:
        from celery.bin.celery import celery
    finally:
        importlib.metadata.entry_points = entry_points
    return celery(args=args, prog_name="celery", auto_envvar_prefix="CELERY")


def _uvicorn(args: list[str]) -> int:
    from uvicorn.main import main

    return main(args=args, prog_name="uvicorn")


PROGRAMS = {"celery": _celery, "uvicorn": _uvicorn}


def main(argv: list[str]) -> int:
    program, *args = argv
    apply(json.loads(os.environ.get(SETTINGS_VAR) or "{}"))
    return PROGRAMS[program](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
