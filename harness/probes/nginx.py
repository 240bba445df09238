"""The one launcher of a real nginx on a free 127.0.0.1 port (loopback Nix and Bazel caches).

`start_nginx(workdir, server)` writes `workdir/nginx.conf` around a `server { ... }` body,
starts nginx in its own process group and waits until the port accepts connections. A
port taken between choosing and binding is retried on another port. `stop()` ends the
whole process group (master and workers): SIGTERM, then SIGKILL after a bound.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from harness.errors import HarnessEnvironmentError, ToolMissing
from harness.probes.ports import free_port

MODULES_ENABLED = Path("/etc/nginx/modules-enabled")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
INSTALL_HINT = "nginx is not installed (Debian: apt-get install nginx)"

_CONF = """\
{modules}{user}worker_processes 1;
daemon off;
master_process on;
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
    keepalive_requests 1000000;
    keepalive_timeout 60s;
{http}
    server {{
        listen 127.0.0.1:{port};
{server}
    }}
}}
"""


class NginxError(HarnessEnvironmentError):
    """nginx is installed but did not come up."""


def nginx_binary() -> str | None:
    """Path of the nginx executable, if installed (also looks in /usr/sbin, /usr/local/sbin)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


class Nginx:
    """A running nginx; `url` is `http://127.0.0.1:PORT`. Stop it with stop() or `with`."""

    def __init__(self, root: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.root = root
        self.port = port
        self._process: subprocess.Popen[bytes] | None = process

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """End master and workers (SIGTERM, SIGKILL after STOP_TIMEOUT); idempotent."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)

    def __enter__(self) -> Nginx:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return True
        time.sleep(0.02)
    return False


def _last_error(root: Path) -> str:
    text = ""
    for name in ("nginx.out", "error.log"):
        with contextlib.suppress(OSError):
            text += (root / name).read_text(errors="replace")
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no output"


def start_nginx(
    root: Path, server: str, *, http: str = "", modules: bool = False, attempts: int = 5
) -> Nginx:
    """Start nginx with `server` (directives inside `server {}`) under `root`.

    `http` adds directives to the `http {}` block; `modules` loads the distribution's
    dynamic modules (WebDAV extensions). ToolMissing without nginx, NginxError when it
    does not come up.
    """
    binary = nginx_binary()
    if binary is None:
        raise ToolMissing(INSTALL_HINT)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / "tmp" / name).mkdir(parents=True, exist_ok=True)
    include = f"include {MODULES_ENABLED}/*.conf;\n" if modules and MODULES_ENABLED.is_dir() else ""
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = root / "nginx.conf"
    for _ in range(attempts):
        port = free_port()
        conf.write_text(
            _CONF.format(
                modules=include, user=user, root=root, port=port, http=http, server=server
            ),
            encoding="utf-8",
        )
        with (root / "nginx.out").open("wb") as out:
            process = subprocess.Popen(
                [binary, "-c", str(conf), "-e", str(root / "error.log")],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started = Nginx(root, port, process)
        if _wait_listening(port, process):
            return started
        started.stop()
    raise NginxError(f"nginx did not start on loopback: {_last_error(root)}")
