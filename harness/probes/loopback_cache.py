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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ToolMissing
from harness.probes.nginx import INSTALL_HINT, Nginx, nginx_binary, start_nginx
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
BUILD_TIMEOUT = 120.0

_STATIC = """\
        root {docroot};
        types {{ text/x-nix-narinfo narinfo; application/x-nix-nar nar; }}
        default_type application/octet-stream;"""


def loopback_missing_reason() -> str | None:
    """Why the loopback cache cannot be built here (no Nix, no nginx), or None."""
    reason = nix_missing_reason()
    if reason:
        return reason
    if nginx_binary() is None:
        return INSTALL_HINT
    return None


def serve_directory(docroot: Path, workdir: Path) -> Nginx:
    """A real nginx serving the files under `docroot` on 127.0.0.1; the caller stops it."""
    workdir.mkdir(parents=True, exist_ok=True)
    return start_nginx(workdir, _STATIC.format(docroot=docroot))


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


def build_fixture_store(
    workdir: Path, *, salt: str = "", timeout: float = BUILD_TIMEOUT
) -> tuple[Path, dict[str, str]]:
    """Build the bundled derivation into a scratch store under `workdir`; store and outputs."""
    store = workdir / "store"
    settings = {
        "substituters": "",
        "sandbox-paths": " ".join(p for p in HOST_SANDBOX_PATHS if Path(p).exists()),
    }
    args = ["nix", "build", "--no-link", "--json", "--store", str(store), "-f", str(NIX_FILE)]
    if salt:
        args += ["--argstr", "salt", salt]
    run = run_nix(
        [*args, *ATTRS], settings=settings, cache_home=workdir / "xdg-cache", timeout=timeout
    )
    try:
        built = json.loads(run.stdout)
        outputs = [item["outputs"]["out"] for item in built]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise NixError(f"nix build printed no usable JSON: {run.stdout[:200]!r}") from None
    by_attr = {
        attr: next((o for o in outputs if o.endswith(f"-flywheel-{attr}")), "") for attr in ATTRS
    }
    if not all(by_attr.values()):
        raise NixError(f"nix build did not report every fixture output: {outputs}")
    return store, by_attr


def publish(
    store: Path,
    paths: list[str],
    directory: Path,
    secret_key: Path | None,
    *,
    cache_home: Path,
    timeout: float = BUILD_TIMEOUT,
) -> None:
    """`nix copy` the closure of `paths` from `store` to a file:// binary cache, signed."""
    target = f"file://{directory}?compression=none"
    if secret_key is not None:
        target += f"&secret-key={secret_key}"
    run_nix(
        ["nix", "copy", "--store", str(store), "--to", target, *paths],
        cache_home=cache_home,
        timeout=timeout,
    )


def build_loopback_cache(
    workdir: Path, *, salt: str = "", timeout: float = BUILD_TIMEOUT
) -> tuple[LoopbackCache, Nginx]:
    """Build store, key and caches under `workdir` and start nginx; the caller stops it."""
    reason = loopback_missing_reason()
    if reason:
        raise ToolMissing(reason)
    workdir.mkdir(parents=True, exist_ok=True)
    store, paths = build_fixture_store(workdir, salt=salt, timeout=timeout)
    secret, public = signing_key(workdir / "keys", KEY_NAME)
    cache_home = workdir / "xdg-cache"
    docroot = workdir / "www"
    published = {"main": [paths[TOP]], "partial": [paths[PARTIAL_TOP]], "unsigned": [paths[TOP]]}
    for name, tops in published.items():
        publish(
            store,
            tops,
            docroot / name,
            None if name == "unsigned" else secret,
            cache_home=cache_home,
            timeout=timeout,
        )
    infos = run_nix(
        ["nix", "path-info", "-r", "--json", "--store", str(store), paths[TOP]],
        cache_home=cache_home,
        timeout=timeout,
    )
    closure = {item["path"]: int(item["narSize"]) for item in json.loads(infos.stdout)}
    caches = {
        name: sorted(p for p in closure if _in_cache(docroot / name, p)) for name in published
    }
    server = serve_directory(docroot, workdir / "nginx")
    cache = LoopbackCache(
        root=workdir,
        url=server.url,
        public_key=public,
        secret_key_file=secret,
        store=store,
        paths=paths,
        closure=closure,
        caches=caches,
    )
    return cache, server


def _in_cache(directory: Path, path: str) -> bool:
    digest = path.rsplit("/", 1)[-1].split("-", 1)[0]
    return (directory / f"{digest}.narinfo").is_file()


@contextlib.contextmanager
def loopback_cache(
    workdir: Path, *, salt: str = "", timeout: float = BUILD_TIMEOUT
) -> Iterator[LoopbackCache]:
    """Build and serve a loopback cache for the duration of a `with` block."""
    cache, server = build_loopback_cache(workdir, salt=salt, timeout=timeout)
    try:
        yield cache
    finally:
        server.stop()
