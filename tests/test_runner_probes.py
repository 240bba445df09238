"""NIX001/NIX002 against the Debian Nix, with a controlled PATH and a fake root directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.checks.api import CheckContext, Skip
from harness.checks.runner import check_nix_absent, check_nix_working, runner_detected
from harness.cli import main
from harness.contract import BUNDLED_CONTRACT
from harness.engine import make_context
from harness.options import Options
from harness.probes.runner import parse_config, probe_absent, probe_present
from tests.helpers.tools import require, require_tool

RUNNER_VARS = (
    "RUNNER_ENVIRONMENT",
    "ACTIONS_RUNNER_POD_NAME",
    "HARNESS_ON_RUNNER",
    "HARNESS_RUNNER_STATE",
    "RUNNER_TEMP",
    "NIX_CONFIG",
)
ATTIC_KEY = "main:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in RUNNER_VARS:
        monkeypatch.delenv(name, raising=False)


def nix_dir() -> str:
    """The directory holding the real `nix` (and only what is next to it)."""
    return str(Path(require_tool("nix")).parent)


def fake_root(tmp_path: Path, *, store: bool, receipt: bool) -> Path:
    root = tmp_path / "root"
    (root / "nix").mkdir(parents=True)
    if store:
        (root / "nix" / "store").mkdir()
    if receipt:
        (root / "nix" / "receipt.json").write_text('{"version": "0.x"}', encoding="utf-8")
    return root


def context(tmp_path: Path, phase: str | None, contract: Path | None = None) -> CheckContext:
    return make_context(
        tmp_path, contract, Options(runner_phase=phase, artifacts_dir=tmp_path / "art")
    )


def test_nix001_absent_on_a_bare_root_and_empty_path(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    probe = probe_absent(fake_root(tmp_path, store=False, receipt=False), str(empty))
    assert probe.absent
    assert probe.found == []


@pytest.mark.needs_nix
def test_nix001_present_store_receipt_and_nix_on_path(tmp_path: Path) -> None:
    root = fake_root(tmp_path, store=True, receipt=True)
    probe = probe_absent(root, nix_dir())
    assert not probe.absent
    assert probe.found[0] == f"{root}/nix/store exists"
    assert probe.found[1].startswith(f"{root}/nix/receipt.json exists")
    assert probe.found[2] == f"`nix` is on PATH at {require_tool('nix')}"


@pytest.mark.needs_nix
def test_nix001_check_records_the_before_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    ctx = context(tmp_path, "before")
    out = check_nix_absent(
        ctx,
        {
            "root": str(fake_root(tmp_path, store=True, receipt=False)),
            "path": nix_dir(),
            "state": str(state),
        },
    )
    assert sorted(f.rule for f in out.findings) == ["NIX001", "NIX001"]
    record = json.loads(state.read_text())
    assert record["phase"] == "before" and len(record["found"]) == 2
    # On the runner, the bootstrap suite's case reads that record back.
    os.environ["HARNESS_ON_RUNNER"] = "1"
    try:
        again = check_nix_absent(context(tmp_path, None), {"state": str(state)})
    finally:
        del os.environ["HARNESS_ON_RUNNER"]
    assert [f.message for f in again.findings] == [f.message for f in out.findings]


def test_runner_cases_skip_as_live_off_a_runner(tmp_path: Path) -> None:
    assert runner_detected({}) is None
    assert (
        runner_detected({"RUNNER_ENVIRONMENT": "self-hosted"}) == "RUNNER_ENVIRONMENT=self-hosted"
    )
    assert runner_detected({"RUNNER_ENVIRONMENT": "github-hosted"}) is None
    assert runner_detected({"ACTIONS_RUNNER_POD_NAME": "tinyland-nix-abc"}) is not None
    ctx = context(tmp_path, None)
    for check in (check_nix_absent, check_nix_working):
        with pytest.raises(Skip) as skip:
            check(ctx, {})
        assert skip.value.live
        assert "not on a self-hosted runner" in skip.value.reason


def test_on_a_runner_without_a_before_record_nix001_is_a_live_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_ENVIRONMENT", "self-hosted")
    with pytest.raises(Skip) as skip:
        check_nix_absent(context(tmp_path, None), {"state": str(tmp_path / "none.json")})
    assert skip.value.live and "no before-install record" in skip.value.reason


@pytest.mark.needs_nix
def test_runner_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    state = tmp_path / "state.json"
    bare = fake_root(tmp_path, store=False, receipt=False)
    assert (
        main(
            [
                "runner",
                "--phase",
                "before",
                "--repo",
                str(tmp_path),
                "--root",
                str(bare),
                "--path",
                str(empty),
                "--state",
                str(state),
            ]
        )
        == 0
    )
    assert "1 passed" in capsys.readouterr().out
    assert (
        main(
            [
                "runner",
                "--phase",
                "before",
                "--repo",
                str(tmp_path),
                "--root",
                "/",
                "--path",
                nix_dir(),
                "--state",
                str(state),
                "--format",
                "json",
            ]
        )
        == 1
    )
    report = json.loads(capsys.readouterr().out)
    assert report["runner"] == {"phase": "before"}
    assert {f["rule"] for f in report["results"][0]["findings"]} == {"NIX001"}


def test_runner_and_check_with_evidence_share_the_default_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    bare = fake_root(tmp_path, store=False, receipt=False)
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "runner",
                "--phase",
                "before",
                "--repo",
                str(tmp_path),
                "--root",
                str(bare),
                "--path",
                str(empty),
            ]
        )
        == 0
    )
    assert (tmp_path / ".harness" / "runner-before.json").is_file()
    capsys.readouterr()
    # `nox -s validate` keeps its artifacts next to the evidence; the record is still found.
    monkeypatch.setenv("HARNESS_ON_RUNNER", "1")
    ctx = make_context(tmp_path, None, Options(artifacts_dir=tmp_path / "out" / "art"))
    out = check_nix_absent(ctx, {})
    assert out.findings == []
    assert [m.name for m in out.measurements] == ["runner.nix_traces_before_install"]


def test_parse_config_reads_key_value_lines() -> None:
    text = "substituters = https://a/ http://b/main\nweird line\ntrusted-users = root\n"
    assert parse_config(text) == {
        "substituters": "https://a/ http://b/main",
        "trusted-users": "root",
    }


@pytest.mark.needs_nix
def test_nix002_probe_against_the_debian_nix(monkeypatch: pytest.MonkeyPatch) -> None:
    path = nix_dir()
    require(os.access("/nix/store", os.W_OK), "the Nix store is not writable here")
    monkeypatch.setenv("NIX_CONFIG", "experimental-features = nix-command flakes")
    probe = probe_present(path)
    assert probe.problems == []
    assert probe.version is not None and probe.version[0].isdigit()
    assert probe.flakes is True
    assert probe.store_writable is True
    assert probe.trusted is True
    assert probe.trust_source  # reported by Nix, or inferred and saying so
    monkeypatch.setenv("NIX_CONFIG", "experimental-features =")
    assert probe_present(path).flakes is False


def test_nix002_without_nix_on_path(tmp_path: Path) -> None:
    probe = probe_present(str(tmp_path))
    assert probe.problems == ["`nix` is not on PATH after the install step"]
    ctx = context(tmp_path, "after")
    out = check_nix_working(ctx, {"path": str(tmp_path), "state": str(tmp_path / "s.json")})
    assert [f.rule for f in out.findings] == ["NIX002"]


def _attic_contract(tmp_path: Path) -> Path:
    text = BUNDLED_CONTRACT.read_text(encoding="utf-8")
    text = text.replace(
        "    url: null\n    cache: main\n    public_keys: []",
        f'    url: http://127.0.0.1:9\n    cache: main\n    public_keys: ["{ATTIC_KEY}"]',
    )
    assert "http://127.0.0.1:9" in text
    path = tmp_path / "fleet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.needs_nix
def test_nix002_finds_the_attic_substituter_and_key_or_reports_them_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = nix_dir()
    require(os.access("/nix/store", os.W_OK), "the Nix store is not writable here")
    contract = _attic_contract(tmp_path)
    ctx = context(tmp_path, "after", contract)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"phase": "before", "time": 1.0, "found": []}), encoding="utf-8")
    monkeypatch.setenv("NIX_CONFIG", "experimental-features = nix-command flakes")
    missing = check_nix_working(ctx, {"path": path, "state": str(state)})
    messages = [f.message for f in missing.findings if f.rule == "NIX002"]
    assert any("Attic substituter http://127.0.0.1:9/main is not in" in m for m in messages)
    assert any("Attic public key `main:...`" in m for m in messages)
    assert ATTIC_KEY not in " ".join(messages)
    monkeypatch.setenv(
        "NIX_CONFIG",
        "experimental-features = nix-command flakes\n"
        "extra-substituters = http://127.0.0.1:9/main\n"
        f"extra-trusted-public-keys = {ATTIC_KEY}",
    )
    good = check_nix_working(ctx, {"path": path, "state": str(state)})
    assert [f for f in good.findings if f.severity == "error"] == []
    names = {m.name: m.value for m in good.measurements}
    assert names["runner.nix_install_seconds"] > 0
    assert names["runner.nix_version"] >= 2.0
    assert any(note.startswith("Nix ") for note in good.notes)
