"""`OWNER/REPO[/PATH]@REF`: the remote reference of a reusable workflow or an action."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from harness.github.identity import valid_repo_name

_SHA = re.compile(r"^[0-9a-f]{40}$")
_REF = re.compile(r"^[A-Za-z0-9_./+-]{1,255}$")


def is_full_sha(ref: str) -> bool:
    """True for a full 40-hex commit SHA (such references never move)."""
    return bool(_SHA.match(ref))


@dataclass(frozen=True)
class UsesRef:
    """A parsed remote reference; `path` is "" for an action at the repository's root."""

    owner: str
    repo: str
    path: str
    ref: str

    @property
    def name(self) -> str:
        """`OWNER/REPO`."""
        return f"{self.owner}/{self.repo}"

    @property
    def display(self) -> str:
        """`OWNER/REPO/PATH@REF`, as findings name a remote file."""
        where = f"{self.name}/{self.path}" if self.path else self.name
        return f"{where}@{self.ref}"

    def at(self, path: str) -> UsesRef:
        """The same repository and ref, another path."""
        return UsesRef(self.owner, self.repo, path.strip("/"), self.ref)


@lru_cache(maxsize=4096)
def parse_uses(uses: str | None) -> UsesRef | None:
    """The remote reference in a `uses:` value, or None (local `./`, `docker://`, malformed).

    >>> parse_uses("tinyland-inc/ci-templates/.github/actions/setup-nix@v3").path
    '.github/actions/setup-nix'
    """
    if not uses or uses.startswith(("./", "docker://", "/")) or "@" not in uses:
        return None
    where, ref = uses.strip().rsplit("@", 1)
    parts = [p for p in where.split("/") if p]
    if len(parts) < 2 or not _REF.match(ref) or ".." in ref:
        return None
    if not valid_repo_name(f"{parts[0]}/{parts[1]}") or any(p in (".", "..") for p in parts):
        return None
    return UsesRef(parts[0], parts[1], "/".join(parts[2:]), ref)  # immutable: shared by callers
