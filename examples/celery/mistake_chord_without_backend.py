"""Q29, a lesson kept on purpose: a chord on an app with a broker and no result backend.

A chord has to know when every member is done, and members report to the result
backend. Without one, Celery refuses the chord in the caller, before any message is sent.
"""

import os

from celery import Celery, chord

# --8<-- [start:app]
app = Celery("mistake_chord_without_backend",
             broker=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"))


@app.task
def square(x: int) -> int:
    return x * x


@app.task
def total(numbers: list[int]) -> int:
    return sum(numbers)


def sum_of_squares(n: int):
    return chord(square.s(i) for i in range(n))(total.s())
# --8<-- [end:app]
