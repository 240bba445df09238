"""Where the Bazel cases get their cache, workspace, targets and scratch space from.

Cache: `--bazel-cache` (Options.bazel_cache), else the contract's `caches.bazel.url`, else
the embedded default: a loopback nginx WebDAV cache started for the case. A cache named by
`--bazel-cache` is a demand (`require_named`, see harness.demand): when it does not serve,
BAZEL001 fails once and every other Bazel case skips. Workspace:
the case's `workspace` parameter (relative to the repository), else the contract's
`caches.bazel.workspace`, else the bundled sample workspace.
"""

from __future__ import annotations

import contextlib
import shutil
import stat
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.checks.api import CheckContext, Skip
from harness.demand import FIRST_CONTACT_SECONDS
from harness.errors import HarnessInputError, ToolMissing
from harness.probes.bazel_run import (
    SHORT_BUILD_JVM,
    Bazel,
    BazelError,
    bazel_binary,
    copy_workspace,
)
from harness.redact import redact_url
from harness.urls import BAZEL, require_scheme

SAMPLE_WORKSPACE = Path(__file__).resolve().parent.parent / "data" / "bazel_sample"
SAMPLE_TARGETS = ("//:report",)
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class CacheTarget:
    """The cache a case talks to and where that choice came from."""

    url: str
    source: str  # "option", "contract" or "embedded"

    @property
    def scheme(self) -> str:
        """`http`, `https`, `grpc` or `grpcs`."""
        return self.url.split("://", 1)[0].lower()

    @property
    def is_grpc(self) -> bool:
        """True for grpc:// and grpcs:// caches."""
        return self.scheme in ("grpc", "grpcs")


def configured_url(ctx: CheckContext) -> tuple[str | None, str]:
    """The cache URL from the options or the contract, and which one named it."""
    if ctx.options.bazel_cache:
        return ctx.options.bazel_cache, "option"
    if ctx.contract.bazel is not None and ctx.contract.bazel.url:
        return ctx.contract.bazel.url, "contract"
    return None, "embedded"


_GRPC_DOWN = ("no answer", "UNAVAILABLE", "UNAUTHENTICATED", "PERMISSION_DENIED")
"""How a gRPC probe step that means "does not serve" begins."""


def first_contact(cache: CacheTarget, seconds: float) -> str | None:
    """Why the cache does not serve the first request Bazel makes, or None when it does.

    HTTP: a GET of a fresh `/ac/` key gets no answer, a 5xx, 401 or 403 (a 404 serves).
    gRPC: the health check or GetCapabilities gets no answer, UNAVAILABLE,
    UNAUTHENTICATED or PERMISSION_DENIED (without the grpc extra nothing is known: None).
    """
    if cache.is_grpc:
        try:
            from harness.probes.bazel_grpc import probe_answers
        except ImportError:
            return None
        steps = probe_answers(cache.url, timeout=seconds).steps
        down = [s for s in steps if not s.ok and s.detail.startswith(_GRPC_DOWN)]
        return f"{down[0].name}: {down[0].detail}" if down else None
    from harness.probes.bazel_http import first_answer

    return first_answer(cache.url, seconds)


def require_named(ctx: CheckContext) -> None:
    """When `--bazel-cache` names the cache: EndpointDown (BAZEL001) unless it serves,
    asked once per run within `FIRST_CONTACT_SECONDS`."""
    url = ctx.options.bazel_cache
    if not url:
        return
    require_scheme(url, BAZEL, "--bazel-cache")
    cache = CacheTarget(url, "option")
    ctx.demands.require(
        "BAZEL001",
        f"Bazel cache {redact_url(url)}",
        lambda: first_contact(cache, FIRST_CONTACT_SECONDS),
    )


@contextlib.contextmanager
def cache_for(ctx: CheckContext) -> Iterator[CacheTarget]:
    """The configured cache, or a loopback nginx cache that lives as long as the block
    (EndpointDown when the named cache does not serve)."""
    require_named(ctx)
    url, source = configured_url(ctx)
    if url is not None:
        require_scheme(url, BAZEL, f"the Bazel cache URL (from the {source})")
        yield CacheTarget(url, source)
        return
    from harness.probes.loopback_http_cache import start_cache
    from harness.probes.nginx import NginxError

    try:
        cache = start_cache()
    except (NginxError, ToolMissing) as exc:
        raise Skip(
            f"no Bazel cache configured and the embedded loopback cache cannot start: {exc}",
            live=True,
        ) from None
    try:
        yield CacheTarget(cache.url, "embedded")
    finally:
        cache.stop()


def float_param(params: Mapping[str, Any], name: str, default: float) -> float:
    """A numeric case parameter; HarnessInputError when it is not a number."""
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HarnessInputError(f"parameter {name!r} must be a number, got {value!r}")
    return float(value)


def str_list_param(params: Mapping[str, Any], name: str) -> list[str]:
    """A list-of-strings case parameter (a single string is a list of one)."""
    value = params.get(name, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HarnessInputError(f"parameter {name!r} must be a list of strings")
    return list(value)


@dataclass
class BuildSetup:
    """A Bazel ready to build one workspace, with scratch space that is removed after."""

    bazel: Bazel
    workspace: Path
    targets: list[str]
    flags: list[str]
    scratch: Path
    bundled: bool
    timeout: float


def _rmtree(path: Path) -> None:
    def retry(func: Any, target: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            for item in (Path(target).parent, Path(target)):
                item.chmod(item.stat().st_mode | stat.S_IWUSR)
            func(target)

    shutil.rmtree(path, onerror=retry)


@contextlib.contextmanager
def build_setup(ctx: CheckContext, params: Mapping[str, Any], case: str) -> Iterator[BuildSetup]:
    """Resolve workspace and targets, make a private output root; Skip when Bazel is missing."""
    if bazel_binary() is None:
        raise Skip("bazel is not installed (apt-get install bazel-bootstrap)", live=True)
    contract = ctx.contract.bazel
    raw_ws = params.get("workspace") or (contract.workspace if contract else None)
    targets = str_list_param(params, "targets") or (list(contract.targets) if contract else [])
    flags = str_list_param(params, "flags")
    timeout = float_param(params, "timeout", DEFAULT_TIMEOUT)
    scratch = ctx.artifacts_dir() / "bazel" / f"{case}-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    try:
        if raw_ws:
            workspace = Path(str(raw_ws))
            workspace = workspace if workspace.is_absolute() else ctx.repo / workspace
            if (
                not (workspace / "WORKSPACE").exists()
                and not (workspace / "WORKSPACE.bazel").exists()
                and not (workspace / "MODULE.bazel").exists()
            ):
                raise HarnessInputError(
                    f"bazel workspace {raw_ws!r} has no WORKSPACE or MODULE.bazel"
                )
            bundled = False
            targets = targets or ["//..."]
        else:
            workspace = copy_workspace(SAMPLE_WORKSPACE, scratch / "workspace")
            bundled = True
            targets = targets or list(SAMPLE_TARGETS)
        try:
            bazel = Bazel(scratch / "out", startup_flags=SHORT_BUILD_JVM if bundled else ())
        except BazelError as exc:
            raise Skip(str(exc), live=True) from None
        yield BuildSetup(bazel, workspace, targets, flags, scratch, bundled, timeout)
    finally:
        _rmtree(scratch / "out")
        if (scratch / "workspace").exists():
            _rmtree(scratch / "workspace")
