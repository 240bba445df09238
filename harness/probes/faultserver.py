"""A fault-injecting HTTP/1.1 server on 127.0.0.1:0: broken caches for checks and tests.

Routes map a request path to a `Reply`; each reply can carry a fault:

- `ok`         answer normally
- `refuse`     close the connection without answering (the client sees a reset)
- `500`        answer `500 Internal Server Error`
- `slow`       accept and never answer (until the server stops), so client timeouts fire
- `truncate`   announce the full Content-Length, send half of the body, close
- `malformed`  answer 200 with a body that is not what the client asked for
- `endless`    answer 200 without a length and stream the body (repeated) until stopped
- `huge`       announce `Content-Length: 10737418240`, then stream like `endless`
- `slowloris`  send the status line, headers and body one byte every `SLOWLORIS_INTERVAL`
               seconds (a timeout per read never fires), until stopped

A redirect loop needs no fault: `Reply(302, headers={"Location": "/same/path"})`.

A route with a `handler` computes its reply from the request (method, path, headers,
body). The server is threaded, keeps connections alive, and `stop()` (or leaving the
`with` block) wakes slow handlers and closes everything. For a port that refuses
connections outright use `refused_url()`.

An HTTP/2 client (gRPC) gets the fault of the default route too: `refuse` closes,
`slow` never answers, anything else is answered `500` in HTTP/1.1 and closed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from harness.probes.ports import closed_port

FAULTS = ("ok", "refuse", "500", "slow", "truncate", "malformed", "endless", "huge", "slowloris")
MALFORMED_BODY = b"\x00this is not what you asked for\xff\n{{{"
SLOW_LIMIT = 120.0
HUGE_LENGTH = 10 * 1024**3
SLOWLORIS_INTERVAL = 0.2
STREAM_CHUNK = 64 * 1024
_HTTP2_PREFACE = b"PRI * HTTP/2.0"
_RAW_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 13\r\nConnection: close\r\n\r\ncache is down"
)


@dataclass(frozen=True)
class Request:
    """What the client sent."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Reply:
    """What the server answers (before the fault is applied)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    fault: str = "ok"

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r} (one of {', '.join(FAULTS)})")


Handler = Callable[[Request], Reply]
NOT_FOUND = Reply(404, b"not found\n", {"Content-Type": "text/plain"})


class FaultServer:
    """Serves `routes` (path -> Reply or handler) with faults; `default` for other paths."""

    def __init__(
        self,
        routes: Mapping[str, Reply | Handler] | None = None,
        default: Reply | Handler = NOT_FOUND,
    ) -> None:
        self.routes: dict[str, Reply | Handler] = dict(routes or {})
        self.default = default
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @classmethod
    def from_directory(
        cls,
        root: Path,
        faults: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FaultServer:
        """Serve the files under `root` as `/relative/path`, with `faults` per path."""
        faults = dict(faults or {})
        routes: dict[str, Reply | Handler] = {}
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            path = "/" + file.relative_to(root).as_posix()
            routes[path] = Reply(
                200, file.read_bytes(), dict(headers or {}), faults.get(path, "ok")
            )
        return cls(routes)

    @property
    def port(self) -> int:
        """The port the server is bound to."""
        port: int = self._httpd.server_address[1]
        return port

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    def set(self, path: str, reply: Reply | Handler) -> None:
        """Replace the reply of one route (thread-safe)."""
        with self._lock:
            self.routes[path] = reply

    def start(self) -> Self:
        """Serve in a background thread (once; starting again is a no-op)."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake slow handlers, stop serving and close the socket."""
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _reply_for(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            route = self.routes.get(request.path.split("?", 1)[0], self.default)
        return route(request) if callable(route) else route

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            raw_requestline: bytes

            def log_message(self, format: str, *args: object) -> None:
                return

            def parse_request(self) -> bool:
                if not self.raw_requestline.startswith(_HTTP2_PREFACE):
                    return super().parse_request()
                fault = server._reply_for(Request("PRI", "*", {}, b"")).fault
                self.close_connection = True
                if fault == "slow":
                    server._stop.wait(SLOW_LIMIT)
                elif fault != "refuse":
                    with contextlib.suppress(OSError):
                        self.wfile.write(_RAW_500)
                return False

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path, dict(self.headers.items()), body)
                reply = server._reply_for(request)
                fault = reply.fault
                if fault == "refuse":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "slow":
                    server._stop.wait(SLOW_LIMIT)
                    self.close_connection = True
                    return
                if fault in ("endless", "huge", "slowloris"):
                    self._hostile(fault, reply)
                    return
                status, payload = reply.status, reply.body
                if fault == "500":
                    status, payload = 500, b"internal server error\n"
                elif fault == "malformed":
                    status, payload = 200, MALFORMED_BODY
                self.send_response(status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                if fault == "truncate":
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command == "HEAD":
                    return
                if fault == "truncate":
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(payload)

            def _hostile(self, fault: str, reply: Reply) -> None:
                """Stream without end (or one byte at a time) until the client or `stop()` quits."""
                self.close_connection = True
                head = [
                    f"HTTP/1.1 {reply.status} OK\r\n",
                    *(f"{k}: {v}\r\n" for k, v in reply.headers.items()),
                    f"Content-Length: {HUGE_LENGTH}\r\n" if fault == "huge" else "",
                    "Connection: close\r\n\r\n",
                ]
                body = reply.body or b"x" * 1024
                try:
                    if fault == "slowloris":
                        for byte in "".join(head).encode() + body * 1000:
                            if server._stop.wait(SLOWLORIS_INTERVAL):
                                return
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        return
                    self.wfile.write("".join(head).encode())
                    chunk = (body * (STREAM_CHUNK // len(body) + 1))[:STREAM_CHUNK]
                    while not server._stop.is_set():
                        self.wfile.write(chunk)
                except OSError:  # the client gave up: that is the point
                    return

            do_GET = do_POST = do_HEAD = do_PUT = _serve

        return _Handler


def refused_url() -> str:
    """A loopback URL whose port nothing listens on: connections are refused."""
    return f"http://127.0.0.1:{closed_port()}"
