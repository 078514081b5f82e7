"""A stand-in user store for the signup examples: a dict, on purpose."""

from mailer import Address
from pydantic import BaseModel, ConfigDict

USERS: dict[str, dict] = {}


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Address


def create_user(email: str) -> dict:
    user = USERS.setdefault(email, {"id": len(USERS) + 1, "email": email})
    return user
