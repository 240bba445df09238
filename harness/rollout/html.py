"""The fleet report as one self-contained HTML page: no external assets, a table sortable by
any column (a few lines of inline JavaScript), and a drill-down per repository."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.rollout.patches import patch_lines
from harness.rollout.render import (
    COLUMNS,
    TEXT_COLUMNS,
    activity_lines,
    cells,
    headline,
    tranche_lines,
)

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.muted{color:#59636e}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d1d9e0;padding:4px 8px;text-align:left;white-space:nowrap}
th{background:#f6f8fa;cursor:pointer;user-select:none;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.n.z{color:#c8ced5}
.v{border-radius:10px;padding:1px 8px;font-weight:600;font-size:12px}
.ready{background:#dafbe1;color:#1a7f37}.excepted{background:#fff8c5;color:#9a6700}
.blocked{background:#ffebe9;color:#cf222e}.not-enrolled{background:#eaeef2;color:#59636e}
details{border:1px solid #d1d9e0;border-radius:6px;margin:6px 0;padding:4px 10px}
summary{cursor:pointer;font-weight:600}ul{margin:4px 0 8px;padding-left:20px}
code{background:#f6f8fa;padding:0 4px;border-radius:4px;font-size:12px}
.error{color:#cf222e}.warning{color:#9a6700}.note{color:#59636e}
"""

_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function(th, col) {
  th.addEventListener("click", function() {
    var table = th.closest("table"), body = table.tBodies[0];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function(h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b) {
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function(r) { body.appendChild(r); });
  });
});
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(document: dict[str, Any]) -> list[str]:
    head = "".join(f"<th>{_e(c)}</th>" for c in COLUMNS)
    out = ['<table class="sortable" id="fleet">', f"<thead><tr>{head}</tr></thead><tbody>"]
    for row in document["repos"]:
        tds = []
        for index, (column, value) in enumerate(zip(COLUMNS, cells(row), strict=True)):
            if column == "repo":
                inner = f'<a href="#{_e(_anchor(row))}">{_e(value)}</a>'
            elif column == "verdict":
                inner = f'<span class="v {_e(value)}">{_e(value)}</span>'
            else:
                inner = _e(value)
            number = index >= len(TEXT_COLUMNS)
            klass = ' class="n z"' if number and value == "0" else ' class="n"' if number else ""
            tds.append(f'<td{klass} data-v="{_e(value)}">{inner}</td>')
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    return out


def _anchor(row: dict[str, Any]) -> str:
    return "repo-" + str(row["repo"]).replace("/", "-")


def _findings(row: dict[str, Any]) -> list[str]:
    items = []
    for result in row["report"].get("results", []):
        for f in result.get("findings", []):
            where = f"{f.get('file') or 'repository'}:{f.get('line') or ''}".rstrip(":")
            items.append(
                f'<li><span class="{_e(f["severity"])}">{_e(f["severity"])}</span> '
                f"<b>{_e(f['rule'])}</b> <code>{_e(where)}</code> {_e(f['message'])}"
                "</li>"
            )
    return ["<ul>", *items, "</ul>"] if items else ["<p class=muted>No findings.</p>"]


def _drill_down(row: dict[str, Any]) -> list[str]:
    summary = f'<span class="v {_e(row["verdict"])}">{_e(row["verdict"])}</span> {_e(row["repo"])}'
    out = [
        f'<details id="{_e(_anchor(row))}"><summary>{summary}</summary>',
        "<ul>",
        *(f"<li>{_e(reason)}</li>" for reason in row["reasons"]),
        "</ul>",
        f"<p><b>Tranche</b> {_e(row['tranche'] or 'none')} · <b>ownership</b> "
        f"{_e(row['ownership'])} · <b>path</b> <code>{_e(row['path'])}</code></p>",
    ]
    if row["hosted"]:
        out.append("<p><b>Hosted jobs</b></p><ul>")
        out += [
            f"<li>{_e(platform)}: {_e(', '.join(jobs))}</li>"
            for platform, jobs in row["hosted"].items()
        ]
        out.append("</ul>")
    for exception in row["exceptions"]:
        out.append(
            f"<p><b>Hosted exception</b> ({_e(exception['state'])}): "
            f"{_e(exception['reason'])}; allows {_e(', '.join(exception['allow']))} "
            f"until {_e(exception['until'])}</p>"
        )
    promotion = row["promotion"]
    verdict = (
        "passes" if promotion["passes"] else "does not pass: " + "; ".join(promotion["reasons"])
    )
    out.append(f"<p><b>Promotion</b> {_e(verdict)}</p>")
    if "activity" in row:
        a = row["activity"]
        out.append(
            f"<p><b>Activity</b> {a['runs']} run(s), {a['jobs']} job(s), "
            f"{a['hosted_jobs']} on hosted runners, {a['slow_queues']} slow lane "
            f"queue(s), last run {_e(a['last_run'] or 'never')}</p>"
        )
    out += ["<p><b>Findings</b></p>", *_findings(row), "</details>"]
    return out


def render_html(document: dict[str, Any]) -> str:
    """The whole page."""
    contract = document.get("contract", {})
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>flywheel-harness fleet</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>flywheel-harness fleet</h1>",
        f'<p class="muted">{_e(headline(document))} · contract '
        f"<code>{_e(contract.get('path', '?'))}</code> · {_e(document.get('created', ''))}"
        "</p>",
        *_table(document),
    ]
    if document["tranches"]:
        out += [
            "<h2>Tranches</h2>",
            "<ul>",
            *(f"<li>{_e(line)}</li>" for line in tranche_lines(document)),
            "</ul>",
            "<p><b>Promotion candidates:</b> "
            f"{_e(', '.join(document['promotion_candidates']) or 'none')}</p>",
        ]
    if "activity" in document:
        out += [
            "<h2>Activity</h2>",
            "<ul>",
            *(f"<li>{_e(line)}</li>" for line in activity_lines(document["activity"])),
            "</ul>",
        ]
    patches = patch_lines(document["repos"])
    if patches:
        out += ["<h2>Patches</h2>", "<ul>", *(f"<li>{_e(line)}</li>" for line in patches), "</ul>"]
    out += ["<h2>Repositories</h2>"]
    for row in document["repos"]:
        out += _drill_down(row)
    out += [f"<script>{_SCRIPT}</script>", "</body></html>"]
    return "\n".join(out) + "\n"
