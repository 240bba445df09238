"""HTTP client for a Nix binary cache, with Attic's API where the server is Attic.

Every request has a timeout; connect errors and 5xx answers are retried a bounded number
of times; a read timeout is not retried (a server that never answers would only multiply
the wait). Many narinfo lookups go HTTP/1.1-pipelined on one connection (`_pipeline`);
the rest run on a few threads, each with one keep-alive sync client: on loopback both
beat an `AsyncClient` pool by a wide margin (see PERF-FACTS).
The token is sent as a bearer header and never appears in any message.
"""

from __future__ import annotations

import hashlib
import threading
import time
import urllib.request
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.errors import HarnessEnvironmentError
from harness.probes._pipeline import PipelineUnsupported, pipelined_get
from harness.probes.budget import request_deadline
from harness.probes.http_bounds import (
    MAX_CACHE_INFO_BYTES,
    MAX_JSON_BYTES,
    MAX_NAR_BYTES,
    MAX_NARINFO_BYTES,
    NAR_BYTES_PER_SECOND,
    REQUEST_DEADLINE,
    BodyTooLarge,
    bounded_client,
    check_announced,
    read_capped,
)
from harness.probes.narinfo import (
    NarInfo,
    NarInfoError,
    nix32_encode,
    normalise_hash,
    parse_narinfo,
)

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 2
RETRY_BACKOFF = 0.1
ATTIC_HEADER = "x-attic-cache-visibility"
MISSING_PATHS_BATCH = 1000
PIPELINE_MIN = 16


