"""NIX001, NIX002: the Nix bootstrap proven on the runner itself, before and after the install.

On a runner, `flywheel-harness runner --phase before` runs the NIX001 probe before the
workflow's install step and records it (with the time) in a state file; after the install,
`--phase after` (or the `bootstrap` suite's runner cases in `nox -s validate`) runs NIX002 and
reads that record back, so the evidence carries both and the install duration.

A run is "on a runner" when `--phase` was given (Options.runner_phase), when
`RUNNER_ENVIRONMENT=self-hosted` (set by the GitHub runner), when `ACTIONS_RUNNER_POD_NAME`
is set (ARC runner pods), or when `HARNESS_ON_RUNNER=1`. Elsewhere these cases skip as live
cases, so `--require-live` turns them into failures.

The before-install record is the `state` param, else `$HARNESS_RUNNER_STATE`, else
`$RUNNER_TEMP/flywheel-harness-runner.json`, else `.harness/runner-before.json` in the working
directory. Params are declared in harness/checks/registry.py.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checks.api import CheckContext, Skip
from harness.errors import HarnessInputError
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule

if TYPE_CHECKING:
    from harness.probes.runner import AbsenceProbe, PresenceProbe

RULES = (
    Rule(
        "NIX001",
        "Nix is already on the runner before the workflow's install step (a "
        "/nix/store, /nix/receipt.json, or `nix` on PATH): the installers silently "
        "reuse it, so the job does not run the Nix the workflow installs.",
        example="runner image with Nix baked in; the install step logs "
        '"Nix was already installed, using existing install"',
        fix="Use a runner image without Nix; the workflow installs it "
        "(DeterminateSystems/nix-installer-action pinned by SHA).",
    ),
    Rule(
        "NIX002",
        "After the workflow's install step Nix does not work as the fleet needs: "
        "`nix --version` fails, flakes are off, the store is not writable, the user "
        "is not trusted, or the contract's Attic substituter or public key is not "
        "in the effective configuration.",
        example="nix-installer-action without `extra-conf: substituters = https://attic/main`",
        fix="Pass the Attic substituter and its public key to the installer's extra-conf "
        "(and trusted-users for the runner user).",
    ),
)

STATE_ENV = "HARNESS_RUNNER_STATE"
DEFAULT_STATE = Path(".harness") / "runner-before.json"
ON_RUNNER_ENV = "HARNESS_ON_RUNNER"


def runner_detected(environ: Mapping[str, str] | None = None) -> str | None:
    """Why this process is on a self-hosted runner, or None."""
    env = os.environ if environ is None else environ
    if env.get("RUNNER_ENVIRONMENT") == "self-hosted":
        return "RUNNER_ENVIRONMENT=self-hosted"
    if env.get("ACTIONS_RUNNER_POD_NAME"):
        return "ACTIONS_RUNNER_POD_NAME is set (ARC runner pod)"
    if env.get(ON_RUNNER_ENV) == "1":
        return f"{ON_RUNNER_ENV}=1"
    return None


def state_path(ctx: CheckContext, params: Mapping[str, Any]) -> Path:
    """Where the before-install record lives."""
    if params.get("state"):
        return Path(str(params["state"]))
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    if os.environ.get("RUNNER_TEMP"):
        return Path(os.environ["RUNNER_TEMP"]) / "flywheel-harness-runner.json"
    # Not the artifacts directory: `runner` and `nox -s validate` (artifacts next to the
    # evidence) must find the same record when run from the same checkout.
    return Path.cwd() / DEFAULT_STATE


def _where(params: Mapping[str, Any]) -> tuple[Path, str | None]:
    root = Path(str(params.get("root", "/")))
    path = params.get("path")
    if path is not None and not isinstance(path, str):
        raise HarnessInputError("runner check: `path` must be a PATH string")
    return root, path


def _off_runner(phase: str) -> Skip:
    return Skip(
        f"not on a self-hosted runner (no RUNNER_ENVIRONMENT=self-hosted, "
        f"ACTIONS_RUNNER_POD_NAME or {ON_RUNNER_ENV}=1): run `flywheel-harness runner "
        f"--phase {phase}` on the runner",
        live=True,
    )


def _absence_findings(probe: AbsenceProbe, out: CheckOutput) -> None:
    for trace in probe.found:
        out.add(Finding("NIX001", f"Nix is present before the workflow installs it: {trace}"))
    out.measure("runner.nix_traces_before_install", len(probe.found), "count")


def check_nix_absent(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """NIX001: no Nix before the install step (probed live, or read from the before-record)."""
    out = CheckOutput(examined={"runners": 1})
    phase = ctx.options.runner_phase
    state = state_path(ctx, params)
    if phase == "after":
        raise Skip("NIX001 is proven before the install step (`--phase before`)")
    if phase == "before":
        from harness.probes.runner import probe_absent

        root, path = _where(params)
        probe = probe_absent(root, path)
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(
            json.dumps(
                {
                    "phase": "before",
                    "time": probe.checked_at,
                    "root": probe.root,
                    "found": probe.found,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        _absence_findings(probe, out)
        out.notes.append(f"recorded in {state}")
        return out
    if runner_detected() is None:
        raise _off_runner("before")
    record = _read_state(state)
    if record is None:
        raise Skip(
            f"no before-install record at {state}: run `flywheel-harness runner --phase "
            "before` before the workflow's Nix install step",
            live=True,
        )
    from harness.probes.runner import AbsenceProbe

    _absence_findings(
        AbsenceProbe(
            str(record.get("root", "/")),
            list(record.get("found", [])),
            float(record.get("time", 0.0)),
        ),
        out,
    )
    out.notes.append(f"from the before-install record {state}")
    return out


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("phase") == "before" else None


def attic_substituter(ctx: CheckContext) -> tuple[str | None, tuple[str, ...]]:
    """The Attic substituter URL (`{url}/{cache}`) and public keys the contract asks for."""
    attic = ctx.contract.attic
    url = ctx.options.attic_url or (attic.url if attic else None)
    if not url or attic is None:
        return None, attic.public_keys if attic else ()
    cache = ctx.options.attic_cache or attic.cache
    return f"{url.rstrip('/')}/{cache}", attic.public_keys


def _presence_findings(ctx: CheckContext, probe: PresenceProbe, out: CheckOutput) -> None:
    for problem in probe.problems:
        out.add(Finding("NIX002", problem))
    if probe.nix is None:
        return
    if not probe.flakes:
        out.add(
            Finding(
                "NIX002",
                "flakes are not enabled: builtins.getFlake is missing and "
                "the effective experimental-features (read with nix-command "
                "added) are "
                f"`{probe.config.get('experimental-features', '?')}`",
            )
        )
    if probe.trusted is False:
        out.add(Finding("NIX002", f"the store does not trust this user ({probe.trust_source})"))
    elif probe.trusted is None:
        out.add(
            Finding(
                "NIX002", f"whether this user is trusted is {probe.trust_source}", Severity.WARNING
            )
        )
    else:
        out.notes.append(f"trusted: {probe.trust_source}")
    substituter, keys = attic_substituter(ctx)
    if substituter is None:
        out.notes.append("the contract names no Attic URL: substituter not checked")
    else:
        have = [s.rstrip("/") for s in probe.setting("substituters")]
        if substituter not in have:
            where = (
                " (only in trusted-substituters)"
                if substituter in [s.rstrip("/") for s in probe.setting("trusted-substituters")]
                else ""
            )
            out.add(
                Finding(
                    "NIX002",
                    f"the Attic substituter {substituter} is not in the "
                    f"effective substituters{where}: "
                    f"{' '.join(have) or 'none'}",
                )
            )
    trusted_keys = probe.setting("trusted-public-keys")
    for key in keys:
        if key not in trusted_keys:
            name = key.split(":", 1)[0]
            out.add(
                Finding(
                    "NIX002",
                    f"the Attic public key `{name}:...` is not in the "
                    "effective trusted-public-keys",
                )
            )


def check_nix_working(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """NIX002: Nix works after the install, with flakes, a writable store, trust and Attic."""
    out = CheckOutput(examined={"runners": 1})
    phase = ctx.options.runner_phase
    if phase == "before":
        raise Skip("NIX002 is proven after the install step (`--phase after`)")
    if phase is None and runner_detected() is None:
        raise _off_runner("after")
    from harness.probes.runner import probe_present  # only on a runner

    _, path = _where(params)
    probe = probe_present(path)
    _presence_findings(ctx, probe, out)
    out.measure("runner.nix_probe_seconds", round(probe.seconds, 3), "seconds")
    if probe.version:
        out.notes.append(f"Nix {probe.version} at {probe.nix}")
        parts = [int(p) for p in probe.version.split(".")[:2]]
        out.measure("runner.nix_version", parts[0] + parts[1] / 1000, "major.minor/1000")
    record = _read_state(state_path(ctx, params))
    if record is not None and record.get("time"):
        seconds = max(0.0, time.time() - float(record["time"]))
        out.measure("runner.nix_install_seconds", round(seconds, 1), "seconds")
        out.notes.append(
            f"install took at most {seconds:.1f} s (from the before-install record to this probe)"
        )
    else:
        out.notes.append("no before-install record: install duration not known")
    return out
