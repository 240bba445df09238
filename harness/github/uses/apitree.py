"""A repository's files at a commit through GitHub's git database API.

- the commit: `GET {api}/repos/{o}/{r}/commits/{ref}` (`application/vnd.github.sha`), as
  for remote `uses:`;
- the listing: `GET {api}/repos/{o}/{r}/git/trees/{commit}?recursive=1`, one answer of at
  most 100,000 entries and 7 MB (GitHub's limits); `truncated: true` means GitHub left
  entries out, and the listing is refused rather than read in part;
- each file: `GET {api}/repos/{o}/{r}/git/blobs/{sha}` with the raw media type (a JSON
  answer with base64 `content` is understood too), read up to the size the listing gave.

Every request goes through the remote-uses client (`ContentsApi.get`): its timeout, retries,
rate-limit messages and token handling.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from harness.github.uses.api import RAW, ContentsApi, is_json, json_content
from harness.github.uses.failures import ApiFailure, repo_failure
from harness.github.uses.ref import is_full_sha
from harness.github.uses.tree import MAX_TREE_ENTRIES, REGULAR_MODES, TreeEntry

TREE_JSON = "application/vnd.github+json"
MAX_TREE_BODY = 8 << 20
"""Largest listing read (GitHub stops a recursive tree at 7 MB)."""


@dataclass
class GitHubTree:
    """Repository `name` (`OWNER/REPO`) through the API client `api`."""

    api: ContentsApi
    name: str

    def commit(self, ref: str) -> str:
        """The commit SHA of a tag, a branch or a SHA (the commits endpoint)."""
        return self.api.resolve_commit(self.name, ref)

    def entries(self, commit: str) -> list[TreeEntry]:
        """The commit's regular files, from one recursive trees answer."""
        url = f"{self.api.repo_url(self.name)}/git/trees/{commit}"
        try:
            status, headers, body = self.api.get(url, {"recursive": "1"}, TREE_JSON, MAX_TREE_BODY)
        except ApiFailure as exc:
            if exc.kind != "too-large":
                raise
            raise ApiFailure(
                "too-large", f"the file list of {self.name} is over {MAX_TREE_BODY} bytes"
            ) from None
        if status != 200:
            raise repo_failure(self.name, commit[:12], status, headers, bool(self.api.token))
        try:
            data: Any = json.loads(body)
        except ValueError:
            raise ApiFailure("error", "the GitHub API answered malformed JSON") from None
        tree = data.get("tree") if isinstance(data, dict) else None
        if not isinstance(tree, list):
            raise ApiFailure("error", "the GitHub API answered a tree without `tree`")
        if data.get("truncated") is True or len(tree) > MAX_TREE_ENTRIES:
            raise ApiFailure(
                "too-large",
                f"the file list of {self.name} at {commit[:12]} is truncated (GitHub lists at "
                f"most {MAX_TREE_ENTRIES} entries, 7 MB): give a local clone with "
                f"--uses-source {self.name}=DIR",
            )
        return [entry for item in tree if (entry := _entry(item)) is not None]

    def read(self, entries: Sequence[TreeEntry]) -> Iterator[tuple[TreeEntry, bytes]]:
        """Each blob, one request each, at most its listed size."""
        for entry in entries:
            url = f"{self.api.repo_url(self.name)}/git/blobs/{entry.blob}"
            cap = entry.size * 4 // 3 + 4096  # a base64 JSON answer is a third larger
            status, headers, body = self.api.get(url, {}, RAW, cap)
            if status != 200:
                raise repo_failure(self.name, entry.path, status, headers, bool(self.api.token))
            if is_json(headers.get("content-type", "")):
                body = json_content(body, entry.path)
            if len(body) > entry.size:
                raise ApiFailure("too-large", f"{entry.path} is larger than its listed size")
            yield entry, body


def _entry(item: Any) -> TreeEntry | None:
    """A listing item that is a regular file, else None (trees, links, submodules)."""
    if not isinstance(item, dict) or item.get("type") != "blob":
        return None
    path, size, sha = item.get("path"), item.get("size"), item.get("sha")
    if item.get("mode") not in REGULAR_MODES or not isinstance(path, str):
        return None
    if not isinstance(size, int) or size < 0 or not isinstance(sha, str) or not is_full_sha(sha):
        return None
    return TreeEntry(path, size, sha)
