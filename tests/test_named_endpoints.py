"""A named endpoint is a demand: one that does not serve fails its rule once, quickly.

Real sockets: a closed port, a socket that accepts connections and never answers, and a
server answering 500 to everything. Each front door (the `attic` and `bazel` commands,
`check --attic-url` / `--bazel-cache`, the pytest plugin's options and ini keys) runs in
its own process, guarded by a generous subprocess timeout (never a timed assertion):
exactly one finding (ATTIC001, BAZEL001), every other case skipped with "see ...", exit 1,
and neither the token nor the URL's user info in any output.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.demand import Demands, EndpointDown
from harness.probes.faultserver import FaultServer, Reply, refused_url
from harness.scenario import bundled_scenarios_dir
from tests.helpers.paths import ROOT

TOKEN = "tok-NEVER-PRINTED"
PASSWORD = "pw-NEVER-PRINTED"
GUARD = 30  # seconds: the subprocess timeout, a guard against hanging, not a speed check
RULES = {"attic": "ATTIC001", "bazel": "BAZEL001"}


@contextlib.contextmanager
def endpoint(kind: str) -> Iterator[str]:
    """`http://alice:PASSWORD@127.0.0.1:PORT` of a closed port, a silent socket or a 500."""
    if kind == "closed":
        yield with_user(refused_url())
    elif kind == "silent":
        with socket.socket() as listener:  # accepts (the kernel's backlog), never answers
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            yield with_user(f"http://127.0.0.1:{listener.getsockname()[1]}")
    else:
        with FaultServer(default=Reply(fault="500")) as server:
            yield with_user(server.url)


def with_user(url: str) -> str:
    return url.replace("http://", f"http://alice:{PASSWORD}@")


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ATTIC_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
    )


def assert_one_demand(
    done: subprocess.CompletedProcess[str], report: dict[str, Any], rule: str
) -> None:
    """Exit 1, one finding of `rule`, the other cases skipped pointing at it, no secrets."""
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    findings = [f for r in report["results"] for f in r["findings"]]
    assert [f["rule"] for f in findings] == [rule], findings
    assert "does not serve" in findings[0]["message"]
    failed = [r for r in report["results"] if r["status"] == "failed"]
    others = [r for r in report["results"] if r["status"] != "failed"]
    assert len(failed) == 1 and others, report["results"]
    for result in others:
        assert result["status"] == "skipped", result
        assert result["reason"].startswith(f"see {rule}: "), result["reason"]
    for text in (done.stdout, done.stderr, json.dumps(report)):
        assert TOKEN not in text and PASSWORD not in text and "alice" not in text
        assert "Traceback" not in text


def cache_scenarios(tmp_path: Path, prefix: str) -> Path:
    """A scenarios folder with the bundled caches suite's `prefix` cases only."""
    bundled = yaml.safe_load((bundled_scenarios_dir() / "caches.scenario.yaml").read_text())
    bundled["cases"] = [c for c in bundled["cases"] if c["name"].startswith(f"{prefix}-")]
    folder = tmp_path / "scenarios"
    folder.mkdir(exist_ok=True)
    (folder / "caches.scenario.yaml").write_text(yaml.safe_dump(bundled))
    return folder


