"""Credentials never leave the harness: user info in URLs is removed from what it reports."""

from __future__ import annotations

import re

_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")


def scrub_credentials(text: str) -> str:
    """`text` with `user:password@` removed from every URL in it."""
    return _USERINFO.sub(r"\1", text) if "@" in text else text
