"""Running Nix: single-user settings, timeouts, closures, scratch stores and build events.

Every call goes through `run_nix`, which sets `NIX_CONFIG` (no build users, flakes on),
a private `XDG_CACHE_HOME` (Nix's narinfo disk cache would otherwise answer from an
earlier run) and a timeout. A scratch store is a chroot store (`--store DIR`): the store
directory is still `/nix/store`, the files live under `DIR/nix/store`. Nix builds in a
chroot store inside its sandbox, so derivations that use host tools get `sandbox-paths`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessEnvironmentError, ToolMissing

DEFAULT_TIMEOUT = 120.0
BASE_CONFIG = {
    "build-users-group": "",
    "experimental-features": "nix-command flakes",
    "warn-dirty": "false",
}
HOST_SANDBOX_PATHS = ("/bin", "/lib", "/lib64", "/usr")


class NixError(HarnessEnvironmentError):
    """A Nix command failed or timed out; the message carries the tail of its stderr."""


def nix_missing_reason() -> str | None:
    """Why Nix cannot be used here, or None when `nix` and `nix-store` are installed."""
    for tool in ("nix", "nix-store"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install nix-bin)"
    return None


def require_nix() -> None:
    """Raise ToolMissing when Nix is not installed."""
    reason = nix_missing_reason()
    if reason:
        raise ToolMissing(reason)


def nix_config(settings: Mapping[str, str] | None = None) -> str:
    """NIX_CONFIG text: the single-user base settings, overridden by `settings`."""
    merged = dict(BASE_CONFIG)
    merged.update(settings or {})
    return "".join(f"{key} = {value}\n" for key, value in merged.items())


@dataclass
class NixRun:
    """A finished Nix command."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0

    def tail(self, lines: int = 5) -> str:
        """The last lines of stderr, for messages: plain lines, and the text of error events.

        With `--log-format internal-json` Nix writes its errors as `@nix` msg events of
        level 0; the other events (progress, activities) are left out.
        """
        text = [
            _error_text(ln[5:]) if ln.startswith("@nix ") else ln for ln in self.stderr.splitlines()
        ]
        text = [ln for ln in text if ln]
        return " | ".join(text[-lines:])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _error_text(event_json: str) -> str:
    """The message of an internal-json error event on one line, or "" for any other event."""
    try:
        event = json.loads(event_json)
    except json.JSONDecodeError:
        return ""
    if not isinstance(event, dict) or event.get("action") != "msg" or event.get("level") != 0:
        return ""
    return " ".join(_ANSI.sub("", str(event.get("msg", ""))).split())


def run_nix(
    args: Sequence[str],
    *,
    settings: Mapping[str, str] | None = None,
    cache_home: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    cwd: Path | None = None,
) -> NixRun:
    """Run a Nix command with single-user settings and a timeout.

    NixError on timeout, and (with `check`) on a non-zero exit.
    """
    require_nix()
    env = dict(os.environ)
    env["NIX_CONFIG"] = nix_config(settings)
    if cache_home is not None:
        cache_home.mkdir(parents=True, exist_ok=True)
        env["XDG_CACHE_HOME"] = str(cache_home)
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            list(args),
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise NixError(f"`{' '.join(args[:3])} ...` timed out after {timeout:g}s") from None
    run = NixRun(
        list(args), proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started
    )
    if check and not run.ok:
        raise NixError(f"`{' '.join(args[:3])} ...` exited {run.returncode}: {run.tail()}")
    return run


def store_args(store: Path | str | None) -> list[str]:
    """`--store X` for a scratch store or store URL, nothing for the default store."""
    return [] if store is None else ["--store", str(store)]


@dataclass(frozen=True)
class PathInfo:
    """A valid store path in some store: its size and references (full paths)."""

    path: str
    nar_size: int
    references: tuple[str, ...] = ()


