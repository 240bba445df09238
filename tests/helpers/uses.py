"""Real git repositories and a GitHub REST API of our own, for remote `uses:` and fleet tests.

The server speaks the shapes of GitHub's answers: the contents API (raw or base64 JSON), the
commits endpoint with `application/vnd.github.sha` (422 `No commit found` for a bad ref,
404 for an unknown repository), the git database's recursive trees (`tree`, `truncated`) and
blobs (raw, or JSON with base64 `content`), and the rate limit's 403 with its headers. A
repository in `repos` is served from a real git repository, so SHAs and sizes are git's own.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`; its stripped output."""
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env={**os.environ, **GIT_ENV},
    )
    return done.stdout.strip()


def write(root: Path, files: dict[str, str]) -> None:
    """Write dedented `files` under `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def git_repo(root: Path, files: dict[str, str], origin: str | None = None) -> Path:
    """A git repository at `root` with `files` committed on `main` (and an origin URL)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    if origin:
        git(root, "remote", "add", "origin", origin)
    commit(root, files, "initial")
    return root


def commit(root: Path, files: dict[str, str], message: str) -> str:
    """Write `files`, commit them; the new commit's SHA."""
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@dataclass
class ContentsServer:
    """Serves `files[(owner/repo, path, ref)]` as GitHub's contents API does."""

    files: dict[tuple[str, str, str], str] = field(default_factory=dict)
    commits: dict[tuple[str, str], str] = field(default_factory=dict)
    json_answers: bool = False
    """Answer with the JSON object (base64 `content`) instead of the raw file."""
    status: int | None = None
    """Answer every request with this status (401, 403 + rate limit headers, 500)."""
    requests: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    url: str = ""
    repos: dict[str, Path] = field(default_factory=dict)
    """`OWNER/REPO` -> a git repository whose commits, trees and blobs are served."""
    private: set[str] = field(default_factory=set)
    """Repositories that answer 404 unless a token is sent (as GitHub hides private ones)."""
    token: str = ""
    """The token a private repository takes (any token when empty)."""
    truncated: bool = False
    """Recursive trees say `truncated: true` and list only their first entry."""
    delay: float = 0.0
    """Seconds the trees endpoint waits before it answers (a slow API)."""


RATE_LIMITED = {
    "x-ratelimit-limit": "60",
    "x-ratelimit-remaining": "0",
    "x-ratelimit-reset": "1900000000",
    "x-ratelimit-used": "60",
    "x-ratelimit-resource": "core",
}
"""The headers of GitHub's 403 when the primary rate limit is exhausted."""
RATE_LIMIT_BODY = (
    b'{"message": "API rate limit exceeded for 127.0.0.1. (But here\'s the good news: '
    b"Authenticated requests get a higher rate limit. Check out the documentation for more "
    b'details.)", "documentation_url": "https://docs.github.com/rest/overview/'
    b'resources-in-the-rest-api#rate-limiting"}'
)


def _git_bytes(repo: Path, *args: str) -> bytes | None:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, timeout=30, check=False
    )
    return done.stdout if done.returncode == 0 else None


def tree_json(state: ContentsServer, name: str, repo: Path, ref: str) -> dict[str, object] | None:
    """`GET /repos/{o}/{r}/git/trees/{sha}?recursive=1` of a real repository, or None."""
    tree = _git_bytes(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{tree}}")
    listing = _git_bytes(repo, "ls-tree", "-r", "-t", "-l", "-z", ref)
    if tree is None or listing is None:
        return None
    base = f"{state.url}/repos/{name}/git"
    entries: list[dict[str, object]] = []
    for record in listing.decode().split("\0"):
        if not record:
            continue
        head, _, path = record.partition("\t")
        mode, kind, sha, size = head.split()
        entry: dict[str, object] = {"path": path, "mode": mode, "type": kind, "sha": sha}
        if kind == "blob":
            entry["size"] = int(size)
            entry["url"] = f"{base}/blobs/{sha}"
        elif kind == "tree":
            entry["url"] = f"{base}/trees/{sha}"
        entries.append(entry)
    sha = tree.decode().strip()
    return {
        "sha": sha,
        "url": f"{base}/trees/{sha}",
        "tree": entries[:1] if state.truncated else entries,
        "truncated": state.truncated,
    }


