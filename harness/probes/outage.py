"""A broken cache on loopback, to prove builds survive a cache outage (BAZEL004, tests).

Modes:
- `refuse`: nothing listens on the port, so connections are refused;
- `http500`: every request is answered `500 Internal Server Error`;
- `hang`: connections are accepted and never answered.

The broken caches are the fault server's (`harness.probes.faultserver`), which also answers
an HTTP/2 (gRPC) client with the same fault.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from harness.probes.faultserver import FaultServer, Reply
from harness.probes.ports import closed_port

MODES = ("refuse", "http500", "hang")
_FAULTS = {"http500": "500", "hang": "slow"}


@dataclass
class Outage:
    """A broken cache on 127.0.0.1; `url` is what to pass as `--remote_cache`."""

    mode: str
    port: int
    server: FaultServer | None = None

    @property
    def url(self) -> str:
        """Base URL of the broken cache."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop answering (and release hung connections)."""
        if self.server is not None:
            self.server.stop()


def start_outage(mode: str) -> Outage:
    """Start a broken cache in `mode` (one of MODES)."""
    if mode not in MODES:
        raise ValueError(f"unknown outage mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "refuse":
        return Outage(mode, closed_port())
    server = FaultServer(default=Reply(fault=_FAULTS[mode])).start()
    return Outage(mode, server.port, server)


@contextlib.contextmanager
def outage(mode: str) -> Iterator[Outage]:
    """Context manager form of `start_outage`."""
    server = start_outage(mode)
    try:
        yield server
    finally:
        server.stop()
