"""JSON Schemas the package ships: the report (`flywheel-harness/report@1`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPORT_SCHEMA_PATH = Path(__file__).parent / "report.schema.json"
"""The JSON Schema of the JSON report and evidence files (docs/report-schema.md)."""


def report_schema() -> dict[str, Any]:
    """The report's JSON Schema as a dict (for `jsonschema.validate`)."""
    schema: dict[str, Any] = json.loads(REPORT_SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema
