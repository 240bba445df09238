"""A real signed Nix binary cache on loopback, built from a small bundled derivation.

Real Nix builds `loopback.nix` (four store paths that reference each other) into a
scratch store, `nix copy --to file://DIR?secret-key=...` publishes them as binary caches,
and a real nginx serves DIR on a free 127.0.0.1 port. The layout mimics an Attic server:
cache NAME lives at `{url}/{NAME}/`. Published caches:

- `main`     the whole closure of `app`, signed
- `partial`  the closure of `lib` only (2 of app's 4 paths), signed
- `unsigned` the whole closure, without signatures

The embedded default of the Attic cases and the tests use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ToolMissing
from harness.probes.nix import (
    HOST_SANDBOX_PATHS,
    NixError,
    nix_missing_reason,
    run_nix,
    signing_key,
)

NIX_FILE = Path(__file__).with_name("loopback.nix")
KEY_NAME = "flywheel-loopback-1"
TOP = "app"
ATTRS = ("data", "lib", "tool", "app")
PARTIAL_TOP = "lib"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
BUILD_TIMEOUT = 120.0

_NGINX_CONF = """\
{user}worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{ text/x-nix-narinfo narinfo; application/x-nix-nar nar; }}
    default_type application/octet-stream;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        root {docroot};
    }}
}}
"""


def loopback_missing_reason() -> str | None:
    """Why the loopback cache cannot be built here (no Nix, no nginx), or None."""
    reason = nix_missing_reason()
    if reason:
        return reason
    if shutil.which("nginx") is None:
        return "nginx is not installed (Debian: apt-get install nginx)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def closed_port() -> int:
    """A loopback port nothing listens on (for outage cases)."""
    return free_port()


class NginxStatic:
    """A real nginx serving the files under `docroot` on 127.0.0.1 (stop() or `with`)."""

    def __init__(self, docroot: Path, workdir: Path) -> None:
        self.docroot = docroot
        self.workdir = workdir
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, attempts: int = 5) -> NginxStatic:
        """Start nginx on a free port; ToolMissing/RuntimeError when it cannot."""
        nginx = shutil.which("nginx")
        if nginx is None:
            raise ToolMissing("nginx is not installed (Debian: apt-get install nginx)")
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.workdir / "tmp" / name).mkdir(parents=True, exist_ok=True)
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            conf = self.workdir / "nginx.conf"
            user = "user root;\n" if os.geteuid() == 0 else ""
            conf.write_text(_NGINX_CONF.format(user=user, root=self.workdir, port=self.port,
                                               docroot=self.docroot))
            log = self.workdir / "nginx.out"
            with log.open("wb") as out:
                self._proc = subprocess.Popen(
                    [nginx, "-c", str(conf), "-p", str(self.workdir), "-e",
                     str(self.workdir / "error.log")],
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            if self._wait_ready():
                return self
            last = (self.workdir / "error.log").read_text(errors="replace")[-300:] \
                if (self.workdir / "error.log").exists() else log.read_text()[-300:]
            self.stop()
        raise RuntimeError(f"nginx did not start: {last.strip()}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            with contextlib.suppress(OSError), \
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        """Stop nginx (master and workers) and wait for it."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)

    def __enter__(self) -> NginxStatic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class LoopbackCache:
    """A built loopback cache: where it is served and what it holds."""

    root: Path
    url: str
    public_key: str
    secret_key_file: Path
    store: Path
    paths: dict[str, str]
    closure: dict[str, int]
    """every path of app's closure -> NarSize"""
    caches: dict[str, list[str]] = field(default_factory=dict)
    nix_file: Path = NIX_FILE

    def cache_url(self, name: str = "main") -> str:
        """The binary cache URL of a published cache (`{url}/{name}`)."""
        return f"{self.url}/{name}"

    @property
    def top(self) -> str:
        """The top store path (`app`), whose closure is the whole fixture."""
        return self.paths[TOP]


