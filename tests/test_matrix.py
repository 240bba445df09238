"""`strategy.matrix` expansion follows GitHub's semantics for include and exclude."""

from __future__ import annotations

from typing import Any

import pytest

from harness.github.expressions import Unknown
from harness.github.matrix import (
    MAX_COMBINATIONS,
    expand_for,
    expand_matrix,
    matrix_references,
)


def test_no_matrix_is_one_empty_combination() -> None:
    assert expand_matrix(None, {}) == [{}]


def test_cartesian_product_in_axis_order() -> None:
    combos = expand_matrix({"os": ["a", "b"], "v": [1, 2]}, {})
    assert combos == [
        {"os": "a", "v": 1},
        {"os": "a", "v": 2},
        {"os": "b", "v": 1},
        {"os": "b", "v": 2},
    ]


def test_githubs_documented_include_example() -> None:
    # https://docs.github.com/actions/using-jobs/using-a-matrix-for-your-jobs
    # ("Expanding or adding matrix configurations")
    matrix = {
        "fruit": ["apple", "pear"],
        "animal": ["cat", "dog"],
        "include": [
            {"color": "green"},
            {"color": "pink", "animal": "cat"},
            {"fruit": "apple", "shape": "circle"},
            {"fruit": "banana"},
            {"fruit": "banana", "animal": "cat"},
        ],
    }
    assert expand_matrix(matrix, {}) == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_include_never_overwrites_an_original_value() -> None:
    matrix = {"os": ["linux"], "include": [{"os": "darwin", "lane": "macos"}]}
    assert expand_matrix(matrix, {}) == [{"os": "linux"}, {"os": "darwin", "lane": "macos"}]


def test_exclude_is_partial_and_applied_before_include() -> None:
    matrix = {
        "os": ["linux", "darwin"],
        "size": ["small", "large"],
        "exclude": [{"os": "darwin", "size": "large"}, {"size": "huge"}],
        "include": [{"os": "darwin", "size": "large", "lane": "back"}],
    }
    assert expand_matrix(matrix, {}) == [
        {"os": "linux", "size": "small"},
        {"os": "linux", "size": "large"},
        {"os": "darwin", "size": "small"},
        {"os": "darwin", "size": "large", "lane": "back"},
    ]


def test_exclude_matches_nested_mappings() -> None:
    matrix = {
        "cfg": [{"lane": "a", "x": 1}, {"lane": "b", "x": 2}],
        "exclude": [{"cfg": {"lane": "b"}}],
    }
    assert expand_matrix(matrix, {}) == [{"cfg": {"lane": "a", "x": 1}}]


def test_include_only_matrix() -> None:
    matrix = {"include": [{"lane": "tinyland-nix"}, {"lane": "tinyland-docker"}]}
    assert expand_matrix(matrix, {}) == [{"lane": "tinyland-nix"}, {"lane": "tinyland-docker"}]


def test_matrix_from_inputs_and_fromjson() -> None:
    context = {"inputs": {"lanes": '["tinyland-nix", "tinyland-dind"]'}}
    matrix = {"lane": "${{ fromJSON(inputs.lanes) }}"}
    assert expand_matrix(matrix, context) == [{"lane": "tinyland-nix"}, {"lane": "tinyland-dind"}]
    whole = '${{ fromJSON(\'{"lane": ["x"], "include": [{"lane": "x", "y": 1}]}\') }}'
    assert expand_matrix(whole, {}) == [{"lane": "x", "y": 1}]


@pytest.mark.parametrize(
    "matrix",
    [
        "${{ fromJSON(needs.plan.outputs.matrix) }}",
        {"lane": "${{ vars.LANES }}"},
        {"lane": "not-a-list"},
        {"lane": ["a"], "include": "${{ fromJSON('3') }}"},
    ],
)
def test_runtime_matrices_are_unknown(matrix: Any) -> None:
    with pytest.raises(Unknown):
        expand_matrix(matrix, {})


def test_combinations_are_bounded() -> None:
    matrix = {f"axis{i}": list(range(4)) for i in range(6)}  # 4096 combinations
    assert len(expand_matrix(matrix, {})) == MAX_COMBINATIONS


def test_matrix_references() -> None:
    assert matrix_references("${{ matrix.os }}-${{ matrix['arch'] }} ${{ matrix.os }}") == [
        "os",
        "arch",
    ]
    assert matrix_references({"runner": "${{ matrix.lane }}"}) == ["lane"]
    assert matrix_references("${{ inputs.x }}") == []


def test_expand_for_uses_the_whole_matrix_when_it_is_static() -> None:
    matrix = {"os": ["a", "b"], "v": [1, 2]}
    assert expand_for(matrix, {}, "${{ matrix.os }}") == expand_matrix(matrix, {})


def test_expand_for_reads_static_axes_of_a_runtime_matrix() -> None:
    matrix = {
        "py": "${{ fromJSON(needs.plan.outputs.py) }}",
        "os": ["a", "b"],
        "exclude": "${{ fromJSON(needs.plan.outputs.exclude) }}",
        "include": [{"os": "c", "py": "3"}, {"py": "4"}, {"os": "a", "extra": 1}],
    }
    assert expand_for(matrix, {}, "${{ matrix.os }}") == [{"os": "a"}, {"os": "b"}, {"os": "c"}]


@pytest.mark.parametrize(
    ("matrix", "value"),
    [
        ("${{ fromJSON(needs.plan.outputs.matrix) }}", "${{ matrix.os }}"),
        ({"py": "${{ vars.PY }}"}, "${{ toJSON(matrix) }}"),
        ({"py": "${{ vars.PY }}", "os": ["a"]}, "${{ matrix.py }}"),
        ({"py": "${{ vars.PY }}", "os": ["a"]}, "${{ matrix.runner }}"),
        ({"py": "${{ vars.PY }}", "os": ["a"], "include": "${{ vars.INC }}"}, "${{ matrix.os }}"),
        (
            {"py": "${{ vars.PY }}", "os": ["a"], "arch": ["x"], "include": [{"os": "b"}]},
            "${{ matrix.os }}-${{ matrix.arch }}",
        ),
    ],
)
def test_expand_for_stays_unknown_when_values_could_be_missed(matrix: Any, value: str) -> None:
    with pytest.raises(Unknown):
        expand_for(matrix, {}, value)
