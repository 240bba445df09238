"""HTTP/1.1 pipelined GETs on one keep-alive connection, for many small narinfo requests.

Asking for 2,000 narinfos one request at a time spends most of its time in the Python
HTTP client, not on the wire (see PERF-FACTS). Pipelining keeps up to `window` requests
in flight on one connection and reads the answers in order with a minimal parser.
Anything this parser does not expect (no Content-Length, a closed connection, a
malformed status line) raises `PipelineUnsupported` with the answers read so far; the
caller asks for the rest with its ordinary client.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.probes.budget import check_budget, socket_timeout

RECV = 1 << 16


@dataclass(frozen=True)
class Answer:
    """One pipelined answer: status and body."""

    status: int
    body: bytes


class PipelineUnsupported(Exception):
    """The server's answers cannot be read pipelined; `done` holds those read so far."""

    def __init__(self, reason: str, done: list[Answer]) -> None:
        super().__init__(reason)
        self.done = done


def _connect(url: str, timeout: float | None) -> tuple[socket.socket, str, str]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "127.0.0.1"
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if parts.scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return sock, host_header, parts.path.rstrip("/")


class _Reader:
    def __init__(self, sock: socket.socket, timeout: float, max_body: int) -> None:
        self.sock = sock
        self.timeout = timeout
        self.max_body = max_body
        self.buf = bytearray()

    def fill(self) -> None:
        self.sock.settimeout(socket_timeout(self.timeout))
        try:
            chunk = self.sock.recv(RECV)
        except TimeoutError:
            check_budget()  # the wait was cut short by the case's budget: say so
            raise
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def answer(self) -> Answer:
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self.fill()
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[: end + 4]
        status_line = head[0].split(" ", 2)
        if (
            len(status_line) < 2
            or not status_line[0].startswith("HTTP/1.")
            or not status_line[1].isdigit()
        ):
            raise ValueError(f"bad status line {head[0][:60]!r}")
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection" and value.strip().lower() == "close":
                raise ValueError("server closes the connection")
            elif name == "transfer-encoding":
                raise ValueError("chunked answers are not read pipelined")
        if length is None:
            raise ValueError("answer without Content-Length")
        if length > self.max_body:
            raise ValueError(
                f"an answer announces {length} bytes, over the {self.max_body}-byte limit"
            )
        while len(self.buf) < length:
            self.fill()
        body = bytes(self.buf[:length])
        del self.buf[:length]
        return Answer(int(status_line[1]), body)


def pipelined_get(
    base_url: str,
    paths: Sequence[str],
    headers: Mapping[str, str],
    *,
    timeout: float,
    max_body: int,
    window: int = 64,
) -> list[Answer]:
    """GET `base_url + path` for every path, in order, pipelined on one connection.

    Each read waits at most `timeout` (and the current deadlines, see `http_bounds`); an
    answer announcing more than `max_body` bytes ends the pipeline.
    """
    done: list[Answer] = []
    try:
        sock, host, prefix = _connect(base_url, socket_timeout(timeout))
    except OSError as exc:
        raise PipelineUnsupported(f"connect: {exc}", done) from None
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    requests = [f"GET {prefix}{p} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode() for p in paths]
    reader = _Reader(sock, timeout, max_body)
    sent = 0
    try:
        with sock:
            while len(done) < len(requests):
                if sent < len(requests) and sent - len(done) <= window // 2:
                    upto = min(len(requests), len(done) + window)
                    sock.sendall(b"".join(requests[sent:upto]))
                    sent = upto
                done.append(reader.answer())
    except (OSError, ValueError) as exc:
        raise PipelineUnsupported(str(exc), done) from None
    return done
