"""Why the GitHub API gave nothing: one-line messages, never a credential.

A 403/429 with `x-ratelimit-remaining: 0` is the rate limit, named with its reset time; one
with `retry-after` is the secondary rate limit. A 404 for a repository without a token may
be a private repository, and the message says so.
"""

from __future__ import annotations

from datetime import UTC, datetime

from harness.github.uses.ref import UsesRef


class ApiFailure(Exception):
    """The API did not give what was asked. `kind`: not-found, unauthorized, forbidden,
    rate-limited, too-large, timeout or error; the message is one line and carries no
    credentials."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _rate_limited(name: str, status: int, headers: dict[str, str]) -> ApiFailure | None:
    """A 403/429 that is GitHub's rate limit (primary: with the reset time; secondary:
    with `retry-after`), else None."""
    if status not in (403, 429):
        return None
    if headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "")
        when = ""
        if reset.isdigit():
            when = " until " + datetime.fromtimestamp(int(reset), UTC).strftime(
                "%Y-%m-%d %H:%M:%S UTC"
            )
        why = f"GitHub API rate limit exhausted{when}"
    elif headers.get("retry-after", "").isdigit():
        why = f"GitHub API secondary rate limit: retry after {headers['retry-after']} s"
    else:
        return None
    return ApiFailure("rate-limited", f"{why}; set GITHUB_TOKEN, or give --uses-source for {name}")


def repo_failure(
    name: str, ref: str, status: int, headers: dict[str, str], token: bool
) -> ApiFailure:
    """Why the API gave nothing of repository `name` at `ref` (one line, no credentials)."""
    limited = _rate_limited(name, status, headers)
    if limited is not None:
        return limited
    if status == 404:
        why = (
            "no such repository, or the token cannot read it"
            if token
            else "no such repository, or a private one: set GITHUB_TOKEN"
        )
        return ApiFailure("not-found", f"{why} (HTTP 404)")
    if status == 422:
        return ApiFailure("not-found", f"{ref} is not a commit, tag or branch of {name} (HTTP 422)")
    if status == 409:
        return ApiFailure("not-found", f"{name} is an empty repository (HTTP 409)")
    if status in (301, 302, 307, 308):
        return ApiFailure(
            "not-found", f"{name} has moved (HTTP {status}): list it under its new name"
        )
    if status == 401:
        return ApiFailure("unauthorized", "the GitHub API refused the token (HTTP 401)")
    if status == 403:
        hint = "" if token else "; set GITHUB_TOKEN"
        return ApiFailure("forbidden", f"the GitHub API denied access to {name} (HTTP 403){hint}")
    return ApiFailure("error", f"the GitHub API answered HTTP {status} for {name}")


def file_failure(ref: UsesRef, status: int, headers: dict[str, str]) -> ApiFailure:
    """Why the contents API gave no file for `ref` (one line, no credentials)."""
    limited = _rate_limited(ref.name, status, headers)
    if limited is not None:
        return limited
    if status == 404:
        return ApiFailure(
            "not-found", f"{ref.path or 'the file'} is not in {ref.name} at {ref.ref} (HTTP 404)"
        )
    if status == 401:
        return ApiFailure("unauthorized", "the GitHub API refused the token (HTTP 401)")
    if status == 403:
        return ApiFailure("forbidden", f"the GitHub API denied access to {ref.name} (HTTP 403)")
    return ApiFailure("error", f"the GitHub API answered HTTP {status}")
