"""The program ends without Python's teardown, yet runs its atexit handlers and flushes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_exit_code_atexit_handlers_and_buffered_output() -> None:
    done = _run(
        """
        import atexit, sys
        atexit.register(lambda: sys.stdout.write("handler ran\\n"))
        from harness.process_exit import exit_process
        sys.stdout.write("buffered, not yet flushed\\n")
        sys.stderr.write("to stderr\\n")
        exit_process(3)
        """
    )
    assert done.returncode == 3
    assert done.stdout == "buffered, not yet flushed\nhandler ran\n"
    assert done.stderr == "to stderr\n"


def test_a_running_thread_is_joined_by_a_normal_shutdown() -> None:
    done = _run(
        """
        import sys, threading, time
        from harness.process_exit import exit_process
        def late():
            time.sleep(0.3)
            sys.stdout.write("thread finished\\n")
        threading.Thread(target=late).start()
        exit_process(4)
        """
    )
    assert done.returncode == 4
    assert done.stdout == "thread finished\n"


def test_a_closed_stdout_is_no_traceback(tmp_path: Path) -> None:
    script = tmp_path / "closed.py"
    script.write_text(
        "import sys, time\nfrom harness.process_exit import exit_process\n"
        "sys.stdout.write('still in the buffer')\nsys.stderr.write('written\\n')\n"
        "sys.stderr.flush()\ntime.sleep(0.3)\nexit_process(5)\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    child = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stderr.readline() == b"written\n"
    child.stdout.close()  # the reader went away: the final flush meets a closed pipe
    code = child.wait(timeout=60)
    assert code == 5
    assert child.stderr.read() == b""


def test_the_program_reports_and_exits_with_its_code(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "check",
            "--repo",
            str(tmp_path),
            "--suite",
            "workflows",
            "--format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1  # no workflow to examine is a failure, never a pass
    assert done.stdout.rstrip().endswith("}")
    assert '"schema": "flywheel-harness/report@1"' in done.stdout
