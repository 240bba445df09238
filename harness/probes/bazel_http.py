"""Probes of a Bazel HTTP remote cache (bazel-remote, nginx WebDAV, any `/ac/` + `/cas/` server).

Each probe returns a list of `Step`s: what was asked, whether the answer was right, how
long it took. Credentials in the URL (`https://user:pass@host`) are used for basic auth and
never appear in a step's detail.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.probes.action_result import (
    ActionResult,
    Digest,
    OutputFile,
    ProtoError,
    compare_results,
    decode_action_result,
    encode_action_result,
)
from harness.probes.http_bounds import (
    MAX_ACTION_RESULT_BYTES,
    MAX_ERROR_BODY_BYTES,
    MAX_JSON_BYTES,
    BodyTooLarge,
    bounded_client,
    read_capped,
)
from harness.redact import redact_url as redact

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STATUS_KEYS = ("CurrSize", "MaxSize", "NumFiles")
_STORED = (200, 201, 204)
_AUTH_HINT = " (credentials missing or refused: put user:password@ in the cache URL)"


@dataclass
class Step:
    """One request of a probe and its verdict."""

    name: str
    ok: bool
    detail: str = ""
    seconds: float = 0.0


@dataclass
class ProbeReport:
    """All steps of a probe, plus the server's `/status` when it is bazel-remote."""

    steps: list[Step] = field(default_factory=list)
    status: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when every step got the right answer."""
        return all(step.ok for step in self.steps)

    @property
    def failures(self) -> list[Step]:
        """The steps that went wrong."""
        return [step for step in self.steps if not step.ok]


def make_client(url: str, timeout: float) -> tuple[httpx.Client, str]:
    """An httpx client for the cache and its base URL (no trailing slash, no credentials)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"not an HTTP cache URL: {redact(url)}")
    auth = None
    if parts.username is not None:
        auth = httpx.BasicAuth(parts.username, parts.password or "")
    base = redact(url).rstrip("/")
    return bounded_client(timeout=timeout, auth=auth), base


def _get(
    client: httpx.Client, method: str, url: str, cap: int, what: str, **kwargs: Any
) -> httpx.Response:
    """A request whose answer is read at most `cap` bytes, within the request deadline."""
    return read_capped(client, method, url, cap, what, **kwargs)


def fresh_key() -> str:
    """A random sha256-shaped key that no cache has seen."""
    return hashlib.sha256(os.urandom(32)).hexdigest()


def _timed(report: ProbeReport, name: str, fn: Callable[[], tuple[bool, str]]) -> bool:
    started = time.perf_counter()
    try:
        ok, detail = fn()
    except httpx.TimeoutException:
        ok, detail = False, "no answer within the timeout"
    except httpx.HTTPError as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}".splitlines()[0]
    report.steps.append(Step(name, ok, detail, time.perf_counter() - started))
    return ok


def _status_check(
    client: httpx.Client, base: str, report: ProbeReport
) -> Callable[[], tuple[bool, str]]:
    def run() -> tuple[bool, str]:
        response = _get(client, "GET", f"{base}/status", MAX_JSON_BYTES, "/status")
        if response.status_code != 200:
            return True, f"no bazel-remote /status (HTTP {response.status_code}); generic cache"
        try:
            data = json.loads(response.content)
        except ValueError:
            return True, "/status is not JSON; generic cache"
        if not isinstance(data, dict) or not any(k in data for k in STATUS_KEYS):
            return True, "/status has no bazel-remote fields; generic cache"
        report.status = data
        summary = ", ".join(f"{k}={data.get(k)}" for k in STATUS_KEYS if k in data)
        return True, f"bazel-remote /status: {summary}"

    return run


def first_answer(url: str, seconds: float) -> str | None:
    """Why the cache does not serve a GET of a fresh `/ac/` key within `seconds` (no
    answer, 5xx, 401 or 403), or None when it does (a 404 is the answer of a cache)."""
    client, base = make_client(url, seconds)
    with client:
        try:
            response = _get(
                client,
                "GET",
                f"{base}/ac/{fresh_key()}",
                MAX_ERROR_BODY_BYTES,
                "a miss",
                deadline=seconds,
            )
        except httpx.TimeoutException:
            return f"GET /ac/<fresh key>: no answer within {seconds:g}s"
        except BodyTooLarge:
            return None  # it answers (too much): the probes of BAZEL001/002 say how
        except httpx.HTTPError as exc:
            return f"GET /ac/<fresh key>: {type(exc).__name__}: {exc}".splitlines()[0]
    code = response.status_code
    if code >= 500 or code in (401, 403):
        hint = _AUTH_HINT if code in (401, 403) else ""
        return f"GET /ac/<fresh key> answered HTTP {code}{hint}"
    return None


