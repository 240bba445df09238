"""Bazel remote cache: it answers, round-trips, gets hit by a warm build, and may go down.

Cases run against `--bazel-cache`, the contract's `caches.bazel.url`, or an embedded
loopback nginx cache (see `_bazel_env`). Params are declared in harness/checks/registry.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.checks._bazel_env import (
    BuildSetup,
    CacheTarget,
    build_setup,
    cache_for,
    configured_url,
    first_contact,
    float_param,
    require_named,
    str_list_param,
)
from harness.checks.api import CheckContext, Skip
from harness.errors import HarnessInputError
from harness.probes.bazel_http import ProbeReport, probe_answers, probe_round_trip
from harness.probes.bazel_log import leaked_path, stamped
from harness.probes.bazel_run import STRICT_ENV_FLAG, BazelRun, WarmResult, warm_build
from harness.probes.budget import CASE_BUDGET, seconds_left
from harness.redact import redact_url as redact
from harness.results import CheckOutput, Finding, Severity
from harness.rules import Rule
from harness.safe_read import MAX_CONTRACT_BYTES, UnsafeFile, read_text

RULES = (
    Rule(
        "BAZEL001",
        "the Bazel remote cache answers: /status or a clean 404 on a miss "
        "(HTTP), health and capabilities (gRPC)",
        "--bazel-cache names a cache that does not serve (connection refused, no answer), "
        "or GET /ac/<fresh key> answers HTTP 502 (the proxy in front of "
        "bazel-remote is down)",
        "bring the cache back, or point caches.bazel.url / --bazel-cache at a live one",
    ),
    Rule(
        "BAZEL002",
        "a CAS blob and an ActionResult written to the cache read back equal",
        "PUT /cas/<sha256> answers 403 (the cache is read-only for this client)",
        "give CI write access (bazel-remote htpasswd or a writable WebDAV location)",
    ),
    Rule(
        "BAZEL003",
        "a warm build hits the remote cache at least min_hit_ratio of its remote-cacheable spawns",
        "warm hit ratio 0.00 < 0.80; missed Genrule: //:report; PATH is in the action keys",
        "build with --incompatible_strict_action_env, no --stamp, no no-remote-cache tags",
    ),
    Rule(
        "BAZEL004",
        "builds still succeed, within a bound, while the cache refuses, "
        "answers 500 or never answers",
        "with a gRPC cache that is down, Bazel 4.x fails at start: 'UNAVAILABLE: io exception'",
        "Bazel 4.x: --remote_local_fallback; Bazel >= 8.5.1: also "
        "--incompatible_remote_local_fallback_for_remote_cache; 8.0-8.5.0 cannot fall back",
    ),
)

GRPC_FALLBACK_FLAGS = (
    "--remote_local_fallback",
    "--incompatible_remote_local_fallback_for_remote_cache",
)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _grpc_probes(kind: str, cache: CacheTarget, timeout: float) -> ProbeReport:
    try:
        from harness.probes.bazel_grpc import probe_answers as grpc_answers
        from harness.probes.bazel_grpc import probe_round_trip as grpc_round_trip
    except ImportError:
        raise Skip(
            "gRPC probes need the grpc extra: pip install 'flywheel-harness[grpc]'", live=True
        ) from None
    if kind == "answers":
        return grpc_answers(cache.url, timeout=timeout)
    return grpc_round_trip(cache.url, timeout=timeout)


def _report_probe(out: CheckOutput, report: ProbeReport, rule: str, cache: CacheTarget) -> None:
    for step in report.steps:
        out.measure(f"bazel.latency.{_slug(step.name)}", round(step.seconds, 6), "seconds")
        if not step.ok:
            out.add(
                Finding(rule, f"{redact(cache.url)} ({cache.source}): {step.name}: {step.detail}")
            )
        elif step.detail:
            out.notes.append(f"{step.name}: {step.detail}")
    if report.status:
        for key, name, unit in (
            ("CurrSize", "curr_size", "bytes"),
            ("MaxSize", "max_size", "bytes"),
            ("NumFiles", "num_files", ""),
        ):
            value = report.status.get(key)
            if isinstance(value, int | float):
                out.measure(f"bazel.status.{name}", float(value), unit)


def _probe_case(
    ctx: CheckContext,
    params: Mapping[str, Any],
    kind: str,
    rule: str,
    http_probe: Callable[..., ProbeReport],
) -> CheckOutput:
    """Run one probe (gRPC or HTTP, by the cache's scheme) and report it under `rule`."""
    timeout = float_param(params, "timeout", 10.0)
    out = CheckOutput(examined={"endpoints": 1})
    with cache_for(ctx) as cache:
        report = (
            _grpc_probes(kind, cache, timeout)
            if cache.is_grpc
            else http_probe(cache.url, timeout=timeout)
        )
        _report_probe(out, report, rule, cache)
        out.loopback = cache.source == "embedded"
    return out


def check_cache_answers(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """BAZEL001: the cache answers the requests Bazel makes first."""
    return _probe_case(ctx, params, "answers", "BAZEL001", probe_answers)


def check_round_trip(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """BAZEL002: CAS and AC writes read back equal."""
    return _probe_case(ctx, params, "round_trip", "BAZEL002", probe_round_trip)


def _strict_env(flags: list[str], workspace: Path) -> bool:
    if any(f in (STRICT_ENV_FLAG, f"{STRICT_ENV_FLAG}=true") for f in flags):
        return True
    try:
        text = read_text(workspace / ".bazelrc", MAX_CONTRACT_BYTES, errors="replace")
    except UnsafeFile:
        return False
    return STRICT_ENV_FLAG in text


def evaluate_warm(
    result: WarmResult, *, min_ratio: float, flags: list[str], workspace: Path
) -> CheckOutput:
    """Findings and measurements for one cold -> warm pair (BAZEL003)."""
    out = CheckOutput(examined={"endpoints": 1})
    cold, warm = result.cold, result.warm
    out.measure("bazel.cold_seconds", round(cold.seconds, 3), "seconds")
    if cold.critical_path is not None:
        out.measure("bazel.cold_critical_path_seconds", cold.critical_path, "seconds")
    if not cold.ok:
        why = "timed out" if cold.timed_out else f"exit {cold.returncode}"
        out.add(Finding("BAZEL003", f"cold build failed ({why}): {cold.tail(3)}"))
        return out
    if warm is None or not warm.ok or result.stats is None:
        why = (
            "did not run"
            if warm is None
            else ("timed out" if warm.timed_out else f"exit {warm.returncode}")
        )
        tail = warm.tail(3) if warm is not None else ""
        out.add(Finding("BAZEL003", f"warm build failed ({why}): {tail}"))
        return out
    stats = result.stats
    out.measure("bazel.warm_seconds", round(warm.seconds, 3), "seconds")
    if warm.critical_path is not None:
        out.measure("bazel.warm_critical_path_seconds", warm.critical_path, "seconds")
    if result.acceleration is not None:
        out.measure("bazel.acceleration", round(result.acceleration, 3), "ratio")
    if cold.critical_path and warm.critical_path:
        out.measure(
            "bazel.critical_path_acceleration",
            round(cold.critical_path / warm.critical_path, 3),
            "ratio",
        )
    out.measure("bazel.hit_ratio", round(stats.ratio, 4), "ratio")
    out.measure("bazel.spawns_hit", stats.hits)
    out.measure("bazel.spawns_cacheable", stats.cacheable)
    summary = warm.summary
    if summary is not None and summary.remote_cache_hits != stats.hits:
        out.add(
            Finding(
                "BAZEL003",
                f"summary line says {summary.remote_cache_hits} remote "
                f"cache hit(s) but the execution log has {stats.hits}: "
                f"{summary.line!r}",
                Severity.WARNING,
            )
        )
    if stats.not_cacheable:
        names = ", ".join(sorted({s.label for s in stats.not_cacheable})[:5])
        out.add(
            Finding(
                "BAZEL003",
                f"{len(stats.not_cacheable)} spawn(s) are not remote-"
                f"cacheable (no-remote-cache / no-cache tags or local-only "
                f"actions): {names}",
                Severity.NOTE,
            )
        )
    if stats.cacheable == 0:
        out.add(
            Finding(
                "BAZEL003",
                "the warm build ran no remote-cacheable spawn; nothing "
                "shows whether the cache works",
                Severity.WARNING,
            )
        )
        return out
    if stats.ratio >= min_ratio:
        return out
    missed = "; ".join(
        f"{mnemonic}: {', '.join(labels[:5])}"
        for mnemonic, labels in stats.misses_by_mnemonic().items()
    )
    causes = []
    if not _strict_env(flags, workspace) and leaked_path(list(stats.misses)):
        cold_paths = {s.label: s.env.get("PATH") for s in cold.spawns}
        changed = [
            s.label
            for s in stats.misses
            if s.label in cold_paths and cold_paths[s.label] != s.env.get("PATH")
        ]
        detail = f"PATH changed between the builds for {len(changed)} of them, " if changed else ""
        causes.append(f"PATH is in the action keys ({detail}build with {STRICT_ENV_FLAG})")
    if stamped(list(stats.misses)) or "--stamp" in flags:
        causes.append("stamping (--stamp) changes action keys every build")
    hint = f"; likely cause: {'; '.join(causes)}" if causes else ""
    out.add(
        Finding(
            "BAZEL003",
            f"warm hit ratio {stats.ratio:.2f} ({stats.hits}/"
            f"{stats.cacheable}) < {min_ratio:.2f}; missed {missed}{hint}",
        )
    )
    return out


def remote_bounds(budget: float, grpc: bool) -> tuple[float, list[str]]:
    """The remote timeout and Bazel flags that keep two builds against a hung cache in `budget`.

    Bazel's defaults (60s per remote call, 5 retries) let a hung cache cost many minutes
    per build; a twentieth of the budget per call (1-60s), one retry, and for gRPC a
    keepalive as short, end each build well within half the budget.
    """
    remote = min(60.0, max(1.0, budget / 20))
    flags = [f"--remote_timeout={remote:.0f}s", "--remote_retries=1"]
    if grpc:
        flags += [f"--grpc_keepalive_time={remote:.0f}s", f"--grpc_keepalive_timeout={remote:.0f}s"]
    return remote, flags


def check_warm_hit_ratio(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """BAZEL003: build twice (cold, clean, warm) and measure the warm remote hit ratio.

    Skipped when the cache does not serve (BAZEL001 reports that). The remote
    timeout, retries and gRPC keepalive come from the case's budget (`remote_bounds`).
    """
    contract_min = ctx.contract.bazel.min_hit_ratio if ctx.contract.bazel else 0.8
    min_ratio = float_param(params, "min_hit_ratio", contract_min)
    budget = seconds_left() or CASE_BUDGET
    with cache_for(ctx) as cache, build_setup(ctx, params, "warm") as setup:
        why = first_contact(cache, min(10.0, budget / 10))
        if why is not None:
            raise Skip(f"{redact(cache.url)} is unreachable ({why}): see BAZEL001")
        remote, bounds = remote_bounds(budget, cache.is_grpc)
        result = warm_build(
            setup.bazel,
            setup.workspace,
            setup.targets,
            cache.url,
            scratch=setup.scratch,
            timeout=min(setup.timeout, budget / 2),
            extra_flags=[*bounds, *setup.flags],
        )
        out = evaluate_warm(
            result, min_ratio=min_ratio, flags=setup.flags, workspace=setup.workspace
        )
        log = setup.scratch / "warm.exec.json"
        if log.exists():
            out.artifacts.append(str(log))
        out.notes.append(
            f"cache {redact(cache.url)} ({cache.source}), targets "
            f"{' '.join(setup.targets)}, remote timeout {remote:g}s"
        )
        out.loopback = cache.source == "embedded"
    return out


def outage_bound(
    baseline: float, spawns: int, remote_timeout: float, retries: int, slack: float
) -> float:
    """Worst case: every spawn waits for a download and an upload, each retried."""
    return baseline + max(spawns, 1) * 2 * (retries + 1) * remote_timeout + slack


def check_outage_tolerance(ctx: CheckContext, params: Mapping[str, Any]) -> CheckOutput:
    """BAZEL004: builds still succeed, within a bound, with the cache down three ways
    (after a baseline build, the three builds run side by side, each in its own output base).

    It builds against caches of its own, never the named one; yet when the named one
    does not serve, it skips like every other Bazel case (see BAZEL001).
    """
    from harness.probes.outage import MODES

    remote_timeout = float_param(params, "remote_timeout", 2.0)
    retries = int(float_param(params, "remote_retries", 0))
    slack = float_param(params, "slack_seconds", 30.0)
    modes = str_list_param(params, "modes") if "modes" in params else list(MODES)
    unknown = [m for m in modes if m not in MODES]
    if unknown or remote_timeout <= 0 or retries < 0:
        raise HarnessInputError(
            f"outage parameters: modes must be among {', '.join(MODES)}, "
            "remote_timeout > 0 and remote_retries >= 0"
        )
    require_named(ctx)
    out = CheckOutput(examined={"endpoints": 1})
    url, _ = configured_url(ctx)
    with build_setup(ctx, params, "outage") as setup:
        bazel, ws = setup.bazel, setup.workspace
        bazel.clean(ws, timeout=setup.timeout)
        base = bazel.build(
            ws, setup.targets, setup.flags, log=setup.scratch / "base.json", timeout=setup.timeout
        )
        if not base.ok:
            out.add(Finding("BAZEL004", f"the build fails even without a cache: {base.tail(3)}"))
            return out
        spawns = sum(1 for s in base.spawns if s.remote_cacheable)
        bound = outage_bound(base.seconds, spawns, remote_timeout, retries, slack)
        out.measure("bazel.outage.baseline_seconds", round(base.seconds, 3), "seconds")
        out.measure("bazel.outage.bound_seconds", round(bound, 3), "seconds")
        knobs = [
            f"--remote_timeout={round(remote_timeout * 1000)}ms",
            f"--remote_retries={retries}",
        ]
        runs = _outage_builds(setup, modes, knobs, min(setup.timeout, bound * 2 + 60))
        for mode in modes:
            run = runs[mode]
            out.measure(f"bazel.outage.{mode}.seconds", round(run.seconds, 3), "seconds")
            out.measure(
                f"bazel.outage.{mode}.slowdown_seconds",
                round(run.seconds - base.seconds, 3),
                "seconds",
            )
            if not run.ok:
                why = "timed out" if run.timed_out else f"exit {run.returncode}"
                out.add(
                    Finding("BAZEL004", f"cache {mode}: the build failed ({why}): {run.tail(2)}")
                )
            elif run.seconds > bound:
                out.add(
                    Finding(
                        "BAZEL004",
                        f"cache {mode}: the build took {run.seconds:.1f}s, "
                        f"over the bound {bound:.1f}s (baseline {base.seconds:.1f}s + "
                        f"{spawns} spawn(s) x 2 x {retries + 1} x {remote_timeout:g}s "
                        f"+ {slack:g}s)",
                    )
                )
        if url is not None and url.split("://", 1)[0].lower() in ("grpc", "grpcs"):
            _grpc_outage(out, setup, knobs)
    return out


def _outage_builds(
    setup: BuildSetup, modes: list[str], knobs: list[str], timeout: float
) -> dict[str, BazelRun]:
    """One cold build per outage mode, side by side: each against its own broken cache
    (own port) in its own output base, so no build waits for another's lock or cache."""
    import threading

    from harness.probes.outage import Outage, start_outage

    runs: dict[str, BazelRun] = {}
    servers: list[Outage] = []
    try:
        for mode in modes:  # ports taken one after another, before any build starts
            servers.append(start_outage(mode))

        def build(server: Outage) -> None:
            try:
                runs[server.mode] = setup.bazel.beside(f"outage-{server.mode}").build(
                    setup.workspace,
                    setup.targets,
                    [f"--remote_cache={server.url}", *knobs, *setup.flags],
                    log=setup.scratch / f"{server.mode}.json",
                    timeout=timeout,
                )
            except Exception as exc:  # the mode's build failed to run: its finding says why
                runs[server.mode] = BazelRun([], -1, f"{type(exc).__name__}: {exc}", 0.0)

        threads = [threading.Thread(target=build, args=(s,), daemon=True) for s in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for server in servers:
            server.stop()
    return runs


def _grpc_outage(out: CheckOutput, setup: BuildSetup, knobs: list[str]) -> None:
    """A gRPC cache that is down at start fails Bazel 4.x and 8.0-8.5.0 without fallback."""
    from harness.probes.outage import start_outage

    server = start_outage("refuse")
    try:
        setup.bazel.clean(setup.workspace, timeout=setup.timeout)
        flags = [f"--remote_cache=grpc://127.0.0.1:{server.port}", *knobs, *setup.flags]
        run = setup.bazel.build(
            setup.workspace,
            setup.targets,
            flags,
            log=setup.scratch / "grpc-refuse.json",
            timeout=setup.timeout,
        )
    finally:
        server.stop()
    out.measure("bazel.outage.grpc_refuse.seconds", round(run.seconds, 3), "seconds")
    if not run.ok:
        out.add(
            Finding(
                "BAZEL004",
                "with the gRPC cache unreachable the build fails at start "
                "(Bazel 4.x and 8.0-8.5.0 query capabilities first): on Bazel 4.x set "
                f"{GRPC_FALLBACK_FLAGS[0]}, on Bazel >= 8.5.1 set "
                f"{' '.join(GRPC_FALLBACK_FLAGS)}, 8.0-8.5.0 cannot fall back: "
                f"{run.tail(1)}",
            )
        )