def blob_json(state: ContentsServer, name: str, data: bytes, sha: str) -> dict[str, object]:
    """`GET /repos/{o}/{r}/git/blobs/{sha}` as JSON (GitHub's default media type)."""
    return {
        "sha": sha,
        "node_id": "B_kwDOAAAAAA",
        "size": len(data),
        "url": f"{state.url}/repos/{name}/git/blobs/{sha}",
        "content": base64.encodebytes(data).decode(),
        "encoding": "base64",
    }


@contextmanager
def contents_api() -> Iterator[ContentsServer]:
    """A loopback server speaking GitHub's REST shapes (above); yields its state."""
    state = ContentsServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(
            self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _not_found(self) -> None:
            body = b'{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}'
            self._send(404, body, "application/json; charset=utf-8")

        def _commit(self, name: str, repo: Path | None, ref: str) -> None:
            sha = state.commits.get((name, ref))
            if sha is None and repo is not None:
                found = _git_bytes(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
                sha = found.decode().strip() if found else None
            if sha is not None:
                self._send(200, sha.encode(), "application/vnd.github.sha")
            elif repo is None and not any(n == name for n, _ in state.commits):
                self._not_found()
            else:
                body = {
                    "message": f"No commit found for SHA: {ref}",
                    "documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit",
                    "status": "422",
                }
                self._send(422, json.dumps(body).encode(), "application/json; charset=utf-8")

        def _git(
            self, name: str, repo: Path, kind: str, sha: str, query: dict[str, list[str]]
        ) -> None:
            if kind == "trees" and query.get("recursive"):
                time.sleep(state.delay)
                tree = tree_json(state, name, repo, sha)
                if tree is None:
                    self._not_found()
                else:
                    self._send(200, json.dumps(tree).encode(), "application/json; charset=utf-8")
                return
            data = _git_bytes(repo, "cat-file", "blob", sha) if kind == "blobs" else None
            if data is None:
                self._not_found()
            elif "raw" in self.headers.get("Accept", "") and not state.json_answers:
                self._send(200, data, "application/vnd.github.raw")
            else:
                body = json.dumps(blob_json(state, name, data, sha)).encode()
                self._send(200, body, "application/json; charset=utf-8")

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.requests.append(self.path)
            state.authorizations.append(self.headers.get("Authorization"))
            if state.status == 403:
                self._send(403, RATE_LIMIT_BODY, "application/json; charset=utf-8", RATE_LIMITED)
                return
            if state.status is not None:
                self._send(state.status, b'{"message": "Bad credentials"}', "application/json")
                return
            all_segments = unquote(parts.path).split("/")
            # .../repos/{o}/{r}/contents/{path...}, .../repos/{o}/{r}/commits/{ref},
            # .../repos/{o}/{r}/git/trees/{sha}?recursive=1, .../repos/{o}/{r}/git/blobs/{sha}
            segments = all_segments[all_segments.index("repos") - 1 :]
            name = "/".join(segments[2:4])
            repo = state.repos.get(name)
            token = self.headers.get("Authorization")
            if name in state.private and (
                token is None or bool(state.token and token != f"Bearer {state.token}")
            ):
                self._not_found()
                return
            if segments[4] == "commits":
                self._commit(name, repo, segments[5])
                return
            if segments[4] == "git" and repo is not None:
                self._git(name, repo, segments[5], segments[6], parse_qs(parts.query))
                return
            path = "/".join(segments[5:])
            ref = parse_qs(parts.query).get("ref", [""])[0]
            text = state.files.get((name, path, ref))
            if text is None:
                self._send(404, b'{"message": "Not Found"}', "application/json")
            elif state.json_answers:
                body = {
                    "type": "file",
                    "encoding": "base64",
                    "path": path,
                    "content": base64.encodebytes(text.encode()).decode(),
                }
                self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")
            else:
                self._send(200, text.encode(), "application/vnd.github.raw+json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
