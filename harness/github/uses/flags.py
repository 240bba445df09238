"""The remote-uses options as users write them: `--repo-name`, `--uses-source OWNER/REPO=DIR`
(repeatable), `--uses-ttl`, `--github-api URL`, `--offline`. Declared in the option table
(harness/options.py), which calls these parsers for both front doors."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from harness.errors import HarnessInputError
from harness.github.identity import valid_repo_name

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_repo_name(value: str | None) -> str | None:
    """`--repo-name`: OWNER/REPO or bad input."""
    if value is not None and not valid_repo_name(value):
        raise HarnessInputError(f"--repo-name must be OWNER/REPO, got {value!r}")
    return value


def parse_sources(values: Iterable[str]) -> tuple[tuple[str, Path], ...]:
    """`--uses-source OWNER/REPO=DIR` values; each DIR must be a directory."""
    out = []
    for value in values:
        name, sep, directory = value.partition("=")
        if not sep or not valid_repo_name(name) or not directory:
            raise HarnessInputError(f"--uses-source must be OWNER/REPO=DIR, got {value!r}")
        path = Path(directory).expanduser()
        if not path.is_dir():
            raise HarnessInputError(f"--uses-source {name}: {directory} is not a directory")
        out.append((name, path.resolve()))
    return tuple(out)


def parse_ttl(value: str | float | None) -> float:
    """`--uses-ttl`: seconds, or a number with s, m, h or d (default one hour)."""
    if value is None:
        return 3600.0
    match = _DURATION.match(str(value).strip())
    if match is None:
        raise HarnessInputError(
            f"--uses-ttl must be seconds or a duration such as 30m, 1h or 2d, got {value!r}"
        )
    return float(match[1]) * _UNITS[match[2]]


def parse_api(value: str | None) -> str | None:
    """`--github-api`: an http(s) URL."""
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise HarnessInputError(f"--github-api must start with http:// or https://, got {value!r}")
    return value.rstrip("/") if value else None
