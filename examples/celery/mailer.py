"""Sending one mail over real SMTP (Mailpit in the sandbox, aiosmtpd in the tests)."""

import os
import smtplib
from email.message import EmailMessage
from typing import Annotated

import email_validator
from pydantic import EmailStr, WithJsonSchema


# --8<-- [start:send_mail]
def send_mail(to: str, subject: str, body: str) -> str:
    """Deliver one message through SMTP_HOST:SMTP_PORT and return its Message-ID."""
    msg = EmailMessage()
    msg["From"] = os.environ.get("MAIL_FROM", "guide@example.com")
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{os.urandom(8).hex()}@interview-guide>"
    msg.set_content(body)
    host = os.environ.get("SMTP_HOST", "localhost")
    port = int(os.environ.get("SMTP_PORT", "1025"))
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.send_message(msg)
    return msg["Message-ID"]
# --8<-- [end:send_mail]


# --8<-- [start:address]
def _any_case(name: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in name)


# EmailStr checks an address with email-validator (no DNS lookup), which also refuses
# the special-use names that never receive mail (.test, .local, .invalid…). A bare
# `format: email` does not say so: the OpenAPI document states the same rule.
SPECIAL_USE = "|".join(_any_case(name) for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)
Address = Annotated[EmailStr, WithJsonSchema({
    "type": "string",
    "format": "email",
    "maxLength": 254,
    "not": {"pattern": rf"@([^@]*\.)?({SPECIAL_USE})$"},
    "description": "A mail address; special-use domains (RFC 6761) are refused.",
})]
# --8<-- [end:address]
