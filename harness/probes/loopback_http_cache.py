"""A real nginx with WebDAV on a free loopback port, used as a Bazel HTTP cache.

The embedded default of the Bazel cases starts one when neither the contract
(`caches.bazel.url`) nor `--bazel-cache` names a cache, so a new user sees a real hit
ratio on a laptop. Tests use the same server. `PUT /ac/<sha>` and `PUT /cas/<sha>`
store files under the server's root; `GET` returns them or 404.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.probes.nginx import Nginx, start_nginx

_WEBDAV = """\
        root {data};
        location / {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            client_max_body_size 0;
            client_body_buffer_size 1m;
        }}"""


@dataclass
class LoopbackHttpCache:
    """A running nginx WebDAV server; `url` is its base URL, `data` where blobs land."""

    root: Path
    server: Nginx
    owns_root: bool = False

    @property
    def url(self) -> str:
        """Base URL to pass as `--remote_cache`."""
        return self.server.url

    @property
    def data(self) -> Path:
        """Directory the server stores `ac/` and `cas/` under."""
        return self.root / "data"

    def stop(self) -> None:
        """Stop nginx; remove the root when this cache made it."""
        self.server.stop()
        if self.owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LoopbackHttpCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_cache(root: Path | None = None) -> LoopbackHttpCache:
    """Start a WebDAV cache on a free loopback port (under a temporary root by default).

    ToolMissing without nginx, NginxError when it does not come up.
    """
    owns = root is None
    base = Path(tempfile.mkdtemp(prefix="fh-bazel-cache-")) if root is None else root
    base.mkdir(parents=True, exist_ok=True)
    base = base.resolve()
    (base / "data").mkdir(exist_ok=True)
    try:
        server = start_nginx(base, _WEBDAV.format(data=base / "data"), modules=True)
    except Exception:
        if owns:
            shutil.rmtree(base, ignore_errors=True)
        raise
    return LoopbackHttpCache(base, server, owns_root=owns)


@contextlib.contextmanager
def loopback_cache(root: Path | None = None) -> Iterator[LoopbackHttpCache]:
    """Context manager form of `start_cache`; the server is always stopped on exit."""
    cache = start_cache(root)
    try:
        yield cache
    finally:
        cache.stop()
