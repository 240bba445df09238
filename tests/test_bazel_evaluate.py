"""BAZEL003 judgement of a cold -> warm pair, on recorded Bazel output (no Bazel run)."""

from __future__ import annotations

from pathlib import Path

from harness.checks.bazel import evaluate_warm, outage_bound
from harness.probes.bazel_log import Spawn, hit_stats
from harness.probes.bazel_run import BazelRun, WarmResult
from harness.results import Severity

STRICT = "/bin:/usr/bin:/usr/local/bin"


def _spawn(
    name: str,
    hit: bool,
    *,
    path: str = STRICT,
    cacheable: bool = True,
    inputs: tuple[str, ...] = (),
) -> Spawn:
    return Spawn(
        "Genrule",
        f"Executing genrule //:{name}",
        "linux-sandbox",
        cacheable,
        hit,
        {"PATH": path},
        inputs,
        (f"bazel-out/bin/{name}.out",),
    )


def _run(output: str, spawns: list[Spawn], code: int = 0, seconds: float = 2.0) -> BazelRun:
    return BazelRun(["bazel", "build"], code, output, seconds, spawns=spawns)


def _pair(
    warm_spawns: list[Spawn], summary: str, *, cold_spawns: list[Spawn] | None = None
) -> WarmResult:
    cold = _run("INFO: Elapsed time: 4.0s, Critical Path: 2.00s\n", cold_spawns or [])
    warm = _run(
        f"INFO: Elapsed time: 1.0s, Critical Path: 0.50s\n{summary}\n", warm_spawns, seconds=1.0
    )
    return WarmResult(cold, warm, hit_stats(warm_spawns), [])


def test_measurements_of_a_full_hit(tmp_path: Path) -> None:
    spawns = [_spawn("a", True), _spawn("b", True)]
    out = evaluate_warm(
        _pair(spawns, "INFO: 3 processes: 2 remote cache hit, 1 internal."),
        min_ratio=0.8,
        flags=[],
        workspace=tmp_path,
    )
    assert out.findings == []
    values = {m.name: m.value for m in out.measurements}
    assert values["bazel.hit_ratio"] == 1.0
    assert values["bazel.acceleration"] == 2.0
    assert values["bazel.critical_path_acceleration"] == 4.0
    assert values["bazel.cold_critical_path_seconds"] == 2.0


def test_summary_that_disagrees_with_the_log_is_a_warning(tmp_path: Path) -> None:
    spawns = [_spawn("a", True), _spawn("b", True)]
    out = evaluate_warm(
        _pair(spawns, "INFO: 3 processes: 1 remote cache hit, 2 internal."),
        min_ratio=0.8,
        flags=[],
        workspace=tmp_path,
    )
    assert [(f.rule, f.severity) for f in out.findings] == [("BAZEL003", Severity.WARNING)]
    assert "says 1 remote cache hit(s) but the execution log has 2" in out.findings[0].message


def test_nothing_cacheable_is_a_warning_not_a_pass_by_default(tmp_path: Path) -> None:
    spawns = [_spawn("a", False, cacheable=False)]
    out = evaluate_warm(
        _pair(spawns, "INFO: 2 processes: 1 internal, 1 linux-sandbox."),
        min_ratio=0.8,
        flags=[],
        workspace=tmp_path,
    )
    severities = sorted(str(f.severity) for f in out.findings)
    assert severities == ["note", "warning"]


def test_stamping_and_strict_env_in_bazelrc(tmp_path: Path) -> None:
    leaky = "/home/ci/bin:/usr/bin"
    spawns = [
        _spawn("a", False, path=leaky, inputs=("bazel-out/volatile-status.txt",)),
        _spawn("b", True, path=leaky),
    ]
    pair = _pair(
        spawns,
        "INFO: 2 processes: 1 remote cache hit, 1 linux-sandbox.",
        cold_spawns=[_spawn("a", False, path=leaky)],
    )
    out = evaluate_warm(pair, min_ratio=0.8, flags=[], workspace=tmp_path)
    message = out.findings[0].message
    assert "0.50 (1/2) < 0.80" in message and "missed Genrule: Executing genrule //:a" in message
    assert "stamping" in message
    assert "PATH is in the action keys (build with" in message  # same PATH both times
    (tmp_path / ".bazelrc").write_text("build --incompatible_strict_action_env\n")
    out = evaluate_warm(pair, min_ratio=0.8, flags=[], workspace=tmp_path)
    assert "PATH" not in out.findings[0].message


def test_failed_builds(tmp_path: Path) -> None:
    cold = _run("ERROR: //:a failed\nINFO: Build did NOT complete successfully", [], code=1)
    out = evaluate_warm(
        WarmResult(cold, None, None, []), min_ratio=0.8, flags=[], workspace=tmp_path
    )
    assert "cold build failed (exit 1)" in out.findings[0].message
    ok = _run("", [])
    timed_out = BazelRun(["bazel"], -9, "still building", 600.0, timed_out=True)
    out = evaluate_warm(
        WarmResult(ok, timed_out, None, []), min_ratio=0.8, flags=[], workspace=tmp_path
    )
    assert "warm build failed (timed out)" in out.findings[0].message


def test_outage_bound() -> None:
    assert outage_bound(3.0, 4, 2.0, 1, 30.0) == 3.0 + 4 * 2 * 2 * 2.0 + 30.0
    assert outage_bound(3.0, 0, 2.0, 0, 0.0) == 3.0 + 4.0  # at least one spawn
