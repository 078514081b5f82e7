"""A TCP server that accepts connections and never answers: the worst broker there is."""

import socket
import threading

from .waiting import free_port


class BlackHole:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()  # a given port: where a Redis was a moment ago
        self._sock = socket.create_server(("127.0.0.1", self.port))
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def _accept(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self._conns.append(conn)  # keep it open, read nothing, say nothing

    def __enter__(self) -> "BlackHole":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._conns:
            conn.close()
        self._sock.close()
