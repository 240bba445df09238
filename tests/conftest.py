"""Shared fixtures and hooks. Helpers tests import live in `tests.helpers`, not here."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.probes.loopback_cache import LoopbackCache, build_loopback_cache
from tests.helpers.tools import require_marker, require_tool, set_running


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember the running test, so `require_tool` can check its markers."""
    set_running(item)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Forget the test that ran."""
    set_running(None)


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
def loopback_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCache]:
    """A real signed binary cache (real Nix, real nginx) shared read-only by a test worker."""
    require_tool("nix")
    require_tool("nginx")
    cache, server = build_loopback_cache(tmp_path_factory.mktemp("loopback"))
    try:
        yield cache
    finally:
        server.stop()


@pytest.fixture
def lb(request: pytest.FixtureRequest) -> LoopbackCache:
    """The worker's loopback cache, for a test marked `needs_nix` and `needs_nginx`."""
    require_marker("needs_nix", request.node)
    require_marker("needs_nginx", request.node)
    cache: LoopbackCache = request.getfixturevalue("loopback_cache")
    return cache
