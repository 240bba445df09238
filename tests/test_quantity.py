"""Kubernetes quantities as bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.quantity import format_bytes, parse_quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512Mi", 512 * 2**20),
        ("8Gi", 8 * 2**30),
        ("1.5G", 1_500_000_000),
        ("1.5Gi", 3 * 2**29),
        ("128974848", 128974848),
        ("129e6", 129_000_000),
        ("100k", 100_000),
        ("1Ki", 1024),
        ("2Ti", 2 * 2**40),
        (" 4Gi ", 4 * 2**30),
        (".5Gi", 2**29),
        (1024, 1024),
        (2.5, 2),
    ],
)
def test_parses(text: str | int | float, expected: int) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["8GB", "8gi", "-1Gi", "Gi", "", "1.2.3Mi", "8 Gi i", "ten"])
def test_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity(text)


def test_rejects_negative_numbers_and_booleans() -> None:
    with pytest.raises(ValueError):
        parse_quantity(-5)
    with pytest.raises(ValueError):
        parse_quantity(True)


def test_error_names_the_value_and_an_example() -> None:
    with pytest.raises(ValueError) as info:
        parse_quantity("8GB")
    assert "'8GB'" in str(info.value)
    assert "8Gi" in str(info.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (512, "512B"),
        (1536, "1.5Ki"),
        (8 * 2**30, "8.0Gi"),
        (3 * 2**50, "3.0Pi"),
    ],
)
def test_format_bytes(value: int, text: str) -> None:
    assert format_bytes(value) == text


@given(
    number=st.integers(min_value=0, max_value=10**22),
    zeros=st.integers(min_value=0, max_value=3),
    suffix=st.sampled_from(["", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]),
)
def test_whole_numbers_read_as_decimals_read_them(number: int, zeros: int, suffix: str) -> None:
    """A whole number is read without `decimal`; written as a decimal (`N.0`), the same
    quantity is read with it: both give the same bytes, or both refuse."""
    whole = "0" * zeros + str(number) + suffix
    as_decimal = f"{number}.0{suffix}"
    results: list[int | str] = []
    for text in (whole, as_decimal):
        try:
            results.append(parse_quantity(text))
        except ValueError as exc:
            assert "over the largest accepted" in str(exc)
            results.append("over")
    assert results[0] == results[1]
