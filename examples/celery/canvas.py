"""Q29, Canvas: chain, group and chord, on the app the workers already run.

`celery_app` lists this module in `include`, so the worker that runs the mail and
image tasks also runs these. With that worker up,
`python -c "import canvas; canvas.demo()"` runs each primitive once and prints what
came back. (Not `python -m canvas`: tasks defined in `__main__` get other names.)
"""

import logging
import time

from celery import chain, chord, group
from celery_app import app

log = logging.getLogger(__name__)


# --8<-- [start:tasks]
@app.task
def add(x: int, y: int) -> int:
    return x + y


@app.task
def slow_square(x: int, seconds: float = 0.5) -> int:
    time.sleep(seconds)  # stands for I/O: a download, an API call
    return x * x


@app.task
def total(numbers: list[int]) -> int:
    return sum(numbers)


@app.task
def fail(x: int) -> int:
    raise ValueError(f"cannot process {x}")


@app.task
def ping() -> str:
    return "pong"
# --8<-- [end:tasks]


# --8<-- [start:errback]
@app.task
def report_failure(task_id: str) -> str:
    # One parameter: queued as a task of its own, with the id of the task it was attached
    # to. On a chord's callback, that is the callback's id, not the member that failed.
    log.error("canvas step failed: %s", task_id)
    return task_id


@app.task
def report_chord_error(request, exc, traceback) -> None:
    # Three parameters: called in the worker that saw the failure, with the exception. A
    # chord's is a ChordError that names the member that failed and its error.
    log.error("chord %s failed: %s", request.id, exc)
# --8<-- [end:errback]


# --8<-- [start:chain]
def run_chain() -> int:
    # (2 + 2) -> (4 + 4) -> (8 + 8): each result becomes the first argument of the next.
    return chain(add.s(2, 2), add.s(4), add.s(8)).apply_async().get(timeout=10)
# --8<-- [end:chain]


# --8<-- [start:group]
def run_group(n: int = 4) -> list[int]:
    # Independent tasks, one message each; free worker slots run them side by side.
    return group(slow_square.s(i) for i in range(n)).apply_async().get(timeout=30)
# --8<-- [end:group]


# --8<-- [start:chord]
def run_chord(n: int = 4) -> int:
    # The callback gets the list of every member's result, once the last one is done.
    header = [slow_square.s(i, 0.1) for i in range(n)]
    return chord(header)(total.s()).get(timeout=30)
# --8<-- [end:chord]


# --8<-- [start:signatures]
def partial_and_immutable() -> tuple[int, int]:
    partial = chain(add.s(1, 1), add.s(10)).apply_async()  # add(2, 10)
    immutable = chain(add.s(1, 1), add.si(5, 5)).apply_async()  # add(5, 5): ignores the 2
    return partial.get(timeout=10), immutable.get(timeout=10)
# --8<-- [end:signatures]


# --8<-- [start:on_error]
def chord_with_error_callback(members: list[int]):
    # One failing member: the callback never runs, and its error callbacks do instead.
    header = [fail.s(m) if m < 0 else add.s(m, 0) for m in members]
    callback = total.s()
    callback.on_error(report_failure.s())  # gets the callback's id
    callback.on_error(report_chord_error.s())  # gets the ChordError
    return chord(header)(callback)
# --8<-- [end:on_error]


def demo() -> None:
    print("chain:", run_chain())
    print("group:", run_group())
    print("chord:", run_chord())
    print("partial, immutable:", partial_and_immutable())
