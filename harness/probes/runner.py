"""Probes of the runner itself: is Nix absent before the workflow installs it, and working after?

Both take the filesystem root and the PATH to look at, so tests can point them at a fake root
and a controlled PATH. Nix commands run with the runner's own configuration (no NIX_CONFIG of
ours): the point is to see the configuration the workflow's jobs will get. Reading the
configuration needs the `nix-command` feature, so only those reading commands add it with
`--extra-experimental-features`; whether flakes are on is judged from the unmodified setting
and from `builtins.getFlake`, which exists only when flakes are enabled.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT = 60.0
NIX_COMMAND = ("--extra-experimental-features", "nix-command")
_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")


@dataclass
class AbsenceProbe:
    """NIX001: traces of a Nix that was there before the workflow installed one."""

    root: str
    found: list[str] = field(default_factory=list)
    checked_at: float = 0.0

    @property
    def absent(self) -> bool:
        """True when no trace of Nix was found."""
        return not self.found


def probe_absent(root: Path = Path("/"), path: str | None = None) -> AbsenceProbe:
    """Look for `/nix/store`, `/nix/receipt.json` (under `root`) and `nix` on `path`."""
    search = os.environ.get("PATH", "") if path is None else path
    probe = AbsenceProbe(root=str(root), checked_at=time.time())
    store = root / "nix" / "store"
    if store.exists():
        probe.found.append(f"{store} exists")
    receipt = root / "nix" / "receipt.json"
    if receipt.exists():
        probe.found.append(
            f"{receipt} exists (a Determinate installer receipt: the installer "
            "would reuse this Nix instead of installing)"
        )
    nix = shutil.which("nix", path=search)
    if nix:
        probe.found.append(f"`nix` is on PATH at {nix}")
    return probe


@dataclass
class Run:
    """A finished command."""

    ok: bool
    stdout: str
    stderr: str

    def tail(self) -> str:
        """The last non-empty stderr line, for messages."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        return lines[-1] if lines else ""


def _run(args: list[str], path: str, timeout: float) -> Run:
    env = dict(os.environ)
    env["PATH"] = path
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return Run(False, "", f"timed out after {timeout:.0f}s: {' '.join(args)}")
    except OSError as exc:
        return Run(False, "", f"cannot run {args[0]}: {exc}")
    return Run(done.returncode == 0, done.stdout, done.stderr)


def parse_config(text: str) -> dict[str, str]:
    """`nix show-config` / `nix config show` text (`key = value` lines) as a mapping."""
    config: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(" = ")
        if sep and key and " " not in key.strip():
            config[key.strip()] = value.strip()
    return config


@dataclass
class PresenceProbe:
    """NIX002: what a working, workflow-installed Nix looks like from the job."""

    nix: str | None = None
    version: str | None = None
    flakes: bool = False
    store_writable: bool = False
    trusted: bool | None = None
    trust_source: str = ""
    store_url: str | None = None
    config: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def setting(self, name: str) -> list[str]:
        """A whitespace-separated setting of the effective configuration, as a list."""
        return self.config.get(name, "").split()


def _config(nix: str, path: str, timeout: float) -> tuple[dict[str, str], str]:
    for sub in (["config", "show"], ["show-config"]):
        run = _run([nix, *NIX_COMMAND, *sub], path, timeout)
        if run.ok:
            return parse_config(run.stdout), " ".join(sub)
    return {}, ""


def _trust(probe: PresenceProbe, nix: str, path: str, timeout: float) -> None:
    text = ""
    for sub in (["store", "info"], ["store", "ping"]):
        run = _run([nix, *NIX_COMMAND, *sub], path, timeout)
        if run.ok:
            text = run.stdout + run.stderr
            break
    if not text:
        probe.problems.append("neither `nix store info` nor `nix store ping` answers")
        return
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
    probe.store_url = fields.get("store url") or fields.get("url")
    if "trusted" in fields:
        probe.trusted = fields["trusted"] in ("1", "true", "yes")
        probe.trust_source = "reported by the store"
        return
    user = os.environ.get("USER") or _whoami()
    trusted_users = probe.setting("trusted-users")
    if probe.store_url == "local" and probe.store_writable:
        probe.trusted = True
        probe.trust_source = (
            f"inferred: Nix {probe.version or '?'} does not report trust; the "
            "store is local (no daemon) and writable by this user"
        )
    elif "*" in trusted_users or (user and user in trusted_users):
        probe.trusted = True
        probe.trust_source = f"inferred from trusted-users = {' '.join(trusted_users)}"
    else:
        probe.trusted = None
        probe.trust_source = (
            f"unknown: Nix {probe.version or '?'} does not report trust, the "
            f"store is `{probe.store_url}` and trusted-users "
            f"({' '.join(trusted_users) or 'empty'}) does not name "
            f"{user or 'this user'} (groups are not resolved)"
        )


def _whoami() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return ""


def probe_present(path: str | None = None, *, timeout: float = TIMEOUT) -> PresenceProbe:
    """Run the working-Nix probe with the runner's own configuration."""
    search = os.environ.get("PATH", "") if path is None else path
    started = time.perf_counter()
    probe = PresenceProbe()
    probe.nix = shutil.which("nix", path=search)
    if probe.nix is None:
        probe.problems.append("`nix` is not on PATH after the install step")
        probe.seconds = time.perf_counter() - started
        return probe
    run = _run([probe.nix, "--version"], search, timeout)
    if run.ok:
        match = _VERSION.search(run.stdout)
        probe.version = match.group(1) if match else run.stdout.strip()
    else:
        probe.problems.append(f"`nix --version` fails: {run.tail()}")
    probe.config, source = _config(probe.nix, search, timeout)
    if not source:
        probe.problems.append(
            "the effective configuration cannot be read "
            "(`nix config show` and `nix show-config` fail)"
        )
    else:
        probe.notes.append(f"configuration read with `nix {source}`")
    getflake = _run(
        [probe.nix, *NIX_COMMAND, "eval", "--expr", "builtins ? getFlake"], search, timeout
    )
    probe.flakes = "flakes" in probe.setting("experimental-features") or (
        getflake.ok and getflake.stdout.strip() == "true"
    )
    store_add = shutil.which("nix-store", path=search)
    with tempfile.TemporaryDirectory(prefix="harness-store-probe-") as scratch:
        marker = Path(scratch) / "flywheel-harness-store-probe"
        marker.write_text("flywheel-harness runner store write probe\n", encoding="utf-8")
        if store_add:
            added = _run([store_add, "--add", str(marker)], search, timeout)
        else:
            added = _run(
                [probe.nix, *NIX_COMMAND, "store", "add-file", str(marker)], search, timeout
            )
        probe.store_writable = added.ok and "/nix/store/" in added.stdout
        if not probe.store_writable:
            probe.problems.append(f"cannot add a file to the store: {added.tail()}")
    _trust(probe, probe.nix, search, timeout)
    probe.seconds = time.perf_counter() - started
    return probe
