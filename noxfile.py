"""Nox sessions: `nox -l` lists them; the first docstring line is the help."""

from __future__ import annotations

import os

import nox

nox.needs_version = ">=2025.2.9"  # the first nox with nox.project.dependency_groups
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["validate"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
EVIDENCE = "harness-evidence.json"
JUNIT = "harness-junit.xml"


def _install(session: nox.Session, *groups: str, extras: str = "grpc") -> None:
    """Install the harness (editable, with extras) and the named dependency groups."""
    session.install("-e", f".[{extras}]" if extras else ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def validate(session: nox.Session) -> None:
    """Run every scenario suite on this repository (or --harness-repo DIR) and write evidence.

    Writes harness-junit.xml and harness-evidence.json and closes with what the run proved
    (the plugin's --progress summary). Posargs go to pytest, e.g.
    `nox -s validate -- -m attic`, `-- --suite placement`, `-- --harness-repo ../infra`.
    """
    _install(session, "test")
    workers = "0" if "-n" in session.posargs else "auto"
    args = [
        "pytest",
        "scenarios",
        "-p",
        "no:cacheprovider",
        f"--junitxml={JUNIT}",
        f"--evidence={EVIDENCE}",
        "--progress",
        "-rs",
    ]
    if "-n" not in session.posargs:
        args += ["-n", workers]
    session.run(*args, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the project's own tests (pytest-xdist across all cores)."""
    _install(session, "test")
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    session.run(
        "pytest",
        "tests",
        "-n",
        os.environ.get("HARNESS_TEST_WORKERS", "auto"),
        "-rs",
        *session.posargs,
        env=env,
    )


LINTED = ("harness", "tests", "benchmarks", "noxfile.py")


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff (checks and format) over the code, tests and benchmarks; mypy (strict) too."""
    _install(session, "lint", "test")  # mypy reads the tests, so their imports too
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", "--diff", *LINTED)
    session.run("mypy", "harness", "tests")


@nox.session(default=False, tags=["release"])
def release_gate(session: nox.Session) -> None:
    """Refuse a FlakeHub publish that harness-evidence.json does not prove (the release gate).

    Passes only for evidence of this exact commit (clean tree) and contract, covering the
    contract's required suites, with no failed, errored or skipped live case, and fresh.
    Posargs go to `flywheel-harness gate`, e.g. `-- --contract fleet.yaml`.
    """
    _install(session, extras="")
    session.run("flywheel-harness", "gate", "--evidence", EVIDENCE, *session.posargs)


@nox.session(default=False, tags=["bench"])
def bench(session: nox.Session) -> None:
    """Speed and memory benchmarks, each against an anchor measured in the same run.

    Results as JSON in benchmarks/results/; exit 1 when a benchmark missed its target.
    Posargs name benchmarks, e.g. `nox -s bench -- tofu check`.
    """
    _install(session, "test", "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)
