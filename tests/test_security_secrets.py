"""No secret leaves the harness: URL credentials in every message, token files, SIGTERM.

Passwords are generated (hypothesis): pieces of letters no report uses, joined by the
characters that break naive URL handling (`@`, `:`, `/`, `?`, `#`, `%`, sub-delims). No
piece of a password may appear in any output format, the evidence or an artifact.
"""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.probes.faultserver import FaultServer, Reply, refused_url
from harness.redact import ScrubbedStream, scrub_credentials
from harness.report import FORMATS
from harness.secret_files import PREFIX, secret_file, sweep_stale
from tests.helpers.paths import ROOT
from tests.helpers.tools import require_tool

PIECE = st.text(alphabet="QXZJKVW", min_size=6, max_size=10)
SEPARATORS = "@:/?#%!$&'()*+,;=-._~"


@st.composite
def passwords(draw: st.DrawFn) -> str:
    """Pieces of rare letters joined by characters that confuse naive URL parsing."""
    pieces = draw(st.lists(PIECE, min_size=1, max_size=4))
    seps = draw(
        st.lists(st.sampled_from(SEPARATORS), min_size=len(pieces) - 1, max_size=len(pieces) - 1)
    )
    return "".join(p + s for p, s in zip(pieces, [*seps, ""], strict=True))


hosts = st.sampled_from(["127.0.0.1:8080", "[::1]:9092", "cache.example.org", "attic:443"])
schemes = st.sampled_from(["http", "https", "grpc", "grpcs", "ftp"])


def pieces_of(password: str) -> list[str]:
    """The parts of a generated password that must never be printed."""
    for sep in SEPARATORS:
        password = password.replace(sep, " ")
    return password.split()


def assert_no_fragment(password: str, *texts: str) -> None:
    for text in texts:
        leaked = [p for p in pieces_of(password) if p in text]
        assert not leaked, f"password fragments {leaked} in {text[:400]!r}"


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(password=passwords(), host=hosts, scheme=schemes, path=st.sampled_from(["", "/main", "/"]))
def test_scrubbed_messages_hold_no_password_fragment(
    password: str, host: str, scheme: str, path: str
) -> None:
    url = f"{scheme}://ci:{password}@{host}{path}"
    for message in (
        f"GET {url}/nix-cache-info: refused",
        f"--url {url!r} is not http(s)",
        f"({url})",
        json.dumps({"reason": url}),
        f"{url}\n{url}",
    ):
        scrubbed = scrub_credentials(message)
        assert_no_fragment(password, scrubbed)
        assert (host.rsplit(":", 1)[0] if ":" in host else host) in scrubbed  # still named


def test_scrub_keeps_what_is_no_credential() -> None:
    kept = (
        "uses: docker://ghcr.io/o/img@sha256:abcd",
        "mail user@example.org",
        "https://github.com/o/r/blob/main/x.yml",
        "no url",
    )
    for text in kept:
        assert scrub_credentials(text) == text
    assert scrub_credentials("http://dave:p@ss-SECRET@127.0.0.1:1/x") == "http://127.0.0.1:1/x"


