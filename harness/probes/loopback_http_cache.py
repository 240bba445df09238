"""A real nginx with WebDAV on a free loopback port, used as a Bazel HTTP cache.

The embedded default of the Bazel cases starts one when neither the contract
(`caches.bazel.url`) nor `--bazel-cache` names a cache, so a new user sees a real hit
ratio on a laptop. Tests use the same server. `PUT /ac/<sha>` and `PUT /cas/<sha>`
store files under the server's root; `GET` returns them or 404.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MODULES_ENABLED = Path("/etc/nginx/modules-enabled")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

_CONFIG = """\
{modules}
user root;
worker_processes 1;
daemon off;
master_process on;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/data;
        location / {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            client_max_body_size 0;
            client_body_buffer_size 1m;
        }}
    }}
}}
"""


class CacheServerError(RuntimeError):
    """nginx is missing or did not come up."""


def nginx_binary() -> str | None:
    """Path of the nginx executable, if installed (also looks in /usr/sbin)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass
class LoopbackHttpCache:
    """A running nginx WebDAV server; `url` is its base URL, `data` where blobs land."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    owns_root: bool = False
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """Base URL to pass as `--remote_cache`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def data(self) -> Path:
        """Directory the server stores `ac/` and `cas/` under."""
        return self.root / "data"

    def stop(self) -> None:
        """Graceful shutdown (SIGQUIT), then SIGTERM and SIGKILL if it lingers."""
        if self._stopped:
            return
        self._stopped = True
        for sig, wait in ((signal.SIGQUIT, STOP_TIMEOUT), (signal.SIGTERM, 3.0)):
            if self.process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=wait)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LoopbackHttpCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_config(root: Path, port: int) -> Path:
    """Write nginx.conf for a WebDAV cache under `root`, listening on 127.0.0.1:`port`."""
    for sub in ("data", "tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    modules = f"include {MODULES_ENABLED}/*.conf;" if MODULES_ENABLED.is_dir() else ""
    conf = root / "nginx.conf"
    conf.write_text(_CONFIG.format(modules=modules, root=root, port=port), encoding="utf-8")
    return conf


def start_cache(root: Path | None = None, *, attempts: int = 3) -> LoopbackHttpCache:
    """Start nginx on a free loopback port; CacheServerError when it cannot."""
    binary = nginx_binary()
    if binary is None:
        raise CacheServerError("nginx is not installed (apt-get install nginx "
                               "libnginx-mod-http-dav-ext)")
    owns = root is None
    base = Path(tempfile.mkdtemp(prefix="fh-bazel-cache-")) if root is None else root
    base.mkdir(parents=True, exist_ok=True)
    base = base.resolve()
    last_error = ""
    for _ in range(attempts):
        port = free_port()
        conf = write_config(base, port)
        log = base / "stderr.log"
        with log.open("wb") as err:
            proc = subprocess.Popen([binary, "-c", str(conf)], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True, env={**os.environ})
        if _wait_listening(port, proc, time.monotonic() + START_TIMEOUT):
            return LoopbackHttpCache(base, port, proc, owns_root=owns)
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        errlog = base / "error.log"
        last_error = (log.read_text(errors="replace") +
                      (errlog.read_text(errors="replace") if errlog.exists() else "")).strip()
    if owns:
        shutil.rmtree(base, ignore_errors=True)
    lines = last_error.splitlines()
    detail = lines[-1] if lines else "no output"
    raise CacheServerError(f"nginx did not start on loopback: {detail}")


@contextlib.contextmanager
def loopback_cache(root: Path | None = None) -> Iterator[LoopbackHttpCache]:
    """Context manager form of `start_cache`; the server is always stopped on exit."""
    cache = start_cache(root)
    try:
        yield cache
    finally:
        cache.stop()