def closure(
    paths: Sequence[str],
    *,
    store: Path | str | None = None,
    cache_home: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[PathInfo]:
    """The closure of store paths or installables, with NAR sizes (`nix path-info -r --json`)."""
    if not paths:
        return []
    run = run_nix(
        ["nix", "path-info", "-r", "--json", *store_args(store), *paths],
        settings={"substituters": ""},
        cache_home=cache_home,
        timeout=timeout,
    )
    try:
        data = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise NixError(f"nix path-info printed no JSON: {run.stdout[:120]!r}") from None
    infos = []
    for item in data:
        if not item.get("valid", True):
            raise NixError(f"{item.get('path')} is not valid in the store")
        infos.append(
            PathInfo(item["path"], int(item.get("narSize", 0)), tuple(item.get("references", ())))
        )
    return sorted(infos, key=lambda p: p.path)


def signing_key(directory: Path, name: str, *, timeout: float = 30.0) -> tuple[Path, str]:
    """Generate a signing key pair in `directory`; the secret key file and the public key."""
    directory.mkdir(parents=True, exist_ok=True)
    secret, public = directory / f"{name}.sec", directory / f"{name}.pub"
    run_nix(
        ["nix-store", "--generate-binary-cache-key", name, str(secret), str(public)],
        timeout=timeout,
    )
    return secret, public.read_text().strip()


@dataclass
class BuildEvents:
    """What Nix did during a realisation, read from `--log-format internal-json`."""

    substituted: dict[str, str] = field(default_factory=dict)
    """store path -> substituter URI it was copied from"""
    built: list[str] = field(default_factory=list)
    """derivations that were built locally"""
    downloads: list[str] = field(default_factory=list)
    """URLs Nix downloaded"""
    untrusted: list[str] = field(default_factory=list)
    """messages about substitutes that were refused (unsigned or untrusted)"""


ACT_FILE_TRANSFER, ACT_BUILD, ACT_SUBSTITUTE = 101, 105, 108


def parse_events(stderr: str) -> BuildEvents:
    """Collect substitutions, builds and downloads from internal-json log lines."""
    events = BuildEvents()
    for line in stderr.splitlines():
        if "not signed by any of the keys" in line:
            events.untrusted.append(line.strip())
        if not line.startswith("@nix "):
            continue
        try:
            event = json.loads(line[5:])
        except json.JSONDecodeError:
            continue
        if event.get("action") == "msg" and "not signed" in str(event.get("msg", "")):
            events.untrusted.append(str(event["msg"]))
        if event.get("action") != "start":
            continue
        fields = event.get("fields") or []
        kind = event.get("type")
        if kind == ACT_SUBSTITUTE and len(fields) >= 2:
            events.substituted[str(fields[0])] = str(fields[1])
        elif kind == ACT_BUILD and fields:
            events.built.append(str(fields[0]))
        elif kind == ACT_FILE_TRANSFER and fields:
            events.downloads.append(str(fields[0]))
    return events


@dataclass
class Realisation:
    """A `nix build` into some store and what happened on the way."""

    run: NixRun
    events: BuildEvents


def realise(
    installables: Sequence[str],
    *,
    store: Path | str | None,
    substituters: Sequence[str],
    trusted_keys: Sequence[str],
    cache_home: Path,
    file: Path | None = None,
    settings: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Realisation:
    """`nix build --no-link` with only the given substituters, logging internal-json events.

    With `file`, the installables are attributes of that Nix file (`nix build -f FILE`).
    Never raises on a failed build: the caller reads `run.ok` and the events.
    """
    config = {
        "substituters": " ".join(substituters),
        "trusted-public-keys": " ".join(trusted_keys),
        "narinfo-cache-negative-ttl": "0",
        "sandbox-paths": " ".join(p for p in HOST_SANDBOX_PATHS if Path(p).exists()),
    }
    config.update(settings or {})
    args = ["nix", "build", "--no-link", "--log-format", "internal-json", "-v", *store_args(store)]
    if file is not None:
        args += ["-f", str(file)]
    run = run_nix(
        [*args, *installables], settings=config, cache_home=cache_home, timeout=timeout, check=False
    )
    return Realisation(run, parse_events(run.stderr))


def show_config(*, timeout: float = 30.0) -> dict[str, str]:
    """This machine's effective Nix settings (`nix show-config`), as strings."""
    run_env = dict(os.environ)
    run_env.pop("NIX_CONFIG", None)
    try:
        proc = subprocess.run(
            ["nix", "--extra-experimental-features", "nix-command", "show-config"],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NixError(f"nix show-config failed: {exc}") from None
    settings = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            settings[key.strip()] = value.strip()
    return settings


def remove_tree(path: Path) -> None:
    """Remove a scratch directory, including the read-only paths of a scratch store."""

    def unlock(func: Any, name: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            Path(name).parent.chmod(stat.S_IRWXU)
        with contextlib.suppress(OSError):
            func(name)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=unlock)
    else:
        shutil.rmtree(path, onerror=unlock)
