"""Evidence files: the JSON report a release gate later reads, signed when a key is set.

When `HARNESS_EVIDENCE_KEY` is set, the evidence carries
`"signature": {"algorithm": "hmac-sha256", "value": "<hex>"}`: an HMAC-SHA256 with that
key over the canonical JSON of every other key (sorted keys, no whitespace). The key
itself never appears in any output.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.atomic import write_text_atomic
from harness.errors import HarnessInputError, Problem
from harness.report.model import SCHEMA, Report
from harness.safe_read import MAX_JSON_BYTES, UnsafeFile, read_text

KEY_ENV = "HARNESS_EVIDENCE_KEY"
ALGORITHM = "hmac-sha256"
SIGNATURE = "signature"


def evidence_key(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The signing key from `HARNESS_EVIDENCE_KEY`, or None when it is unset.

    A set but empty (or blank) key is an input error, never "no key": it is what
    `${{ secrets.X }}` gives on a fork or after a rename, and reading it as unset would let
    unsigned evidence pass.
    """
    environ = os.environ if environ is None else environ
    if KEY_ENV not in environ:
        return None
    value = environ[KEY_ENV]
    if not value.strip():
        raise HarnessInputError(
            f"{KEY_ENV} is set but empty: set the real key, or unset "
            "the variable to run without signing"
        )
    return value.encode("utf-8")


def canonical(data: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the document without its signature, canonical JSON."""
    body = {k: v for k, v in data.items() if k != SIGNATURE}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sign(data: dict[str, Any], key: bytes) -> dict[str, Any]:
    """`data` with a fresh HMAC-SHA256 signature."""
    digest = hmac.new(key, canonical(data), hashlib.sha256).hexdigest()
    signed = {k: v for k, v in data.items() if k != SIGNATURE}
    signed[SIGNATURE] = {"algorithm": ALGORITHM, "value": digest}
    return signed


def signature_problem(data: dict[str, Any], key: bytes) -> str | None:
    """Why `data` is not validly signed with `key`, or None when it is."""
    signature = data.get(SIGNATURE)
    if signature is None:
        return f"evidence is not signed, but {KEY_ENV} is set"
    if (
        not isinstance(signature, dict)
        or signature.get("algorithm") != ALGORITHM
        or not isinstance(signature.get("value"), str)
    ):
        return f"evidence signature is malformed (expected algorithm {ALGORITHM})"
    expected = hmac.new(key, canonical(data), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature["value"]):
        return (
            "evidence signature does not match: the file was changed after signing, "
            "or signed with another key"
        )
    return None


def evidence_document(report: Report, key: bytes | None = None) -> dict[str, Any]:
    """The evidence JSON object of a report, signed when a key is given."""
    data = report.to_json()
    data.pop(SIGNATURE, None)
    return sign(data, key) if key else data


def write_evidence(report: Report, path: Path, key: bytes | None = None) -> None:
    """Write the report as evidence JSON at `path` (signed with `key` or `HARNESS_EVIDENCE_KEY`)."""
    if key is None:
        key = evidence_key()
    document = evidence_document(report, key)
    write_text_atomic(path, json.dumps(document, indent=2) + "\n")


def read_evidence(path: Path) -> dict[str, Any]:
    """The raw JSON object of an evidence file; HarnessInputError when it is not one."""
    try:
        text = read_text(path, MAX_JSON_BYTES)
    except UnsafeFile as exc:
        raise HarnessInputError(
            Problem(str(path), None, f"cannot read evidence: {exc.reason}")
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarnessInputError(
            Problem(str(path), exc.lineno, f"evidence is not JSON: {exc.msg}")
        ) from exc
    except RecursionError:
        raise HarnessInputError(
            Problem(str(path), None, "evidence is not JSON: nested too deeply")
        ) from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise HarnessInputError(
            Problem(str(path), None, f"evidence is not JSON: {str(exc).split(';')[0]}")
        ) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise HarnessInputError(
            Problem(str(path), None, f"not a flywheel-harness report (schema {SCHEMA})")
        )
    if not isinstance(data.get("results"), list):
        raise HarnessInputError(Problem(str(path), None, "evidence has no results list"))
    return data


def load_report(data: dict[str, Any], path: Path) -> Report:
    """The Report of an evidence object (without its signature); bad shapes are input errors."""
    body = {k: v for k, v in data.items() if k != SIGNATURE}
    try:
        return Report.from_json(body)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise HarnessInputError(
            Problem(str(path), None, f"evidence results are malformed: {exc}")
        ) from exc
