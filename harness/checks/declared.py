"""A check's params as its registration declares them: reading an undeclared key is a bug.

The engine hands every registered check its case's `params` through `DeclaredParams`. A
check that reads a key its params schema does not declare (a typo, a param added to the
code and not to the registry) fails at once with `UndeclaredParam`, in the tests as in a
run, instead of silently reading nothing: the schema stays the whole truth of what a case
may set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class UndeclaredParam(RuntimeError):
    """A check read a params key its registration does not declare (a bug in the check)."""


class DeclaredParams(Mapping[str, Any]):
    """Read-only params of check `check` that allow only the `declared` keys to be read."""

    def __init__(self, check: str, params: Mapping[str, Any], declared: frozenset[str]) -> None:
        self._check = check
        self._params = params
        self._declared = declared

    def _allowed(self, key: str) -> None:
        if key not in self._declared:
            raise UndeclaredParam(
                f"check {self._check} reads params key {key!r}, which its registration does "
                f"not declare (declared: {', '.join(sorted(self._declared)) or 'none'})"
            )

    def __getitem__(self, key: str) -> Any:
        self._allowed(key)
        return self._params[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._allowed(key)
        return key in self._params

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"DeclaredParams({self._check}, {dict(self._params)!r})"
