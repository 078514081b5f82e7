"""examples/celery/mistake_two_signups.py: with two `POST /signup` routes, the first one wins,
silently."""

import uuid

import pytest
import users
from fastapi.testclient import TestClient

from support.broker_watch import NothingPublished


def test_both_routes_are_registered(stack):
    import mistake_two_signups

    routes = [r for r in mistake_two_signups.app.routes if getattr(r, "path", "") == "/signup"]
    assert [(r.methods, r.endpoint.__name__) for r in routes] == [({"POST"}, "signup")] * 2


def test_the_only_sign_is_a_warning_when_the_openapi_document_is_built(stack):
    import mistake_two_signups

    mistake_two_signups.app.openapi_schema = None  # built afresh, as on a first /docs
    with pytest.warns(UserWarning, match=r"^Duplicate Operation ID signup_signup_post "
                                         r"for function signup at .*mistake_two_signups\.py"):
        schema = mistake_two_signups.app.openapi()
    assert list(schema["paths"]) == ["/signup"]  # one path, one POST: the other is gone


def test_the_first_route_answers_and_the_second_never_runs(stack, quick_background):
    import mistake_two_signups

    to = f"twice-{uuid.uuid4().hex[:8]}@example.com"
    with TestClient(mistake_two_signups.app) as client, NothingPublished(stack.redis.client(0)):
        response = client.post("/signup", json={"email": to})
    # The BackgroundTasks version answered: no task_id, no message to the broker...
    assert (response.status_code, response.json()) == (200, {"message": "User created"})
    # ...and it sent the mail itself.
    assert stack.smtp.to(to)[0]["Subject"] == "Welcome!"


def test_the_second_route_works_when_called_directly(stack, worker):
    """So the Celery version is not broken: it is unreachable over HTTP."""
    import mistake_two_signups

    to = f"direct-{uuid.uuid4().hex[:8]}@example.com"
    answer = mistake_two_signups.signup(users.SignupIn(email=to))
    assert set(answer) == {"message", "task_id"}
    stack.smtp.wait_for(to)
