"""Fleet reports as text (a table with each verdict explained) and Markdown (for
`$GITHUB_STEP_SUMMARY`). The HTML page lives in `harness/rollout/html.py`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from harness.jsontext import dumps_indented
from harness.rollout.patches import patch_lines
from harness.rollout.row import AREA_NAMES, VERDICTS

TEXT_COLUMNS = ("repo", "tranche", "ownership", "verdict", "enrolled lanes", "hosted")
COLUMNS = (*TEXT_COLUMNS, *AREA_NAMES)
"""Table columns: the row's facts, then its findings per area."""
_ICONS = {"ready": "✅", "excepted": "🟡", "blocked": "❌", "not-enrolled": "⚪"}


def hosted_text(row: dict[str, Any]) -> str:
    """Hosted jobs by platform: `linux/amd64:2 darwin/arm64:1`, `-` when none."""
    return " ".join(f"{platform}:{len(jobs)}" for platform, jobs in row["hosted"].items()) or "-"


def cells(row: dict[str, Any]) -> list[str]:
    """The table cells of one row, in COLUMNS order."""
    return [
        row["repo"],
        row["tranche"] or "-",
        row["ownership"],
        row["verdict"],
        ",".join(row["lanes"]) or "-",
        hosted_text(row),
        *(str(row["counts"][area]) for area in AREA_NAMES),
    ]


def headline(document: dict[str, Any]) -> str:
    """`14 repositories: 6 ready, 2 excepted, 3 blocked, 3 not-enrolled`."""
    counts = Counter(row["verdict"] for row in document["repos"])
    parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    return f"{len(document['repos'])} repositories: {parts or 'none'}"


def tranche_lines(document: dict[str, Any]) -> list[str]:
    """`tranche-1: ready 3 of 4; blocked: a/b; not checked: c/d` per tranche."""
    lines = []
    for name, entry in document["tranches"].items():
        mark = " (named)" if name == document.get("tranche") else ""
        text = f"{name}{mark}: ready {entry['ready']} of {entry['total']}"
        if entry["blocked"]:
            text += f"; blocked: {', '.join(entry['blocked'])}"
        if entry["missing"]:
            text += f"; not checked: {', '.join(entry['missing'])}"
        lines.append(text)
    return lines


def activity_lines(activity: dict[str, Any]) -> list[str]:
    """The activity section's three findings, one line each item."""
    lines = [
        f"{activity['runs']} run(s), {activity['jobs']} job(s) as of "
        f"{activity['as_of']} from {', '.join(activity['files'])}"
    ]
    for item in activity["enrolled_on_hosted"]:
        lines.append(
            f"enrolled but ran on hosted runners: {item['repo']} "
            f"({item['hosted_jobs']} job(s) on {', '.join(item['labels']) or '?'})"
        )
    for item in activity["slow_lane_queues"]:
        lines.append(
            f"queued {item['queued_seconds']} s for a lane: {item['repo']} job "
            f"`{item['job']}` on {json.dumps(item['labels'])} "
            f"({item['conclusion'] or 'still queued'})"
        )
    for item in activity["active_not_enrolled"]:
        where = "" if item["in_fleet"] else ", not in this fleet run"
        lines.append(
            f"active but not enrolled: {item['repo']} ({item['runs']} run(s), "
            f"last {item['last_run']}{where})"
        )
    return lines


def render_text(document: dict[str, Any]) -> str:
    """A fixed-width table, each verdict explained, tranches, candidates, activity."""
    header = [c.upper() for c in COLUMNS]
    table = [header, *(cells(row) for row in document["repos"])]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [f"fleet: {headline(document)}", ""]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in table
    ]
    lines += ["", "Verdicts:"]
    for row in document["repos"]:
        lines.append(f"  {row['repo']}: {row['verdict']}: {'; '.join(row['reasons'])}")
    if document["tranches"]:
        lines += ["", "Tranches:", *(f"  {line}" for line in tranche_lines(document))]
        lines += [
            "",
            f"Promotion candidates: {', '.join(document['promotion_candidates'])}"
            if document["promotion_candidates"]
            else "Promotion candidates: none",
        ]
    if "activity" in document:
        lines += ["", "Activity:", *(f"  {line}" for line in activity_lines(document["activity"]))]
    patches = patch_lines(document["repos"])
    if patches:
        lines += ["", "Patches:", *(f"  {line}" for line in patches)]
    return "\n".join(lines) + "\n"


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(document: dict[str, Any]) -> str:
    """The fleet report as GitHub-flavoured Markdown."""
    out = ["## flywheel-harness fleet", "", headline(document), ""]
    out += [
        "| " + " | ".join(COLUMNS) + " |",
        "| " + " | ".join(["---"] * len(TEXT_COLUMNS) + ["---:"] * len(AREA_NAMES)) + " |",
    ]
    for row in document["repos"]:
        values = cells(row)
        values[3] = f"{_ICONS.get(row['verdict'], '')} {row['verdict']}"
        out.append("| " + " | ".join(_md(v) for v in values) + " |")
    out += ["", "<details><summary>Why each verdict</summary>", ""]
    out += [
        f"- **{_md(row['repo'])}** {row['verdict']}: {_md('; '.join(row['reasons']))}"
        for row in document["repos"]
    ]
    out += ["", "</details>", ""]
    if document["tranches"]:
        out += ["### Tranches", "", *(f"- {_md(line)}" for line in tranche_lines(document)), ""]
        candidates = ", ".join(document["promotion_candidates"]) or "none"
        out += [f"**Promotion candidates:** {_md(candidates)}", ""]
    if "activity" in document:
        out += [
            "### Activity",
            "",
            *(f"- {_md(line)}" for line in activity_lines(document["activity"])),
            "",
        ]
    patches = patch_lines(document["repos"])
    if patches:
        out += ["### Patches", "", *(f"- {_md(line)}" for line in patches), ""]
    return "\n".join(out).rstrip() + "\n"


def render_json(document: dict[str, Any]) -> str:
    """The `flywheel-harness/fleet@1` document, indented."""
    return dumps_indented(document) + "\n"


def renderer(name: str) -> Callable[[dict[str, Any]], str]:
    """The render function of a fleet output format."""
    if name == "html":
        from harness.rollout.html import render_html

        return render_html
    return {"text": render_text, "markdown": render_markdown, "json": render_json}[name]


FORMATS = ("text", "json", "markdown", "html")
