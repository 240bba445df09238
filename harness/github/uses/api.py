"""GitHub's REST API client of the remote-uses sources: one file of a repository at a ref.

`GET {api}/repos/{owner}/{repo}/contents/{path}?ref={ref}` with the raw media type
(`application/vnd.github.raw+json`); a server that answers with the JSON object instead
(base64 `content`) is understood too. The commit a tag or branch points at comes from
`GET {api}/repos/{owner}/{repo}/commits/{ref}` with `application/vnd.github.sha`. The
fleet's whole-tree reads (`harness.github.uses.apitree`) send their requests through the
same client (`ContentsApi.get`).

Every request has a timeout and a size cap; 5xx answers and dropped connections are retried
a few times; a 403/429 with `x-ratelimit-remaining: 0` is "rate limited" with the reset time.
The token (`GITHUB_TOKEN`) is sent as a bearer token and never appears in a message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from harness.github.uses.failures import ApiFailure, file_failure, repo_failure
from harness.github.uses.ref import UsesRef, is_full_sha
from harness.safe_read import MAX_WORKFLOW_BYTES

if TYPE_CHECKING:
    import httpx

DEFAULT_API = "https://api.github.com"
RAW = "application/vnd.github.raw+json"
TIMEOUT = 10.0
"""Seconds one request may take."""
RETRIES = 2
"""Extra attempts after a 5xx answer or a dropped connection."""
MAX_BODY = MAX_WORKFLOW_BYTES * 4 // 3 + 4096
"""Largest answer read (a base64 JSON answer is a third larger than the file)."""


def default_api_url() -> str:
    """`$GITHUB_API_URL` (set on GitHub's runners, also for Enterprise), else api.github.com."""
    return (os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")


@dataclass
class ContentsApi:
    """A client of the contents API at `url` (GitHub Enterprise: `https://HOST/api/v3`)."""

    url: str = field(default_factory=default_api_url)
    token: str | None = field(
        default_factory=lambda: os.environ.get("GITHUB_TOKEN") or None, repr=False
    )
    timeout: float = TIMEOUT
    retries: int = RETRIES
    requests: int = 0
    """Requests sent so far (what a second, cached run must keep at zero)."""
    _client: httpx.Client | None = field(default=None, repr=False)
    _commits: dict[tuple[str, str], str | None] = field(default_factory=dict, repr=False)
    _down: str | None = field(default=None, repr=False)
    """Set once the API could not be reached: later requests fail at once, not after retries."""

    def __getstate__(self) -> dict[str, Any]:
        """Picklable for a process pool: the connection stays behind, a new one is opened."""
        state = dict(self.__dict__)
        state["_client"] = None
        return state

    def fetch(self, ref: UsesRef) -> tuple[str, str | None]:
        """The file's text and the commit `ref.ref` names (None when that is not known)."""
        path = quote(ref.path, safe="/")
        url = f"{self.repo_url(ref.name)}/contents/{path}"
        status, headers, body = self.get(url, {"ref": ref.ref}, RAW)
        if status != 200:
            raise file_failure(ref, status, headers)
        text = _file_text(ref, headers.get("content-type", ""), body)
        return text, self.commit(ref)

    def repo_url(self, name: str) -> str:
        """`{api}/repos/OWNER/REPO`."""
        return f"{self.url.rstrip('/')}/repos/{name}"

    def commit(self, ref: UsesRef) -> str | None:
        """The commit SHA a ref names (asked once per repository and ref), None when the API
        does not say."""
        if is_full_sha(ref.ref):
            return ref.ref
        key = (ref.name.lower(), ref.ref)
        if key not in self._commits:
            try:
                self._commits[key] = self.resolve_commit(ref.name, ref.ref)
            except ApiFailure:
                self._commits[key] = None
        return self._commits[key]

    def resolve_commit(self, name: str, ref: str) -> str:
        """The full commit SHA `ref` (a tag, a branch or a SHA) names in repository `name`;
        ApiFailure saying why not (no such repository or ref, rate limited, ...)."""
        url = f"{self.repo_url(name)}/commits/{quote(ref, safe='')}"
        status, headers, body = self.get(url, {}, "application/vnd.github.sha")
        if status != 200:
            raise repo_failure(name, ref, status, headers, bool(self.token))
        sha = body.decode("ascii", "replace").strip()
        if not is_full_sha(sha):
            raise ApiFailure("error", f"the GitHub API named no commit for {name}@{ref}")
        return sha

    def get(
        self, url: str, params: dict[str, str], accept: str, cap: int = MAX_BODY
    ) -> tuple[int, dict[str, str], bytes]:
        """One GET (retried on 5xx and dropped connections): status, lower-case headers and
        a body of at most `cap` bytes (ApiFailure `too-large` beyond it)."""
        import httpx

        from harness.probes.budget import request_deadline_passed

        if self._down is not None:
            raise ApiFailure("error", self._down)
        if self._client is None:  # every request ends within a total deadline too
            from harness.probes.http_bounds import bounded_client

            self._client = bounded_client(timeout=self.timeout, trust_env=True)
        headers = {
            "Accept": accept,
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "flywheel-harness",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(0.2 * attempt)
            self.requests += 1
            try:
                with self._client.stream("GET", url, params=params, headers=headers) as answer:
                    body = _capped(answer, cap)
                    if answer.status_code >= 500:
                        last = f"HTTP {answer.status_code}"
                        continue
                    return (
                        answer.status_code,
                        {k.lower(): v for k, v in answer.headers.items()},
                        body,
                    )
            except httpx.HTTPError as exc:
                if request_deadline_passed():  # the caller's time limit, not a dead API
                    raise ApiFailure(
                        "timeout", "the time limit of the GitHub API reads passed"
                    ) from None
                last = type(exc).__name__
        message = f"the GitHub API at {self.url} failed after {self.retries + 1} attempts ({last})"
        if not last.startswith("HTTP"):
            self._down = message
        raise ApiFailure("error", message)


def _capped(answer: httpx.Response, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise ApiFailure("too-large", f"the answer is over {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def is_json(content_type: str) -> bool:
    """True for GitHub's JSON object (not its raw media type)."""
    return "json" in content_type and "raw" not in content_type


def json_content(body: bytes, what: str) -> bytes:
    """The bytes of a contents or blob JSON object's base64 `content` (`what` names the
    file in the message when it is a directory)."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise ApiFailure("error", "the GitHub API answered malformed JSON") from None
    if isinstance(data, list) or (isinstance(data, dict) and data.get("type") == "dir"):
        raise ApiFailure("not-found", f"{what} is a directory")
    if (
        not isinstance(data, dict)
        or data.get("encoding") != "base64"
        or not isinstance(data.get("content"), str)
    ):
        raise ApiFailure("error", "the GitHub API answered JSON without base64 `content`")
    try:
        return base64.b64decode(data["content"])
    except (binascii.Error, ValueError):
        raise ApiFailure("error", "the GitHub API answered invalid base64") from None


def _file_text(ref: UsesRef, content_type: str, body: bytes) -> str:
    """The file from a raw answer, or from the JSON object's base64 `content`."""
    if is_json(content_type):
        body = json_content(body, f"{ref.path} in {ref.name} at {ref.ref}")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiFailure("error", f"{ref.display} is not UTF-8 text") from None
