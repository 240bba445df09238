"""One id per harness process, so that artifacts of concurrent runs never collide."""

from __future__ import annotations

import os
import secrets
from pathlib import PurePath

RUN_ID = f"{os.getpid()}-{secrets.token_hex(3)}"
"""`<pid>-<6 hex>`: unique among the runs sharing an artifacts folder."""


def run_unique(name: str) -> str:
    """`name` with this run's id before its suffix: `memory-x.svg` -> `memory-x-<id>.svg`."""
    path = PurePath(name)
    return str(path.with_name(f"{path.stem}-{RUN_ID}{path.suffix}"))
