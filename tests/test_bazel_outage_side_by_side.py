"""Fewer and overlapping Bazel starts: the outage modes of BAZEL004 build side by side, each
in its own output base, and `clean` where nothing was built starts no Bazel.

A stand-in `bazel` (a shell script) records each invocation's startup flags and waits
(bounded) until all three builds have started: builds run one after another never see
each other, and the test fails.
"""

from __future__ import annotations

import stat
from pathlib import Path

from harness.checks._bazel_env import BuildSetup
from harness.checks.bazel import _outage_builds
from harness.probes.bazel_run import SHORT_BUILD_JVM, Bazel
from harness.probes.outage import MODES

STAND_IN = """\
#!/bin/sh
# record this build's flags, then wait (at most 10 s) until three builds have started
echo "$*" >> "{log}"
i=0
while [ "$(wc -l < "{log}")" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ "$(wc -l < "{log}")" -ge 3 ]
"""


def test_the_three_outage_builds_overlap_in_their_own_output_bases(tmp_path: Path) -> None:
    log = tmp_path / "started.log"
    script = tmp_path / "bazel"
    script.write_text(STAND_IN.format(log=log))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    root = tmp_path / "out"
    bazel = Bazel(root, binary=str(script), startup_flags=SHORT_BUILD_JVM)
    setup = BuildSetup(bazel, tmp_path, ["//:report"], [], tmp_path, True, 30.0)

    runs = _outage_builds(setup, list(MODES), ["--remote_retries=0"], 30.0)

    assert {mode: run.ok for mode, run in runs.items()} == dict.fromkeys(MODES, True)
    lines = log.read_text().splitlines()
    bases = sorted(word for line in lines for word in line.split() if "--output_base=" in word)
    assert bases == sorted(f"--output_base={root / f'outage-{mode}'}" for mode in MODES)
    for line in lines:  # one install base, the quick JVM, each against its own broken cache
        assert f"--output_user_root={root}" in line and all(f in line for f in SHORT_BUILD_JVM)
    caches = {word for line in lines for word in line.split() if word.startswith("--remote_cache")}
    assert len(caches) == 3


def test_clean_starts_no_bazel_where_nothing_was_built(tmp_path: Path) -> None:
    log = tmp_path / "ran.log"
    script = tmp_path / "bazel"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    bazel = Bazel(tmp_path / "out", binary=str(script))
    assert bazel.clean(tmp_path, timeout=10).ok and not log.exists()
    beside = bazel.beside("other")
    assert beside.clean(tmp_path, timeout=10).ok and not log.exists()
    (tmp_path / "out" / ("0123456789abcdef" * 2)).mkdir()  # a default output base
    assert bazel.clean(tmp_path, timeout=10).ok and "clean" in log.read_text()
    assert not beside.has_built()  # its own output base is still missing
    (tmp_path / "out" / "other").mkdir()
    beside.clean(tmp_path, timeout=10)
    assert f"--output_base={tmp_path / 'out' / 'other'}" in log.read_text()


def test_a_build_that_cannot_start_is_that_modes_failure(tmp_path: Path) -> None:
    bazel = Bazel(tmp_path / "out", binary=str(tmp_path / "no-such-bazel"))
    setup = BuildSetup(bazel, tmp_path, ["//:report"], [], tmp_path, True, 30.0)
    runs = _outage_builds(setup, list(MODES), [], 30.0)
    assert sorted(runs) == sorted(MODES)
    for run in runs.values():
        assert not run.ok and "FileNotFoundError" in run.tail(1)
