"""examples/celery/mailer.py: one real mail over SMTP, and the errors a task may retry on."""

import smtplib
import uuid

import mailer
import pytest

from support.waiting import free_port


def address() -> str:
    return f"mailer-{uuid.uuid4().hex[:8]}@example.com"


def test_send_mail_delivers_and_returns_the_message_id(stack):
    to = address()
    message_id = mailer.send_mail(to, "Subject line", "Body line")
    [mail] = stack.smtp.wait_for(to)
    assert mail["Message-ID"] == message_id
    assert message_id.endswith("@interview-guide>")
    assert (mail["From"], mail["To"], mail["Subject"]) == ("guide@example.com", to, "Subject line")
    assert mail.get_content().splitlines() == ["Body line"]


def test_the_sender_comes_from_the_environment(stack, monkeypatch):
    monkeypatch.setenv("MAIL_FROM", "noreply@example.org")
    to = address()
    mailer.send_mail(to, "s", "b")
    assert stack.smtp.wait_for(to)[0]["From"] == "noreply@example.org"


def test_a_refusal_raises_an_smtp_error(stack):
    to = address()
    with stack.smtp.refusing(1), pytest.raises(smtplib.SMTPDataError) as refused:
        mailer.send_mail(to, "s", "b")
    assert refused.value.smtp_code == 451
    assert stack.smtp.to(to) == []


def test_no_server_raises_an_os_error(stack, monkeypatch):
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nothing listens there
    with pytest.raises(ConnectionRefusedError):
        mailer.send_mail(address(), "s", "b")
