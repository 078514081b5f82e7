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
from typing import Annotated

import api
import blocking_publish
import jsonschema_rs
import load_tasks
import pytest
import schemathesis
from PIL import Image
from pydantic import TypeAdapter, ValidationError

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
APPS = {"api:app": (api, api.app), "load_tasks:api": (load_tasks, load_tasks.api),
        "blocking_publish:app": (blocking_publish, blocking_publish.app)}
SCHEMAS = {
    name: schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG))
    for name, (_, app) in APPS.items()
}
SCHEMAS["blocking_publish:app"] = (
    SCHEMAS["blocking_publish:app"].exclude(path="/async-delay")
    .exclude(path="/sync-delay-no-timeouts"))

# The fuzz runs are slow: about 40 s for some 460 requests.
slow = pytest.mark.slow

# Strings on which regex engines disagree: Latin, a combining mark, an Arabic-Indic digit,
# a superscript, a titlecase letter, a trailing newline.
PROBES = ["photo.png", "job:1", "é", "a\u0300", "\u0663", "\u00b2", "\u01c5", "job\n"]


@pytest.mark.parametrize("name", APPS)
def test_every_pattern_draws_the_same_line_in_the_app_and_in_its_document(name):
    """A field's pattern is checked twice: by Pydantic, when the app validates a request, and
    by a JSON Schema validator reading the OpenAPI document (a client, or the fuzzer). Each
    probe must get the same verdict from both, or the document promises what the app breaks."""
    module, app = APPS[name]
    checked = []
    for model, schema in app.openapi()["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if "pattern" not in prop:
                continue
            info = getattr(module, model).model_fields[field]
            app_reading = TypeAdapter(Annotated[info.annotation, info])
            document_reading = jsonschema_rs.validator_for(prop)
            for probe in PROBES:
                try:
                    app_reading.validate_python(probe)
                    accepted = True
                except ValidationError:
                    accepted = False
                assert accepted == document_reading.is_valid(probe), (model, field, probe)
            checked.append(f"{model}.{field}")
    assert checked or name == "blocking_publish:app"  # its bodies have no patterns

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
@slow
def test_api(case, worker):
    run("api:app", case)


@SCHEMAS["load_tasks:api"].parametrize()
@slow
def test_load_tasks(case, worker):
    run("load_tasks:api", case)


@SCHEMAS["blocking_publish:app"].parametrize()
@slow
def test_blocking_publish(case, worker):
    run("blocking_publish:app", case)
