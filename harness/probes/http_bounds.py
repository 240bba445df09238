"""Bounds on what an HTTP endpoint can cost the harness: bytes, seconds per request, per case.

A cache that streams forever, announces `Content-Length: 10737418240`, or sends one byte a
second must end in a clear error, never in a MemoryError or an hour-long hang:

- every answer is read streaming with a size cap for its kind (`MAX_*` below); an
  announced Content-Length over the cap is refused before a byte of the body is read;
- every request has a total deadline (connect, headers and body together), not only a
  timeout per read: `bounded_client` gives httpx clients whose sockets know the deadline;
- every case has a total budget (`case_budget`, set by the engine): a request made after
  it is spent, or still running when it runs out, raises `BudgetExceeded` naming the
  endpoint, and the case ends as an error.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from harness.probes.budget import check_budget, local_deadlines, remaining, request_deadline
from harness.redact import redact_url

MAX_CACHE_INFO_BYTES = 64 * 1024
"""Largest `nix-cache-info` read (a real one is under 100 bytes)."""
MAX_NARINFO_BYTES = 1024 * 1024
"""Largest narinfo read (a real one is under 4 KiB, even with many references)."""
MAX_JSON_BYTES = 16 * 1024 * 1024
"""Largest JSON answer read (Attic's API, bazel-remote's /status)."""
MAX_ACTION_RESULT_BYTES = 16 * 1024 * 1024
"""Largest Bazel ActionResult read from `/ac/`."""
MAX_ERROR_BODY_BYTES = 64 * 1024
"""Largest body of an answer that is not the one asked for (404, 3xx, 5xx) read."""
MAX_NAR_BYTES = 16 * 1024 * 1024 * 1024
"""Largest NAR downloaded (and hashed, never kept): also the cap without a FileSize."""
REQUEST_DEADLINE = 60.0
"""Seconds one request may take in total, connect to last byte (a NAR gets more by size)."""
NAR_BYTES_PER_SECOND = 1024 * 1024
"""The slowest NAR download still waited for: the deadline grows by size / this rate."""


class BodyTooLarge(httpx.HTTPError):
    """An answer announced or sent more bytes than its kind may have (`status`: its HTTP status)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Stream(httpcore.NetworkStream):
    """A socket stream whose every read and write respects the current deadlines."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self._inner.read(max_bytes, remaining(timeout, httpcore.ReadTimeout))
        except httpcore.TimeoutException:
            check_budget()  # the wait was cut short by the case's budget: say so
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            self._inner.write(buffer, remaining(timeout, httpcore.WriteTimeout))
        except httpcore.TimeoutException:
            check_budget()
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._inner.start_tls(
                ssl_context, server_hostname, remaining(timeout, httpcore.ConnectTimeout)
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._inner.connect_tcp(
                host,
                port,
                remaining(timeout, httpcore.ConnectTimeout),
                local_address,
                socket_options,
            )
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._inner.connect_unix_socket(
                path, remaining(timeout, httpcore.ConnectTimeout), socket_options
            )
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's transport on the deadline-aware backend; each request gets its deadline."""

    def __init__(self, *, limits: httpx.Limits, deadline: float) -> None:
        super().__init__(limits=limits)
        self._deadline = deadline
        # the same pool httpx builds, on a backend whose sockets know the deadlines
        self._pool = httpcore.ConnectionPool(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        local_deadlines.endpoint = redact_url(str(request.url))
        if local_deadlines.request is None:  # the body is read under the same deadline
            local_deadlines.request = time.monotonic() + self._deadline
            try:
                return super().handle_request(request)
            finally:
                local_deadlines.request = None
        return super().handle_request(request)


def bounded_client(
    *,
    timeout: float,
    deadline: float = REQUEST_DEADLINE,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
    follow_redirects: bool = False,
    max_connections: int | None = None,
    trust_env: bool = False,
) -> httpx.Client:
    """An httpx client whose requests end within `deadline` seconds each, and the case's budget.

    The request deadline covers the headers; wrap the reading of a streamed body in
    `request_deadline` to bound it too (`read_capped` does it for you). With `trust_env`,
    requests through a proxy from the environment keep the size caps but only the
    per-read timeout.
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return httpx.Client(
        headers=headers,
        auth=auth,
        timeout=httpx.Timeout(timeout),
        follow_redirects=follow_redirects,
        trust_env=trust_env,
        transport=_Transport(limits=limits, deadline=deadline),
    )


def check_announced(response: httpx.Response, cap: int, what: str) -> None:
    """BodyTooLarge when the answer announces more than `cap` bytes."""
    announced = response.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > cap:
        raise BodyTooLarge(
            f"{redact_url(str(response.request.url))} announces {announced} "
            f"bytes, over the {cap}-byte limit for {what}",
            response.status_code,
        )


def read_capped(
    client: httpx.Client,
    method: str,
    url: str,
    cap: int,
    what: str,
    *,
    deadline: float = REQUEST_DEADLINE,
    **kwargs: Any,
) -> httpx.Response:
    """One request whose body is read streaming, at most `cap` bytes, within `deadline`.

    An answer that is not 2xx gets at most `MAX_ERROR_BODY_BYTES`. Returns a complete,
    already-read response; BodyTooLarge (an httpx.HTTPError) when the body is too big.
    """
    with request_deadline(deadline), client.stream(method, url, **kwargs) as response:
        limit = cap if response.is_success else min(cap, MAX_ERROR_BODY_BYTES)
        check_announced(response, limit, what)
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(
                    f"{redact_url(url)} sent more than {limit} bytes, the limit for {what}",
                    response.status_code,
                )
            chunks.append(chunk)
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DECODED_AWAY]
    return httpx.Response(
        response.status_code, headers=headers, content=b"".join(chunks), request=response.request
    )


_DECODED_AWAY = frozenset({"content-encoding", "content-length", "transfer-encoding"})
