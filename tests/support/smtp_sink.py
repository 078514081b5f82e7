"""A real SMTP server (aiosmtpd) that keeps what it receives, and can refuse on demand."""

import contextlib
import threading
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from .waiting import free_port, wait_until


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            if self.sink.refuse > 0:
                self.sink.refuse -= 1
                self.sink.refused += 1
                return "451 4.3.0 try again later"
            self.sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SmtpSink:
    def __init__(self):
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.refuse = 0  # how many of the next messages to refuse with a 451
        self.refused = 0
        self.lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.refuse = self.refused = 0

    @contextlib.contextmanager
    def refusing(self, count: int = 10**6) -> Iterator[Callable[[], int]]:
        """Refuse the next `count` messages (default: all) with a 451 inside the block.

        Yields a function that says how many were refused since the block began;
        the server accepts again when the block ends.
        """
        with self.lock:
            before, self.refuse = self.refused, count
        try:
            yield lambda: self.refused - before
        finally:
            with self.lock:
                self.refuse = 0

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        return wait_until(
            lambda: len(self.to(address)) >= count and self.to(address),
            timeout,
            f"{count} mail(s) to {address}",
        )
