"""Odd workflow and action files never crash a check: they are findings (WF001) or unknowns."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.engine import make_context, run_case
from harness.results import Status
from harness.scenario import Case
from harness.yamlnodes import YamlError, load
from tests.helpers.repos import paths, plain

REPOS = Path(__file__).parent / "fixtures" / "repos"
CHECKS = [
    "workflows.readable",
    "workflows.local_uses",
    "workflows.needs",
    "lanes.known_labels",
    "lanes.scale_set_label_alone",
    "bootstrap.workflow_owned_nix",
]
ODD: list[Any] = [
    None,
    True,
    0,
    1.5,
    "",
    "x",
    "${{ matrix.x }}",
    "${{ fromJSON('[1]') }}",
    "${{ inputs.a }}",
    "${{",
    "}}",
    [],
    [None],
    ["a", 1],
    {},
    {"a": None},
    {"group": 1},
    {"labels": "x"},
    "./.github/actions/x",
    "./",
    "nix build",
]


def mutate(document: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(document)
    for _ in range(rng.randrange(1, 4)):
        candidates = paths(doc)[1:]
        if not candidates:
            return copy.deepcopy(rng.choice(ODD))
        path = rng.choice(candidates)
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = copy.deepcopy(rng.choice(ODD))
    return doc


def sources() -> list[tuple[tuple[str, ...], Any]]:
    out = []
    for path in sorted(REPOS.rglob("*.y*ml")):
        try:
            document = plain(load(path))
        except YamlError:
            continue
        out.append((path.relative_to(REPOS).parts[1:], document))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_mutated_repositories_never_crash_a_check(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    files = sources()
    for round_ in range(15):
        root = tmp_path / f"r{round_}"
        for parts, document in rng.sample(files, 6):
            target = root.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(yaml.safe_dump(mutate(document, rng)))
        ctx = make_context(root)
        for check in CHECKS:
            result = run_case(ctx, "robustness", Case("case", check, 1))
            assert result.status is not Status.ERROR, (check, result.reason, root)
