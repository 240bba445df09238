"""Indented JSON text is the standard library's, whatever the value."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.jsontext import dumps_indented


class Colour(StrEnum):
    RED = "red"


VALUES: list[Any] = [
    {},
    [],
    {"a": [], "b": {}, "c": [1, 2.5, -0.0, True, False, None, 'é\n"x"', (3, 4)]},
    {"nested": {"deep": [{"x": [[]]}]}, "big": 10**30, "small": 1e-300},
    [float("nan"), float("inf")],
    {1: "int key", None: "none key", False: "bool key", 2.5: "float key"},
    {"enum": Colour.RED, "tuple": (1,)},
    "just a string",
    12,
]


@pytest.mark.parametrize("value", VALUES)
def test_the_text_is_what_json_dumps_writes(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2)


def test_a_cycle_is_refused_as_json_refuses_it() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        dumps_indented(loop)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(JSON)
def test_any_json_value(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2)
