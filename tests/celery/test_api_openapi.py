"""Each app's OpenAPI document is the contract it keeps: schemathesis holds it to it.

schemathesis generates requests from each app's own document, schema-valid ones
and deliberately invalid ones, sends them in-process (ASGI) to the real app, which
talks to the test's private Redis and a real worker, and runs all of its checks on
every answer: no server error, no status the document does not list, a body and a
content type that match the documented schema, invalid input rejected with a 4xx,
and schema-valid input accepted (a 2xx, or 404 for a file the media folder lacks).

Each run draws a new seed, so the fuzzer explores further from run to run instead of
replaying one fixed sample for ever. The seed is printed, and a failure names it:
`SCHEMATHESIS_SEED=<seed> pytest tests/celery/test_api_openapi.py` replays that run.
"""

import os
import random
from collections import Counter

import api
import blocking_publish
import load_tasks
import pytest
import schemathesis
from PIL import Image

SEED = int(os.environ.get("SCHEMATHESIS_SEED") or random.SystemRandom().randrange(2**32))
REPLAY = f"replay with SCHEMATHESIS_SEED={SEED}"
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": 25, "database": "none"},
    "checks": {
        # "Valid data should have been accepted": a 2xx, or 404 for a file name the media
        # folder does not hold (the schema cannot know which files exist).
        "positive_data_acceptance": {"expected-statuses": ["2xx", "404"]},
    },
}

# The apps that teach a mistake on purpose are left out (mistake_*.py), and so is the
# pitfall endpoints that block on Redis without timeouts (tests/celery/test_blocking_publish.py).
SCHEMAS = {
    "api:app": schemathesis.openapi.from_asgi(
        "/openapi.json", api.app, config=schemathesis.Config.from_dict(CONFIG)),
    "load_tasks:api": schemathesis.openapi.from_asgi(
        "/openapi.json", load_tasks.api, config=schemathesis.Config.from_dict(CONFIG)),
    "blocking_publish:app": schemathesis.openapi.from_asgi(
        "/openapi.json", blocking_publish.app, config=schemathesis.Config.from_dict(CONFIG),
    ).exclude(path="/async-delay").exclude(path="/sync-delay-no-timeouts"),
}

pytestmark = pytest.mark.slow  # about 40 s for some 460 requests

CASES: Counter = Counter()
OPERATIONS: dict[str, set[str]] = {name: set() for name in SCHEMAS}
STATUSES: dict[str, Counter] = {name: Counter() for name in SCHEMAS}


@pytest.fixture(scope="module", autouse=True)
def summary(stack, quick_background):
    """The apps run in this process, on the session stack (its Redis, SMTP sink and media
    folder, in os.environ); BackgroundTasks skip the welcome mail's stand-in for slow work."""
    Image.new("RGB", (32, 32), "white").save(stack.media / "fuzz.png")  # one file that exists
    print(f"FUZZ | seed {SEED} ({REPLAY})")
    yield
    for name in SCHEMAS:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(STATUSES[name].items()))
        print(f"FUZZ | {name} | {len(OPERATIONS[name])} operations | {CASES[name]} cases | "
              f"answers {statuses}")


def run(name: str, case) -> None:
    OPERATIONS[name].add(case.operation.label)
    CASES[name] += 1
    try:
        STATUSES[name][case.call_and_validate().status_code] += 1
    except BaseException as exc:
        exc.add_note(f"schemathesis seed {SEED}: {REPLAY}")
        raise


@SCHEMAS["api:app"].parametrize()
def test_api(case, worker):
    run("api:app", case)


@SCHEMAS["load_tasks:api"].parametrize()
def test_load_tasks(case, worker):
    run("load_tasks:api", case)


@SCHEMAS["blocking_publish:app"].parametrize()
def test_blocking_publish(case, worker):
    run("blocking_publish:app", case)