def build_fixture_store(workdir: Path, *, salt: str = "",
                        timeout: float = BUILD_TIMEOUT) -> tuple[Path, dict[str, str]]:
    """Build the bundled derivation into a scratch store under `workdir`; store and outputs."""
    store = workdir / "store"
    settings = {"substituters": "",
                "sandbox-paths": " ".join(p for p in HOST_SANDBOX_PATHS if Path(p).exists())}
    args = ["nix", "build", "--no-link", "--json", "--store", str(store), "-f", str(NIX_FILE)]
    if salt:
        args += ["--argstr", "salt", salt]
    run = run_nix([*args, *ATTRS], settings=settings, cache_home=workdir / "xdg-cache",
                  timeout=timeout)
    try:
        built = json.loads(run.stdout)
        outputs = [item["outputs"]["out"] for item in built]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise NixError(f"nix build printed no usable JSON: {run.stdout[:200]!r}") from None
    by_attr = {attr: next((o for o in outputs if o.endswith(f"-flywheel-{attr}")), "")
               for attr in ATTRS}
    if not all(by_attr.values()):
        raise NixError(f"nix build did not report every fixture output: {outputs}")
    return store, by_attr


def publish(store: Path, paths: list[str], directory: Path, secret_key: Path | None,
            *, cache_home: Path, timeout: float = BUILD_TIMEOUT) -> None:
    """`nix copy` the closure of `paths` from `store` to a file:// binary cache, signed."""
    target = f"file://{directory}?compression=none"
    if secret_key is not None:
        target += f"&secret-key={secret_key}"
    run_nix(["nix", "copy", "--store", str(store), "--to", target, *paths],
            cache_home=cache_home, timeout=timeout)


def build_loopback_cache(workdir: Path, *, salt: str = "",
                         timeout: float = BUILD_TIMEOUT) -> tuple[LoopbackCache, NginxStatic]:
    """Build store, key and caches under `workdir` and start nginx; the caller stops it."""
    reason = loopback_missing_reason()
    if reason:
        raise ToolMissing(reason)
    workdir.mkdir(parents=True, exist_ok=True)
    store, paths = build_fixture_store(workdir, salt=salt, timeout=timeout)
    secret, public = signing_key(workdir / "keys", KEY_NAME)
    cache_home = workdir / "xdg-cache"
    docroot = workdir / "www"
    published = {"main": [paths[TOP]], "partial": [paths[PARTIAL_TOP]],
                 "unsigned": [paths[TOP]]}
    for name, tops in published.items():
        publish(store, tops, docroot / name, None if name == "unsigned" else secret,
                cache_home=cache_home, timeout=timeout)
    infos = run_nix(["nix", "path-info", "-r", "--json", "--store", str(store), paths[TOP]],
                    cache_home=cache_home, timeout=timeout)
    closure = {item["path"]: int(item["narSize"]) for item in json.loads(infos.stdout)}
    caches = {name: sorted(p for p in closure if _in_cache(docroot / name, p))
              for name in published}
    server = NginxStatic(docroot, workdir / "nginx").start()
    cache = LoopbackCache(root=workdir, url=server.url, public_key=public,
                          secret_key_file=secret, store=store, paths=paths, closure=closure,
                          caches=caches)
    return cache, server


def _in_cache(directory: Path, path: str) -> bool:
    digest = path.rsplit("/", 1)[-1].split("-", 1)[0]
    return (directory / f"{digest}.narinfo").is_file()


@contextlib.contextmanager
def loopback_cache(workdir: Path, *, salt: str = "",
                   timeout: float = BUILD_TIMEOUT) -> Iterator[LoopbackCache]:
    """Build and serve a loopback cache for the duration of a `with` block."""
    cache, server = build_loopback_cache(workdir, salt=salt, timeout=timeout)
    try:
        yield cache
    finally:
        server.stop()
