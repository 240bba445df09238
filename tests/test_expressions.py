"""Expressions are evaluated where their contexts are known, and never guessed otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from harness.github.expressions import Unknown, evaluate, has_expression, substitute

CTX: dict[str, Any] = {
    "matrix": {"os": "linux", "lane": "tinyland-nix", "n": 3, "flags": ["a", "b"]},
    "inputs": {"runner": '["self-hosted", "tinyland-nix"]', "heavy": True, "Name": "x"},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("matrix.os", "linux"),
        ("matrix['lane']", "tinyland-nix"),
        ("matrix.missing", None),
        ("inputs.name", "x"),  # property names are case-insensitive
        ("fromJSON(inputs.runner)", ["self-hosted", "tinyland-nix"]),
        ("fromJSON('{\"a\": [1, 2]}').a[1]", 2),
        ("toJSON(matrix.flags)", '["a", "b"]'),
        ("format('tinyland-{0}-{1}', 'nix', 'heavy')", "tinyland-nix-heavy"),
        ("format('{0}', matrix.n)", "3"),
        ("format('{{0}} is {0}', 'x')", "{0} is x"),
        ("format('{0}{1}{0}', 'a', 'b')", "aba"),
        ("contains(matrix.flags, 'b')", True),
        ("contains('Hello', 'ELL')", True),
        ("startsWith(matrix.lane, 'tinyland')", True),
        ("endsWith(matrix.lane, 'heavy')", False),
        ("join(matrix.flags, '+')", "a+b"),
        ("matrix.os == 'LINUX'", True),
        ("matrix.n > 2 && matrix.n <= 3", True),
        ("inputs.heavy && 'tinyland-nix-heavy' || 'tinyland-nix'", "tinyland-nix-heavy"),
        ("!inputs.heavy && 'a' || 'b'", "b"),
        ("(1 == 1.0) && 'same'", "same"),
        ("'it''s'", "it's"),
        ("0x10 == 16", True),
        ("null == false", True),
        ("'' == 0", True),
        ("'abc' == 0", False),
        ("true != false", True),
    ],
)
def test_evaluates(expression: str, expected: Any) -> None:
    assert evaluate(expression, CTX) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "needs.plan.outputs.lane",
        "vars.RUNNER",
        "github.ref",
        "hashFiles('**/flake.lock')",
        "fromJSON(needs.plan.outputs.matrix)",
        "matrix.os ==",
        "matrix.*.os",
        "fromJSON('not json')",
        "matrix.os @ 1",
        "format('{0} {1}', 'only-one')",
    ],
)
def test_unknown_is_raised_not_guessed(expression: str) -> None:
    with pytest.raises(Unknown):
        evaluate(expression, CTX)


def test_substitute_keeps_type_of_a_whole_expression() -> None:
    assert substitute("${{ fromJSON(inputs.runner) }}", CTX) == ["self-hosted", "tinyland-nix"]
    assert substitute("  ${{ matrix.n }} ", CTX) == 3
    assert substitute("plain", CTX) == "plain"
    assert substitute(5, CTX) == 5


def test_substitute_interpolates_embedded_expressions_as_strings() -> None:
    assert substitute("tinyland-${{ matrix.os }}-${{ matrix.n }}", CTX) == "tinyland-linux-3"
    assert substitute("x-${{ inputs.heavy }}", CTX) == "x-true"
    assert substitute("${{ matrix.os }}-${{ matrix.n }}", CTX) == "linux-3"
    assert substitute("${{ matrix.os }}${{ matrix.os }}", CTX) == "linuxlinux"
    with pytest.raises(Unknown):
        substitute("x-${{ vars.X }}", CTX)


def test_has_expression_only_for_strings() -> None:
    assert has_expression("a ${{ b }}")
    assert not has_expression("a ${ b }")
    assert not has_expression(["${{ b }}"])
