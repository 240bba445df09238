"""Kubernetes resource quantities (512Mi, 8Gi, 1.5G, 128974848, 129e6) as bytes."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

_SUFFIXES: dict[str, int] = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
MAX_QUANTITY = 2**63 - 1
"""The largest quantity accepted (8Ei): what a signed 64-bit byte count holds, as in Kubernetes."""
_QUANTITY = re.compile(r"^\s*([+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]{0,2})\s*$")


def parse_quantity(value: str | int | float) -> int:
    """Return the number of bytes a Kubernetes memory quantity stands for.

    Raises ValueError with a readable message for anything Kubernetes would reject.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite quantity: {value!r}")
        if value < 0:
            raise ValueError(f"negative quantity: {value!r}")
        if value > MAX_QUANTITY:
            raise ValueError(f"quantity {value:g} is over the largest accepted, 8Ei")
        return int(value)
    if len(str(value)) > 64:
        raise ValueError(f"not a Kubernetes quantity: {str(value)[:40]!r}... (too long)")
    match = _QUANTITY.match(str(value))
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(f"not a Kubernetes quantity: {value!r} (use e.g. 512Mi, 8Gi, 1.5G)")
    written = match.group(1).lstrip("+")
    total: int | Decimal
    if written.isdecimal():  # a whole number (8Gi), the usual case: exact as an int
        if len(written.lstrip("0")) > 20:  # checked before multiplying
            raise ValueError(f"quantity {str(value).strip()} is over the largest accepted, 8Ei")
        total = int(written) * _SUFFIXES[match.group(2)]
    else:  # a fraction or an exponent (1.5G, 129e6): exact as a decimal
        from decimal import Decimal, InvalidOperation

        try:
            number = Decimal(written)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
            raise ValueError(f"not a Kubernetes quantity: {value!r}") from exc
        if number.adjusted() > 19:  # checked before multiplying: 1e999999Gi overflows Decimal
            raise ValueError(f"quantity {str(value).strip()} is over the largest accepted, 8Ei")
        total = number * _SUFFIXES[match.group(2)]
    if total > MAX_QUANTITY:
        raise ValueError(f"quantity {str(value).strip()} is over the largest accepted, 8Ei")
    return int(total)


def format_bytes(value: float) -> str:
    """Format bytes with a binary suffix, the way `kubectl top` users read them."""
    units = ["B", "Ki", "Mi", "Gi", "Ti", "Pi"]
    amount = float(value)
    for unit in units:
        if abs(amount) < 1024 or unit == units[-1]:
            return f"{amount:.0f}{unit}" if unit == "B" else f"{amount:.1f}{unit}"
        amount /= 1024
    raise AssertionError("unreachable")