class CacheError(HarnessEnvironmentError):
    """The cache could not be asked (connection refused, timeout) or answered oddly.

    `status` is the HTTP status when the server did answer, None when it did not.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthError(CacheError):
    """The cache answered 401 or 403."""


@dataclass(frozen=True)
class CacheInfo:
    """`nix-cache-info` and what the answer says about the server."""

    store_dir: str | None
    priority: int | None
    want_mass_query: bool
    latency: float
    is_attic: bool
    fields: dict[str, str] = field(default_factory=dict)


class Presence(StrEnum):
    """What the cache said about one store path."""

    HIT = "hit"
    MISS = "miss"  # 404
    AUTH = "auth"  # 401/403: a finding, never a miss
    ERROR = "error"  # timeout, refused, 5xx after retries, malformed narinfo


@dataclass
class Lookup:
    """The answer for one narinfo."""

    hash_part: str
    presence: Presence
    latency: float = 0.0
    info: NarInfo | None = None
    error: str = ""
    status: int | None = None


class CacheClient:
    """A binary cache at `base_url`, or Attic cache `cache` under an Attic server's URL."""

    def __init__(
        self,
        base_url: str,
        cache: str | None = None,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        workers: int = 4,
        pipeline: bool = True,
        deadline: float = REQUEST_DEADLINE,
    ) -> None:
        self.server = base_url.rstrip("/")
        self.cache = cache
        self.url = f"{self.server}/{cache}" if cache else self.server
        self.timeout = timeout
        self.deadline = deadline
        self.retries = retries
        self.workers = max(1, workers)
        self.pipeline = pipeline and not _behind_proxy(self.url)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------
    def _client(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = bounded_client(
                headers=self._headers,
                timeout=self.timeout,
                deadline=self.deadline,
                follow_redirects=True,
                max_connections=1,
                trust_env=True,
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        """Close every connection this client opened."""
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()

    def __enter__(self) -> CacheClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, url: str, cap: int, what: str, **kwargs: Any) -> httpx.Response:
        """One request with bounded retries on connect errors and 5xx; CacheError otherwise.

        The body is read streaming, at most `cap` bytes (`what` names the kind in the
        error), within the client's total deadline per request.
        """
        last, status = "", None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(RETRY_BACKOFF * attempt)
            try:
                response = read_capped(
                    self._client(), method, url, cap, what, deadline=self.deadline, **kwargs
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                last, status = f"{type(exc).__name__}: {exc or 'connection failed'}", None
                continue
            except httpx.TimeoutException:
                raise CacheError(
                    f"{method} {url}: no answer within {self.timeout:g}s per "
                    f"read, {self.deadline:g}s in total"
                ) from None
            except BodyTooLarge as exc:
                raise CacheError(f"{method} {exc}", exc.status) from None
            except httpx.HTTPError as exc:
                raise CacheError(f"{method} {url}: {type(exc).__name__}: {exc}") from None
            if response.status_code >= 500:
                last, status = f"HTTP {response.status_code}", response.status_code
                continue
            return response
        raise CacheError(f"{method} {url}: {last} (after {self.retries + 1} attempts)", status)

    # -- binary cache protocol --------------------------------------------------------
    def cache_info(self) -> CacheInfo:
        """GET `nix-cache-info`; CacheError when it does not answer 200 with key/value lines."""
        started = time.perf_counter()
        response = self.request(
            "GET", f"{self.url}/nix-cache-info", MAX_CACHE_INFO_BYTES, "nix-cache-info"
        )
        latency = time.perf_counter() - started
        if response.status_code in (401, 403):
            raise AuthError(
                f"{self.url}/nix-cache-info answered {response.status_code}", response.status_code
            )
        if response.status_code != 200:
            raise CacheError(
                f"{self.url}/nix-cache-info answered HTTP {response.status_code}",
                response.status_code,
            )
        fields: dict[str, str] = {}
        for line in response.text.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if "StoreDir" not in fields:
            raise CacheError(
                f"{self.url}/nix-cache-info has no StoreDir line (is this a Nix binary cache?)",
                response.status_code,
            )
        priority = fields.get("Priority")
        return CacheInfo(
            store_dir=fields.get("StoreDir"),
            priority=int(priority) if priority and priority.isdigit() else None,
            want_mass_query=fields.get("WantMassQuery") == "1",
            latency=latency,
            is_attic=ATTIC_HEADER in response.headers,
            fields=fields,
        )

    def narinfo(self, hash_part: str) -> Lookup:
        """GET one `<hash>.narinfo`: a hit with its parsed narinfo, a miss, auth or error."""
        url = f"{self.url}/{hash_part}.narinfo"
        started = time.perf_counter()
        try:
            response = self.request("GET", url, MAX_NARINFO_BYTES, "a narinfo")
        except CacheError as exc:
            return Lookup(hash_part, Presence.ERROR, time.perf_counter() - started, error=str(exc))
        return self._lookup(
            hash_part, url, response.status_code, response.text, time.perf_counter() - started
        )

    def _lookup(self, hash_part: str, url: str, status: int, text: str, latency: float) -> Lookup:
        if status == 404:
            return Lookup(hash_part, Presence.MISS, latency, status=status)
        if status in (401, 403):
            return Lookup(
                hash_part, Presence.AUTH, latency, status=status, error=f"{url} answered {status}"
            )
        if status != 200:
            return Lookup(
                hash_part,
                Presence.ERROR,
                latency,
                status=status,
                error=f"{url} answered HTTP {status}",
            )
        try:
            info = parse_narinfo(text, url)
        except NarInfoError as exc:
            return Lookup(
                hash_part, Presence.ERROR, latency, status=status, error=f"malformed narinfo: {exc}"
            )
        return Lookup(hash_part, Presence.HIT, latency, info=info, status=status)

    def narinfos(self, hash_parts: Sequence[str]) -> list[Lookup]:
        """Look up many narinfos, in order.

        Many lookups go pipelined on one connection (latency is then the amortised time
        per answer); what that cannot read, and 5xx answers, are asked again one by one
        on `workers` threads with bounded retries.
        """
        hash_parts = list(hash_parts)
        if not self.pipeline or len(hash_parts) < PIPELINE_MIN:
            return self._narinfos_each(hash_parts)
        started = time.perf_counter()
        failure = ""
        try:
            with request_deadline(self.deadline):
                answers = pipelined_get(
                    self.url,
                    [f"/{h}.narinfo" for h in hash_parts],
                    self._headers,
                    timeout=self.timeout,
                    max_body=MAX_NARINFO_BYTES,
                )
        except PipelineUnsupported as exc:
            answers, failure = exc.done, str(exc)
        per = (time.perf_counter() - started) / max(1, len(answers))
        results: list[Lookup | None] = []
        for hash_part, answer in zip(hash_parts, answers, strict=False):
            if answer.status >= 500:
                results.append(None)
                continue
            results.append(
                self._lookup(
                    hash_part,
                    f"{self.url}/{hash_part}.narinfo",
                    answer.status,
                    answer.body.decode("utf-8", "replace"),
                    per,
                )
            )
        rest = hash_parts[len(answers) :]
        if rest and "timed out" in failure:
            results.append(
                Lookup(
                    rest[0],
                    Presence.ERROR,
                    self.timeout,
                    error=f"GET {self.url}/{rest[0]}.narinfo: no answer within {self.timeout:g}s",
                )
            )
            rest = rest[1:]
        results.extend([None] * len(rest))
        again = [h for h, r in zip(hash_parts, results, strict=True) if r is None]
        redone = iter(self._narinfos_each(again))
        return [r if r is not None else next(redone) for r in results]

    def _narinfos_each(self, hash_parts: list[str]) -> list[Lookup]:
        if self.workers == 1 or len(hash_parts) < 8:
            return [self.narinfo(h) for h in hash_parts]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(self.narinfo, hash_parts))

    def fetch_nar(self, info: NarInfo) -> tuple[int, str | None]:
        """Download a NAR file in full (following redirects); its size and a problem or None.

        The body is hashed as it streams, never kept: at most `FileSize` bytes (else
        `MAX_NAR_BYTES`) are read, within a deadline that grows with the size. A body
        shorter or longer than `FileSize` or with the wrong `FileHash` is the problem.
        """
        url = info.url if "://" in info.url else f"{self.url}/{info.url}"
        digest = hashlib.sha256()
        size = 0
        cap = min(info.file_size, MAX_NAR_BYTES) if info.file_size is not None else MAX_NAR_BYTES
        deadline = self.deadline + cap / NAR_BYTES_PER_SECOND
        try:
            with request_deadline(deadline), self._client().stream("GET", url) as response:
                if response.status_code != 200:
                    return 0, f"{url} answered HTTP {response.status_code}"
                check_announced(response, cap, "this NAR (its narinfo's FileSize)")
                for chunk in response.iter_bytes():
                    digest.update(chunk)
                    size += len(chunk)
                    if size > cap:
                        return size, (
                            f"{url}: sent more than {cap} bytes, the narinfo's "
                            f"FileSize (or the {MAX_NAR_BYTES}-byte limit)"
                        )
        except BodyTooLarge as exc:
            return size, str(exc)
        except httpx.TimeoutException:
            return size, (
                f"{url}: body stalled after {size} bytes (timeout {self.timeout:g}s "
                f"per read, {deadline:g}s in total)"
            )
        except httpx.HTTPError as exc:
            return size, f"{url}: body broken after {size} bytes ({type(exc).__name__})"
        if info.file_size is not None and size != info.file_size:
            return size, f"{url}: got {size} bytes, narinfo says FileSize {info.file_size}"
        if info.file_hash:
            try:
                expected = normalise_hash(info.file_hash)
            except NarInfoError as exc:
                return size, f"{url}: {exc}"
            got = f"sha256:{nix32_encode(digest.digest())}"
            if expected.startswith("sha256:") and got != expected:
                return size, f"{url}: FileHash mismatch (got {got}, narinfo says {expected})"
        return size, None

    # -- Attic API --------------------------------------------------------------------
    def attic_cache_config(self) -> dict[str, Any] | None:
        """Attic's `GET /_api/v1/cache-config/{cache}`, or None when the server is not Attic."""
        if not self.cache:
            return None
        try:
            response = self.request(
                "GET",
                f"{self.server}/_api/v1/cache-config/{self.cache}",
                MAX_JSON_BYTES,
                "Attic's cache config",
            )
        except CacheError:
            return None
        if response.status_code != 200:
            return None
        try:
            data = response.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def attic_missing(
        self, hash_parts: Iterable[str], batch: int = MISSING_PATHS_BATCH
    ) -> set[str]:
        """Which hashes the Attic cache lacks (`POST /_api/v1/get-missing-paths`, batched).

        AuthError on 401/403 (the token may not push); CacheError when the answer has
        the wrong shape.
        """
        if not self.cache:
            raise CacheError("get-missing-paths needs an Attic cache name")
        hashes = list(hash_parts)
        missing: set[str] = set()
        url = f"{self.server}/_api/v1/get-missing-paths"
        for start in range(0, len(hashes), batch):
            chunk = hashes[start : start + batch]
            response = self.request(
                "POST",
                url,
                MAX_JSON_BYTES,
                "get-missing-paths",
                json={"cache": self.cache, "store_path_hashes": chunk},
            )
            if response.status_code in (401, 403):
                raise AuthError(f"{url} answered {response.status_code}", response.status_code)
            if response.status_code != 200:
                raise CacheError(f"{url} answered HTTP {response.status_code}")
            try:
                data = response.json()
            except ValueError:
                raise CacheError(f"{url} answered no JSON") from None
            paths = data.get("missing_paths") if isinstance(data, dict) else None
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise CacheError(f"{url}: answer has no list 'missing_paths'")
            missing.update(p.rsplit("/", 1)[-1].split("-", 1)[0] for p in paths)
        return missing


def _behind_proxy(url: str) -> bool:
    """True when the environment routes `url` through a proxy (pipelining talks direct)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if parts.scheme not in proxies and "all" not in proxies:
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")
