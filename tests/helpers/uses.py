"""Real git repositories and a GitHub contents API of our own, for remote `uses:` tests."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import textwrap
import threading
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


@contextmanager
def contents_api() -> Iterator[ContentsServer]:
    """A loopback server speaking the contents API's shapes; yields its state."""
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

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            state.requests.append(self.path)
            state.authorizations.append(self.headers.get("Authorization"))
            if state.status == 403:
                self._send(
                    403,
                    b'{"message": "API rate limit exceeded"}',
                    "application/json",
                    {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1900000000"},
                )
                return
            if state.status is not None:
                self._send(state.status, b'{"message": "Bad credentials"}', "application/json")
                return
            all_segments = unquote(parts.path).split("/")
            # .../repos/{o}/{r}/contents/{path...} or .../repos/{o}/{r}/commits/{ref}
            segments = all_segments[all_segments.index("repos") - 1 :]
            name = "/".join(segments[2:4])
            if segments[4] == "commits":
                sha = state.commits.get((name, segments[5]))
                if sha is None:
                    self._send(422, b'{"message": "No commit found"}', "application/json")
                else:
                    self._send(200, sha.encode(), "application/vnd.github.sha")
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
