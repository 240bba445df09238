"""Bundled cases under a user's own contract: a honey lane the contract lacks is replaced
by the contract's lane of the same kind, or the case does not apply."""

from __future__ import annotations

from functools import lru_cache

from harness.contract.load import BUNDLED_CONTRACT, load_contract
from harness.contract.model import Contract, Lane


@lru_cache(maxsize=1)
def _bundled() -> Contract:
    return load_contract(BUNDLED_CONTRACT, f"bundled:{BUNDLED_CONTRACT.name}")


class LaneMissing(LookupError):
    """The contract has no lane of that name and no lane of the same kind."""


def lane_or_substitute(contract: Contract, name: str) -> tuple[Lane, str | None]:
    """The lane `name`, else the contract's lane of the same kind as the bundled contract's
    `name` (the lightest such lane), with a note saying so.

    Raises LaneMissing when the contract has no lane of that kind (the case then skips), and
    KeyError when `name` is no lane of the bundled contract either (a typo: bad input).
    """
    lane = contract.lane(name)
    if lane is not None:
        return lane, None
    honey = _bundled().lane(name)
    if honey is None:
        raise KeyError(name)
    same = [
        candidate
        for candidate in contract.lanes.values()
        if candidate.kind == honey.kind and candidate.heavy == honey.heavy
    ]
    same = same or [c for c in contract.lanes.values() if c.kind == honey.kind]
    if not same:
        raise LaneMissing(f"the contract has no lane {name} and no lane of its kind ({honey.kind})")
    chosen = min(same, key=lambda candidate: (candidate.memory_limit, candidate.name))
    return chosen, (
        f"lane {name} is not in the contract; measured against its lane of "
        f"the same kind ({honey.kind}): {chosen.name}"
    )
