"""`measure` judges the command too (MEM004), and its chart tells the truth."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.probes.sampler import Sample
from harness.probes.workload import WorkloadRun
from harness.report.memory_chart import short_command, timeline_svg
from harness.runid import RUN_ID, run_unique

MI = 1 << 20


def test_a_command_that_cannot_start_fails_the_measurement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["measure", "--limit", "1Gi", "--", "/no/such/cmd"]) == 1
    out = capsys.readouterr().out
    assert "MEM004" in out and "could not start (exit 127" in out
    assert "result: FAIL" in out
    assert main(["measure", "--limit", "1Gi", "--allow-failure", "--", "/no/such/cmd"]) == 0
    assert "MEM004" not in capsys.readouterr().out


def test_a_command_that_exits_non_zero_is_mem004_beside_the_memory_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "measure",
            "--limit",
            "1Gi",
            "--format",
            "json",
            "--",
            sys.executable,
            "-c",
            "raise SystemExit(3)",
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert '"rule": "MEM004"' in out and "exited 3" in out
    assert "memory.peak_working_set_bytes" in out or "peak" in out  # the memory is still judged


def _run(oom: int) -> WorkloadRun:
    samples = [
        Sample(t=i * 0.1, usage=v, working_set=v, anon=v, tree_rss=v, processes=1)
        for i, v in enumerate([10 * MI, 100 * MI, 180 * MI, 120 * MI])
    ]
    return WorkloadRun(
        command=["/opt/venv/bin/python", "/srv/app/data/memory_workload.py", "--anon", "300Mi"],
        mode="cgroup-v1",
        limit=256 * MI,
        exit_code=-9,
        wall_seconds=0.4,
        timed_out=False,
        oom_kills=oom,
        peak_working_set=256 * MI,
        peak_anon=256 * MI,
        peak_rss_tree=180 * MI,
        peak_usage=256 * MI,
        samples=samples,
    )


def test_the_chart_plots_the_kernel_peak_and_marks_the_oom_kill() -> None:
    run = _run(oom=1)
    label = short_command(run.command)
    assert label == "python memory_workload.py --anon 300Mi"
    svg = timeline_svg(run, f"256Mi limit: {label}")
    assert "kernel peak 256.0Mi (between samples)" in svg
    assert 'class="oom-kill"' in svg and ">OOM kill<" in svg
    assert "/opt/venv" not in svg
    # the OOM mark sits where usage was highest (t = 0.2 s of 0.3 s)
    at = float(re.search(r'class="oom-kill" x1="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert 70 + (760 - 70 - 20) * 0.2 / 0.3 - 1 < at < 70 + (760 - 70 - 20) * 0.2 / 0.3 + 1
    # the kernel's peak is inside the plotted range (y below the top margin)
    peak_y = float(re.search(r'class="kernel-peak" x1="\d+" x2="\d+" y1="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert 48 <= peak_y <= 340 - 56


def test_no_marks_when_the_samples_caught_the_peak_and_nothing_was_killed() -> None:
    run = _run(oom=0)
    run.peak_working_set = 180 * MI
    svg = timeline_svg(run, "x")
    assert "kernel-peak" not in svg and "oom-kill" not in svg


def test_chart_names_are_unique_per_run() -> None:
    assert run_unique("memory-docker.svg") == f"memory-docker-{RUN_ID}.svg"
    assert re.fullmatch(r"\d+-[0-9a-f]{6}", RUN_ID)
