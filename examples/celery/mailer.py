"""Sending one mail over real SMTP (Mailpit in the sandbox, aiosmtpd in the tests)."""

import os
import smtplib
from email.message import EmailMessage


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
