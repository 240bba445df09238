"""The fast schema pre-check never calls an invalid document valid (jsonschema is the judge)."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.contract import BUNDLED_CONTRACT
from harness.contract.schema import CONTRACT_SCHEMA
from harness.scenario import _SCHEMA as SCENARIO_SCHEMA
from harness.scenario import bundled_scenarios_dir, scenario_files
from harness.schema_check import is_valid
from harness.yamlnodes import load
from tests.helpers.repos import paths, plain

ODD_VALUES: list[Any] = [
    True,
    False,
    0,
    1,
    1.0,
    1.5,
    -1,
    "",
    "x",
    "8Gi",
    None,
    [],
    ["a"],
    [1],
    {},
    {"a": 1},
    "tinyland-nix",
    "nix",
    "s3",
    2,
]


def mutate(document: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(document)
    for _ in range(rng.randrange(1, 4)):
        path = rng.choice(paths(doc)[1:])
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = rng.randrange(3)
        if action == 0 and isinstance(parent, dict):
            del parent[last]
        elif action == 1 and isinstance(parent, dict):
            parent[rng.choice(["extra", "colour", "kind", "url", "heavy"])] = rng.choice(ODD_VALUES)
        else:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    return doc


@pytest.mark.parametrize(
    ("schema", "documents"),
    [
        (CONTRACT_SCHEMA, [plain(load(BUNDLED_CONTRACT))]),
        (SCENARIO_SCHEMA, [plain(load(p)) for p in scenario_files(bundled_scenarios_dir())]),
    ],
)
def test_never_valid_when_jsonschema_finds_errors(
    schema: dict[str, Any], documents: list[Any]
) -> None:
    validator = Draft202012Validator(schema)
    rng = random.Random(7)
    for document in documents:
        assert is_valid(schema, document), "valid documents take the fast path"
    invalid = 0
    for _ in range(3000):
        mutated = mutate(rng.choice(documents), rng)
        has_errors = any(True for _ in validator.iter_errors(mutated))
        invalid += has_errors
        if is_valid(schema, mutated):
            assert not has_errors, mutated
    assert invalid > 1000


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        ({"const": 1}, True, False),
        ({"const": 1}, 1.0, True),
        ({"enum": [0, "a"]}, False, False),
        ({"type": "integer"}, 2.0, True),
        ({"type": "integer"}, True, False),
        ({"type": ["string", "null"]}, None, True),
        ({"minimum": 0}, "x", True),
        ({"pattern": "^a"}, "ba", False),
        ({"additionalProperties": {"type": "string"}}, {"a": 1}, False),
        ({"unknownKeyword": 1}, {}, False),
        (False, 1, False),
    ],
)
def test_keywords(schema: Any, instance: Any, valid: bool) -> None:
    assert is_valid(schema, instance) is valid
