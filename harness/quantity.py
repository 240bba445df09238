"""Kubernetes resource quantities (512Mi, 8Gi, 1.5G, 128974848, 129e6) as bytes."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
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
    try:
        number = Decimal(match.group(1))
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
