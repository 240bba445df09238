"""Shared test fixtures: real-tool requirements and fixture repositories.

Tests that need Nix, Bazel or nginx ask for them with `require_tool`. Where the tool is
missing they skip with the reason; with `CI` set a missing tool means `.ci/run` is broken,
so they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.probes.loopback_cache import LoopbackCache, build_loopback_cache

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


def in_ci() -> bool:
    """True when running under CI (`CI` set to anything but empty/false/0)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require_tool(name: str, reason: str | None = None) -> str:
    """Path of `name` on PATH; skip (locally) or fail (in CI) when it is missing."""
    path = shutil.which(name)
    if path:
        return path
    message = reason or f"{name} is not installed (install it as .ci/run does)"
    if in_ci():
        pytest.fail(f"{message}: .ci/run should have installed it", pytrace=False)
    pytest.skip(message)


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when a precondition of the test environment is missing."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason}: .ci/run should have provided it", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _no_real_github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Remote `uses:` in test repositories never reach api.github.com, a real token or the
    user's cache: the API URL refuses connections and the cache is the session's own."""
    keys = ("GITHUB_API_URL", "XDG_CACHE_HOME", "GITHUB_TOKEN")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["GITHUB_API_URL"] = "http://127.0.0.1:9"
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ.pop("GITHUB_TOKEN", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def lb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCache]:
    """A real signed binary cache (real Nix, real nginx) shared read-only by a test worker."""
    require_tool("nix")
    require_tool("nginx")
    cache, server = build_loopback_cache(tmp_path_factory.mktemp("loopback"))
    try:
        yield cache
    finally:
        server.stop()