def probe_answers(url: str, *, timeout: float = 10.0) -> ProbeReport:
    """BAZEL001 over HTTP: the cache answers, misses are clean 404s, the empty blob behaves."""
    report = ProbeReport()
    client, base = make_client(url, timeout)
    with client:
        _timed(report, "GET /status", _status_check(client, base, report))
        if report.steps[-1].detail.startswith(("ConnectError", "no answer")):
            return report

        def miss() -> tuple[bool, str]:
            key = fresh_key()
            response = _get(client, "GET", f"{base}/ac/{key}", MAX_ERROR_BODY_BYTES, "a miss")
            if response.status_code == 404:
                return True, "a miss is a clean 404"
            hint = _AUTH_HINT if response.status_code in (401, 403) else ""
            return False, (
                f"GET /ac/<fresh key> answered HTTP {response.status_code}, "
                f"a miss must be 404{hint}"
            )

        def empty(method: str) -> Callable[[], tuple[bool, str]]:
            def run() -> tuple[bool, str]:
                response = _get(
                    client,
                    method,
                    f"{base}/cas/{EMPTY_SHA256}",
                    MAX_ERROR_BODY_BYTES,
                    "the empty blob",
                )
                code = response.status_code
                if code == 404:
                    return True, "the empty blob is not stored (404); Bazel never asks for it"
                if code == 200:
                    if method == "GET" and response.content:
                        return False, (
                            f"GET of the empty blob returned {len(response.content)} "
                            "bytes; it must return none"
                        )
                    return True, "the empty blob is served empty"
                return False, f"{method} of the empty blob answered HTTP {code}"

            return run

        _timed(report, "GET /ac/<fresh key>", miss)
        _timed(report, "HEAD /cas/<empty>", empty("HEAD"))
        _timed(report, "GET /cas/<empty>", empty("GET"))
    return report


def probe_round_trip(url: str, *, timeout: float = 10.0, size: int = 4096) -> ProbeReport:
    """BAZEL002 over HTTP: a CAS blob and an ActionResult written and read back equal."""
    report = ProbeReport()
    client, base = make_client(url, timeout)
    blob = os.urandom(size)
    stdout = b"flywheel-harness round trip " + os.urandom(8).hex().encode()
    blob_d, stdout_d = Digest.of(blob), Digest.of(stdout)
    with client:

        def put(key: str, data: bytes, kind: str) -> Callable[[], tuple[bool, str]]:
            def run() -> tuple[bool, str]:
                response = _get(
                    client,
                    "PUT",
                    f"{base}/{kind}/{key}",
                    MAX_ERROR_BODY_BYTES,
                    "a PUT answer",
                    content=data,
                )
                if response.status_code in _STORED:
                    return True, f"stored ({response.status_code})"
                hint = _AUTH_HINT if response.status_code in (401, 403) else ""
                return False, f"PUT /{kind}/ answered HTTP {response.status_code}{hint}"

            return run

        def get_equal() -> tuple[bool, str]:
            response = _get(
                client, "GET", f"{base}/cas/{blob_d.hash}", len(blob), f"a {len(blob)}-byte blob"
            )
            if response.status_code != 200:
                return False, f"GET of a blob just written answered HTTP {response.status_code}"
            if response.content != blob:
                return False, (
                    f"GET returned {len(response.content)} bytes that differ from the "
                    f"{len(blob)} written"
                )
            return True, "read back byte-equal"

        def head() -> tuple[bool, str]:
            response = _get(
                client, "HEAD", f"{base}/cas/{blob_d.hash}", MAX_ERROR_BODY_BYTES, "a HEAD answer"
            )
            if response.status_code == 200:
                return True, "present"
            return False, f"HEAD of a blob just written answered HTTP {response.status_code}"

        if not _timed(report, "PUT /cas/<blob>", put(blob_d.hash, blob, "cas")):
            return report
        _timed(report, "GET /cas/<blob>", get_equal)
        _timed(report, "HEAD /cas/<blob>", head)
        _timed(report, "PUT /cas/<stdout>", put(stdout_d.hash, stdout, "cas"))
        sent = ActionResult(
            output_files=(OutputFile("bazel-out/probe/out.bin", blob_d),),
            exit_code=0,
            stdout_digest=stdout_d,
        )
        key = fresh_key()
        if not _timed(report, "PUT /ac/<fresh key>", put(key, encode_action_result(sent), "ac")):
            return report

        def get_ac() -> tuple[bool, str]:
            response = _get(
                client, "GET", f"{base}/ac/{key}", MAX_ACTION_RESULT_BYTES, "an ActionResult"
            )
            if response.status_code != 200:
                return False, (
                    f"GET of an ActionResult just written answered HTTP {response.status_code}"
                )
            try:
                got = decode_action_result(response.content)
            except ProtoError as exc:
                return False, f"the ActionResult read back does not parse: {exc}"
            problems = compare_results(sent, got)
            if problems:
                return False, "the ActionResult read back differs: " + "; ".join(problems)
            return True, "parsed fields equal"

        _timed(report, "GET /ac/<fresh key>", get_ac)
    return report
