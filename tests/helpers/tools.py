"""Real-tool requirements of the tests.

Tests that need Nix, Bazel or nginx ask for them with `require_tool` (and carry the matching
`needs_*` marker). Where the tool is missing they skip with the reason; with `CI` set a
missing tool means `.ci/run` is broken, so they fail instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

TOOL_MARKERS: dict[str, str] = {
    "nix": "needs_nix",
    "nix-instantiate": "needs_nix",
    "nix-store": "needs_nix",
    "nginx": "needs_nginx",
    "bazel": "needs_bazel",
}
"""Tool -> the marker a test that runs it must carry (declared in pyproject.toml)."""

_running: list[pytest.Item] = []


def set_running(item: pytest.Item | None) -> None:
    """Record the test being run (conftest.py calls this), so requirements can name it."""
    _running[:] = [item] if item is not None else []


def require_marker(marker: str, item: pytest.Item | None = None) -> None:
    """Fail the running test (or `item`) unless it carries `marker`: marks drive the skips."""
    node = item or (_running[0] if _running else None)
    if node is not None and node.get_closest_marker(marker) is None:
        pytest.fail(
            f"{node.nodeid} needs what `{marker}` stands for: mark it @pytest.mark.{marker}",
            pytrace=False,
        )


def in_ci() -> bool:
    """True when running under CI (`CI` set to anything but empty/false/0)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require_tool(name: str, reason: str | None = None) -> str:
    """Path of `name` on PATH; skip (locally) or fail (in CI) when it is missing.

    The running test must carry the tool's marker (`TOOL_MARKERS`), checked first.
    """
    if name in TOOL_MARKERS:
        require_marker(TOOL_MARKERS[name])
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
