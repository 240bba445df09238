"""An endpoint the user names is a demand: when it does not serve, one finding says so.

`--attic-url`, `--bazel-cache` (and the `attic`/`bazel` commands' `--url`, the plugin's
options and ini keys) name an endpoint. Every case that needs it first asks
`Demands.require`, which makes one bounded first request per endpoint and run
(`FIRST_CONTACT_SECONDS`) and remembers the verdict. When the endpoint does not serve, the
case raises `EndpointDown`; the engine turns that into exactly one finding of the
endpoint's rule (ATTIC001, BAZEL001), reported by the case whose check owns the rule,
and skips every other case with "see ATTIC001". When the owning check is not part of the
run, the first case to find the endpoint down reports the finding instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from harness.errors import HarnessError

FIRST_CONTACT_SECONDS = 5.0
"""Seconds the first request to a named endpoint may take, connect to answer, retries
included: an endpoint that has not answered by then does not serve."""


class EndpointDown(HarnessError):
    """The named `endpoint` does not serve (`why`); `rule` is the rule that reports it."""

    def __init__(self, rule: str, endpoint: str, why: str) -> None:
        super().__init__(f"{endpoint} does not serve: {why}")
        self.rule = rule
        self.endpoint = endpoint
        self.message = str(self)


def owner_of(rule: str) -> str | None:
    """The check that reports `rule` (from the check registry)."""
    from harness.checks.registry import REGISTRY

    return next((spec.name for spec in REGISTRY if rule in spec.rules), None)


class Demands:
    """One run's named endpoints: their verdicts, and which case reports each one down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checks: frozenset[str] = frozenset()
        self._verdicts: dict[tuple[str, str], str | None] = {}
        self._probing: dict[tuple[str, str], threading.Lock] = {}
        self._reporters: dict[str, str] = {}

    def plan(self, checks: Iterable[str]) -> None:
        """The checks this run will run (an owner among them reports its endpoint)."""
        with self._lock:
            self._checks = frozenset(checks)

    def require(self, rule: str, endpoint: str, probe: Callable[[], str | None]) -> None:
        """EndpointDown when `endpoint` (as messages name it) does not serve. `probe`
        returns why not, or None; it runs once per endpoint and run, however many cases
        ask at once."""
        key = (rule, endpoint)
        with self._lock:
            gate = self._probing.setdefault(key, threading.Lock())
        with gate:
            if key not in self._verdicts:
                self._verdicts[key] = probe()
        why = self._verdicts[key]
        if why is not None:
            raise EndpointDown(rule, endpoint, why)

    def reports(self, rule: str, check: str, case: str) -> bool:
        """True when this case reports `rule` (its endpoint is down); False: it skips."""
        owner = owner_of(rule)
        if check == owner:
            return True
        with self._lock:
            if owner in self._checks:
                return False
            return self._reporters.setdefault(rule, case) == case
