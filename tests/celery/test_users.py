"""examples/celery/users.py: the stand-in user store and the signup body."""

import uuid

import pytest
import users
from pydantic import ValidationError


def test_create_user_is_idempotent_per_email():
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    first = users.create_user(email)
    assert first == {"id": first["id"], "email": email}
    assert users.create_user(email) is first
    other = users.create_user(f"other-{email}")
    assert other["id"] == first["id"] + 1
    assert users.USERS[email] is first


def test_signup_body_wants_exactly_one_valid_email():
    assert users.SignupIn(email="ok@example.com").email == "ok@example.com"
    with pytest.raises(ValidationError, match="not a valid email address"):
        users.SignupIn(email="not-an-email")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        users.SignupIn(email="ok@example.com", password="hunter2")
