"""Subcommands beyond `check` and `rules`, each in its own module.

A command module exposes `add_parser(subparsers)` (registering its arguments) and
`run(args) -> int`. Only the module of the command being run is imported.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("harness.commands.check", "run scenario suites against a repository"),
    "rules": ("harness.commands.rules", "list the rule catalogue"),
    "attic": (
        "harness.commands.attic",
        "probe an Attic (or any Nix binary) cache for the closure of some paths",
    ),
    "bazel": (
        "harness.commands.bazel",
        "run the Bazel cache cases against any cache and workspace",
    ),
    "measure": (
        "harness.commands.measure",
        "run a command under a lane's memory envelope and judge it",
    ),
    "gate": ("harness.commands.gate", "release gate: check evidence before a FlakeHub publish"),
    "evidence": (
        "harness.commands.evidence",
        "merge evidence files of matrix jobs, or render one in any format",
    ),
    "runner": ("harness.commands.runner", "prove Nix bootstrap on this runner (NIX001/NIX002)"),
    "matrix": ("harness.commands.matrix", "print the GitHub Actions matrix of suites and lanes"),
    "graph": ("harness.commands.graph", "the resolved job graph: lanes, bootstrap, roles"),
    "fleet": ("harness.commands.fleet", "check many repositories: enrollment, tranches, promotion"),
    "fix": (
        "harness.commands.fix",
        "write the edits findings ask for (verified; safe, or unsafe on request)",
    ),
}
"""Command name -> (module, one-line help): the help is written here only."""
