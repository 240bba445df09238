"""`fleet merge`: the fleet reports of matrix shards, combined into one report."""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessInputError
from harness.report.build import now_iso
from harness.rollout.fleet import SCHEMA, check_tranche, fleet_document


def merge_documents(documents: list[dict[str, Any]], tranche: str | None) -> dict[str, Any]:
    """One fleet document from shard documents made against the same contract."""
    if not documents:
        raise HarnessInputError("fleet merge needs at least one report")
    for index, document in enumerate(documents, start=1):
        if document.get("schema") != SCHEMA:
            raise HarnessInputError(
                f"report {index} is not a {SCHEMA} document (schema {document.get('schema')!r})"
            )
    contracts = {d["contract"].get("sha256") for d in documents}
    if len(contracts) != 1:
        raise HarnessInputError(
            "the reports were made against different contracts (contract.sha256 differs)"
        )
    rows: dict[str, dict[str, Any]] = {}
    for document in documents:
        for row in document["repos"]:
            key = row["repo"].lower()
            if key in rows:
                raise HarnessInputError(f"{row['repo']} is in more than one report")
            rows[key] = row
    first = documents[0]
    tranches = {name: list(entry.get("repos", [])) for name, entry in first["tranches"].items()}
    check_tranche(tranches, tranche)
    activities = [d.get("activity") for d in documents]
    activity = activities[0] if all(a == activities[0] for a in activities) else None
    return fleet_document(
        list(rows.values()),
        tranches,
        tranche,
        first["contract"],
        created=now_iso(),
        activity=activity,
    )
