"""Loopback stand-ins for a broken cache, used to prove builds survive a cache outage.

Modes:
- `refuse`: nothing listens on the port, so connections are refused;
- `http500`: every request is answered `500 Internal Server Error`;
- `hang`: connections are accepted and never answered.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

MODES = ("refuse", "http500", "hang")
_500 = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 13\r\nConnection: close\r\n\r\ncache is down")


@dataclass
class OutageServer:
    """A broken cache on 127.0.0.1; `url` is what to pass as `--remote_cache`."""

    mode: str
    port: int
    _sock: socket.socket | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _conns: list[socket.socket] = field(default_factory=list)
    requests: int = 0

    @property
    def url(self) -> str:
        """Base URL of the broken cache."""
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.requests += 1
            if self.mode == "hang":
                self._conns.append(conn)  # keep it open, never answer
                continue
            worker = threading.Thread(target=self._answer_500, args=(conn,), daemon=True)
            worker.start()

    @staticmethod
    def _answer_500(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(_500)

    def stop(self) -> None:
        """Close the listening socket and every held connection."""
        self._stop.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()
        for thread in self._threads:
            thread.join(timeout=5)


def start_outage(mode: str) -> OutageServer:
    """Start a broken cache in `mode` (one of MODES)."""
    if mode not in MODES:
        raise ValueError(f"unknown outage mode {mode!r}; expected one of {', '.join(MODES)}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    if mode == "refuse":
        sock.close()  # the port was free a moment ago and nothing listens on it now
        return OutageServer(mode, port)
    sock.listen(128)
    server = OutageServer(mode, port, sock)
    thread = threading.Thread(target=server._serve, daemon=True)
    server._threads.append(thread)
    thread.start()
    return server


@contextlib.contextmanager
def outage(mode: str) -> Iterator[OutageServer]:
    """Context manager form of `start_outage`."""
    server = start_outage(mode)
    try:
        yield server
    finally:
        server.stop()