@pytest.mark.parametrize(
    "argv",
    [
        ["attic", "--url", "ftp://alice:pw-SECRET@127.0.0.1:1"],
        ["bazel", "--url", "ftp://bob:pw-SECRET@127.0.0.1:1"],
        ["check", "--attic-url", "ftp://carol:pw-SECRET@127.0.0.1:1"],
        ["check", "--bazel-cache", "sftp://dan:p@ss-SECRET@127.0.0.1:1"],
    ],
)
def test_argument_errors_are_scrubbed(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if argv[0] == "check":
        argv = [*argv, "--repo", str(tmp_path)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "--url" not in argv or "127.0.0.1" in err  # the endpoint is still named
    assert "SECRET" not in out + err


def test_every_command_writes_through_the_scrubber(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Commands that print directly (gate, matrix, evidence merge) are scrubbed as well."""
    written = io.StringIO()
    print("GET http://u:p@ss-SECRET@127.0.0.1:1/x failed", file=ScrubbedStream(written))
    assert written.getvalue() == "GET http://127.0.0.1:1/x failed\n"
    evidence = tmp_path / "forged.json"
    evidence.write_text("{not json http://u:pw-SECRET@127.0.0.1:1")
    assert main(["gate", "--evidence", str(evidence)]) != 0
    out, err = capsys.readouterr()
    assert "SECRET" not in out + err


def test_parser_errors_are_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--format", "ftp://erin:pw-SECRET@127.0.0.1:1"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "127.0.0.1" in err
    assert "SECRET" not in err


def _files_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(password=passwords())
def test_no_fragment_in_any_format_evidence_or_artifact(
    password: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / f"run-{abs(hash(password))}"
    suite = run / "scenarios" / "caches.scenario.yaml"
    suite.parent.mkdir(parents=True)
    suite.write_text(
        "cases:\n  - name: attic-reachable\n    check: attic.reachable\n"
        "  - name: bazel-answers\n    check: bazel.cache_answers\n"
    )
    refused = refused_url()
    attic = refused.replace("http://", f"http://ci:{password}@")
    bazel = refused.replace("http://", f"http://ci:{password}@")
    evidence = run / "evidence.json"
    code = main(
        [
            "check",
            "--repo",
            str(run),
            "--scenarios",
            str(suite.parent),
            "--attic-url",
            attic,
            "--bazel-cache",
            bazel,
            "--require-live",
            "--format",
            "text",
            "--evidence",
            str(evidence),
        ]
    )
    assert code == 1  # both live cases fail: nothing answers
    for name in sorted(FORMATS):
        output = run / f"report.{name}"
        assert main(["evidence", "render", str(evidence), "--format", name, "-o", str(output)]) == 0
        assert "127.0.0.1" in output.read_text()
    assert (
        main(["evidence", "merge", str(evidence), str(evidence), "-o", str(run / "merged.json")])
        == 0
    )
    out, err = capsys.readouterr()
    assert_no_fragment(password, out, err, _files_text(run))


def test_secret_file_is_private_and_removed(tmp_path: Path) -> None:
    with secret_file("netrc", "machine h\npassword tok-SECRET\n") as path:
        assert path.read_text().endswith("tok-SECRET\n")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
        assert path.parent.parent.name.startswith(f"{PREFIX}{os.getpid()}-")
    assert not path.exists()
    assert not path.parent.exists()


def test_secret_dirs_of_dead_processes_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    stale = tmp_path / f"{PREFIX}{dead.stdout.strip()}-abcd"
    (stale / "f-x").mkdir(parents=True)
    (stale / "f-x" / "netrc").write_text("password tok\n")
    alive = tmp_path / f"{PREFIX}{os.getpid()}-efgh"
    alive.mkdir()
    assert sweep_stale(tmp_path) == [stale]
    assert not stale.exists()
    assert alive.is_dir()


STORE_PATH = "/nix/store/" + "0" * 32 + "-flywheel-harness-never-built"


@pytest.mark.needs_nix
def test_sigterm_during_substitution_leaves_no_token(tmp_path: Path) -> None:
    """ATTIC004 writes the token into a netrc for Nix; SIGTERM mid-build removes it."""
    require_tool("nix")
    token = "tok-QXZJKVQXZJKV"
    info = b"StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n"
    routes: dict[str, Reply] = {"/main/nix-cache-info": Reply(200, info)}
    temp, artifacts = tmp_path / "tmp", tmp_path / "artifacts"
    temp.mkdir()
    with FaultServer(routes, default=Reply(fault="slow")) as server:
        env = {**os.environ, "ATTIC_TOKEN": token, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness",
                "attic",
                "--url",
                server.url,
                "--cache",
                "main",
                "--case",
                "substitution",
                "--public-key",
                "main:" + "A" * 43 + "=",
                "--artifacts-dir",
                str(artifacts),
                STORE_PATH,
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            netrc = _wait_for(lambda: next(temp.glob(f"{PREFIX}*/f-*/netrc"), None), proc)
            assert token in netrc.read_text()
            assert stat.S_IMODE(netrc.stat().st_mode) == 0o600
            assert token not in _files_text(artifacts)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 143, err
    assert not list(temp.glob(f"{PREFIX}*")), "the private secret directory outlived SIGTERM"
    assert token not in out + err + _files_text(artifacts) + _files_text(tmp_path)


def _wait_for(find: object, proc: subprocess.Popen[str], limit: float = 120.0) -> Path:
    """Poll `find()` until it returns a path (the process must still run meanwhile)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = find()  # type: ignore[operator]
        if found is not None:
            return Path(found)
        if proc.poll() is not None:
            pytest.fail(f"the harness ended early: {proc.communicate()}")
        time.sleep(0.1)
    pytest.fail("the netrc never appeared")
