"""Credentials never leave the harness: user info in URLs is removed from what it reports.

Every URL in a message is parsed with `urllib.parse`. When its authority holds user info
(an `@`) or a `:` (a port, or a password cut short by an unencoded `/`, `?` or `#`),
everything up to the *last* `@` of the URL goes: a password holding `@` or `/`
(`http://u:p@ss@host`, `http://u:12/x@host`) is removed whole. A URL whose path holds an
`@` after a credential or a port loses its host name too: a message may lose a host
name, never a password fragment. Not covered: a password holding whitespace, `"`, `<`,
`>` or a backtick, which no URL parser reads as one URL either.
"""

from __future__ import annotations

import re
from typing import Any, TextIO
from urllib.parse import urlsplit

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"<>`]*")
"""A URL as it appears in a message: up to whitespace, a double quote, `<`, `>` or a backtick
(a single quote may be part of a password, and a repr quotes such a URL with `"`)."""


def _scrub_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    if "@" not in rest:
        return url
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # an unbalanced `[`: not a URL Python can parse
        netloc = ":"
    if "@" not in netloc and ":" not in netloc:
        return url  # a bare host; `@` only in the path (`docker://ghcr.io/o/i@sha256:...`)
    return f"{scheme}://{rest.rpartition('@')[2]}"


def scrub_credentials(text: str) -> str:
    """`text` with the user info (`user:password@`) removed from every URL in it."""
    if "@" not in text or "://" not in text:
        return text
    return _URL.sub(lambda match: _scrub_url(match.group(0)), text)


def redact_url(url: str) -> str:
    """One URL without its user info, query or fragment, for messages."""
    parts = urlsplit(scrub_credentials(url))
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else parts.path


class ScrubbedStream:
    """A text stream whose writes have credentials in URLs removed (wraps stdout/stderr)."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        """Write `text` scrubbed; returns the length of `text` as given."""
        self.inner.write(scrub_credentials(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
