"""Which GitHub repository (`OWNER/REPO`) a checkout is.

Lookup order: an explicit `--repo-name`, the contract's `forge.repository`, then the
`origin` remote (https, ssh and scp-like `git@` forms of github.com and GitHub Enterprise).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


def valid_repo_name(name: str) -> bool:
    """True for `OWNER/REPO`."""
    return bool(_NAME.match(name)) and ".." not in name


def parse_remote_url(url: str) -> str | None:
    """`OWNER/REPO` from a git remote URL, or None when it names no repository.

    >>> parse_remote_url("git@github.com:tinyland-inc/ci-templates.git")
    'tinyland-inc/ci-templates'
    >>> parse_remote_url("https://github.com/tinyland-inc/GloriousFlywheel")
    'tinyland-inc/GloriousFlywheel'
    """
    url = url.strip()
    if "://" in url:
        path = urlsplit(url).path
    else:
        match = _SCP.match(url)
        if match is None:
            return None
        path = match["path"]
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) < 2:
        return None
    name = f"{parts[-2]}/{parts[-1].removesuffix('.git')}"
    return name if valid_repo_name(name) else None


def origin_repo_name(repo: Path) -> str | None:
    """`OWNER/REPO` of the checkout's `origin` remote, or None."""
    from harness.gitio import git_output, outside_any_repository  # runs git: only when asked

    if outside_any_repository(repo):
        return None
    url = git_output(repo, "remote", "get-url", "origin")
    return parse_remote_url(url) if url else None


def repo_identity(
    repo: Path, explicit: str | None = None, contract_repository: str | None = None
) -> str | None:
    """The checkout's `OWNER/REPO`: explicit name, the contract's, else the origin remote's."""
    for candidate in (explicit, contract_repository):
        if candidate:
            return candidate
    return origin_repo_name(repo)
