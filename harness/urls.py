"""The one check of an endpoint URL's scheme, for flags, contract values and command inputs."""

from __future__ import annotations

from collections.abc import Sequence

from harness.errors import HarnessInputError

HTTP = ("http", "https")
"""Schemes of an Attic (Nix binary cache) endpoint."""
BAZEL = ("http", "https", "grpc", "grpcs")
"""Schemes of a Bazel remote cache."""


def scheme_of(url: str) -> str | None:
    """The lower-cased scheme of `url`, or None when it has no `scheme://`."""
    return url.split("://", 1)[0].lower() if "://" in url else None


def require_scheme(url: str, schemes: Sequence[str], source: str) -> str:
    """`url` when its scheme is one of `schemes`; else HarnessInputError naming `source`.

    The message shows the URL without its user info (it may carry credentials).
    """
    if scheme_of(url) in schemes:
        return url
    from harness.redact import redact_url

    got = f"{redact_url(url)!r}" if "://" in url else "no scheme"
    allowed = [f"{scheme}://" for scheme in schemes]
    listed = allowed[0] if len(allowed) == 1 else f"{', '.join(allowed[:-1])} or {allowed[-1]}"
    raise HarnessInputError(f"{source} must start with {listed}, got {got}")