@pytest.mark.parametrize("down", ["closed", "silent", "500"])
@pytest.mark.parametrize("command", ["attic", "bazel"])
def test_command_url_that_does_not_serve_fails_once(
    command: str, down: str, tmp_path: Path
) -> None:
    with endpoint(down) as url:
        done = run("-m", "harness", command, "--url", url, "--format", "json", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert_one_demand(done, report, RULES[command])
    owner = {"attic": "attic-reachable", "bazel": "bazel-cache-answers"}[command]
    assert [r["case"] for r in report["results"] if r["status"] == "failed"] == [owner]
    assert {r["suite"] for r in report["results"]} == {"caches"}


@pytest.mark.parametrize("down", ["closed", "silent", "500"])
@pytest.mark.parametrize(("flag", "kind"), [("--attic-url", "attic"), ("--bazel-cache", "bazel")])
def test_check_flag_that_does_not_serve_fails_once(
    flag: str, kind: str, down: str, tmp_path: Path
) -> None:
    scenarios = cache_scenarios(tmp_path, kind)
    with endpoint(down) as url:
        done = run(
            "-m",
            "harness",
            "check",
            "--scenarios",
            str(scenarios),
            "--repo",
            str(tmp_path),
            flag,
            url,
            "--require-live",  # the "see" skips are not live skips: still one failure
            "--format",
            "json",
            cwd=tmp_path,
        )
    assert_one_demand(done, json.loads(done.stdout), RULES[kind])


@pytest.mark.parametrize("down", ["closed", "silent"])
@pytest.mark.parametrize(("flag", "kind"), [("--attic-url", "attic"), ("--bazel-cache", "bazel")])
@pytest.mark.parametrize("door", ["option", "ini"])
def test_plugin_endpoint_that_does_not_serve_fails_once(
    door: str, flag: str, kind: str, down: str, tmp_path: Path
) -> None:
    scenarios = cache_scenarios(tmp_path, kind)
    ini = ["[pytest]"]
    with endpoint(down) as url:
        given = [f"{flag}={url}"]
        if door == "ini":
            ini.append(f"harness_{flag[2:].replace('-', '_')} = {url}")
            given = []
        (tmp_path / "pytest.ini").write_text("\n".join(ini) + "\n")
        done = run(
            "-m",
            "pytest",
            str(scenarios),
            "-p",
            "no:cacheprovider",
            f"--rootdir={tmp_path}",
            f"--harness-repo={tmp_path}",
            f"--evidence={tmp_path / 'evidence.json'}",
            "-rs",
            *given,
            cwd=tmp_path,
        )
    report = json.loads((tmp_path / "evidence.json").read_text())
    assert_one_demand(done, report, RULES[kind])
    assert f"see {RULES[kind]}" in done.stdout


def test_without_the_owning_case_the_first_dependent_reports(tmp_path: Path) -> None:
    with endpoint("closed") as url:
        done = run(
            "-m",
            "harness",
            "attic",
            "--url",
            url,
            "--case",
            "signatures",
            "--case",
            "hit-ratio",
            "--format",
            "json",
            cwd=tmp_path,
        )
    assert_one_demand(done, json.loads(done.stdout), "ATTIC001")


def shape(text: str, rule: str) -> list[str]:
    """The layout of a command's text output: statuses, reason kinds, finding lines."""
    lines = []
    for line in text.replace(rule, "RULE").splitlines():
        if line.startswith(("FAILED", "SKIPPED")):
            status, _, reason = line.partition(" (")
            lines.append(f"{status.split()[0]} CASE ({reason.split(':')[0]})")
        elif line.endswith("[RULE]"):
            lines.append(f"{line.split(': ')[0]}: error: FINDING [RULE]")
        else:
            lines.append(line)
    return lines


def test_attic_and_bazel_print_the_same_layout(tmp_path: Path) -> None:
    outputs = {}
    with endpoint("closed") as url:
        for command, cases in (
            ("attic", ["hit-ratio", "reachable", "signatures"]),
            ("bazel", ["hit-ratio", "answers", "round-trip"]),
        ):
            argv = [arg for case in cases for arg in ("--case", case)]
            text = run("-m", "harness", command, "--url", url, *argv, cwd=tmp_path)
            as_json = run(
                "-m", "harness", command, "--url", url, *argv, "--format", "json", cwd=tmp_path
            )
            assert text.returncode == as_json.returncode == 1
            outputs[command] = (shape(text.stdout, RULES[command]), json.loads(as_json.stdout))
    (attic_shape, attic), (bazel_shape, bazel) = outputs["attic"], outputs["bazel"]
    assert (
        attic_shape
        == bazel_shape
        == [
            "SKIPPED CASE (see RULE)",
            "FAILED CASE (1 finding(s))",
            "SKIPPED CASE (see RULE)",
            "",
            "<repo>: error: FINDING [RULE]",
            "",
            "0 passed, 1 failed, 2 skipped, 0 errors",
        ]
    )
    assert attic.keys() == bazel.keys()
    assert [r.keys() for r in attic["results"]] == [r.keys() for r in bazel["results"]]
    for report in (attic, bazel):
        assert {r["suite"] for r in report["results"]} == {"caches"}
        assert sorted(r["status"] for r in report["results"]) == ["failed", "skipped", "skipped"]


def test_a_probe_runs_once_however_many_cases_ask() -> None:
    demands = Demands()
    calls: list[int] = []
    started = threading.Barrier(8)

    def probe() -> str:
        calls.append(1)
        return "refused"

    def ask() -> None:
        started.wait()
        with contextlib.suppress(EndpointDown):
            demands.require("ATTIC001", "Attic at x", probe)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    with pytest.raises(EndpointDown, match="Attic at x does not serve: refused"):
        demands.require("ATTIC001", "Attic at x", probe)
    demands.plan(["attic.reachable", "attic.signatures"])
    assert demands.reports("ATTIC001", "attic.reachable", "caches::attic-reachable")
    assert not demands.reports("ATTIC001", "attic.signatures", "caches::attic-signatures")
    demands.plan(["attic.signatures", "attic.hit_ratio"])
    assert demands.reports("ATTIC001", "attic.signatures", "caches::attic-signatures")
    assert not demands.reports("ATTIC001", "attic.hit_ratio", "caches::attic-hit-ratio")
