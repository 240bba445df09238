"""A memory timeline as a small self-contained SVG: working set and tree RSS against the limit.

Plain SVG with no scripts or external fonts, so it renders the same in a browser, in a
GitHub PR and as a CI artifact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from pathlib import PurePath

from harness.probes.workload import WorkloadRun
from harness.quantity import format_bytes

WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 48, 56
WORKING_SET, RSS, LIMIT, USAGE = "#1f6feb", "#d9822b", "#cf222e", "#8c959f"


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    magnitude = 1.0
    while magnitude * 10 <= raw:
        magnitude *= 10
    while magnitude > raw:
        magnitude /= 10
    for factor in (1, 2, 2.5, 5, 10):
        if magnitude * factor >= raw:
            return magnitude * factor
    return magnitude * 10


def _byte_unit(top: float) -> tuple[float, str]:
    return (float(1 << 30), "Gi") if top >= 2 << 30 else (float(1 << 20), "Mi")


def _tick_label(value: float, unit: tuple[float, str]) -> str:
    amount = value / unit[0]
    return f"{amount:.{0 if amount == int(amount) else 1}f}{unit[1]}" if amount else "0"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _polyline(points: Sequence[tuple[float, float]], colour: str, dash: str = "") -> str:
    if not points:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2"{extra} points="{coords}"/>'


def short_command(command: Sequence[str] | str, width: int = 60) -> str:
    """A command as a chart label: paths shortened to their last part (`/venv/bin/python
    /src/x.py --anon 1Gi` -> `python x.py --anon 1Gi`), clipped to `width`."""
    words = command.split() if isinstance(command, str) else list(command)
    short = [
        PurePath(w).name if "/" in w and not w.startswith("-") and PurePath(w).name else w
        for w in words
    ]
    return _clip(" ".join(short), width)


def _peak_seen(run: WorkloadRun) -> int:
    """The highest working set a sample caught (the plotted line's top)."""
    if run.kernel_judged:
        return max((s.working_set or 0 for s in run.samples), default=0)
    return max((s.tree_rss for s in run.samples), default=0)


def _oom_time(run: WorkloadRun) -> float:
    """When the OOM kill happened, as near as the samples tell: the last sample at the
    highest usage (the kernel kills when nothing is left to reclaim), else the end."""
    if not run.samples:
        return run.wall_seconds
    best = max(run.samples, key=lambda s: ((s.usage or s.working_set or s.tree_rss), s.t))
    return best.t


def timeline_svg(run: WorkloadRun, title: str, limit_label: str = "limit") -> str:
    """The run's samples as an SVG line chart (time on x, bytes on y)."""
    samples = run.samples
    duration = max((s.t for s in samples), default=0.0) or max(run.wall_seconds, 0.1)
    values = [v for s in samples for v in (s.tree_rss, s.working_set or 0, s.usage or 0)]
    values += [run.peak_working_set, run.peak_usage or 0]
    top = float(max([*values, run.limit or 0, 1 << 20]) * 1.1)
    unit = _byte_unit(top)
    step = _nice_step(top / unit[0]) * unit[0]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * t / duration

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">'
        f"{escape(_clip(title, 80))}</text>",
        f'<text x="{LEFT}" y="38" fill="#57606a">{escape(_subtitle(run))}</text>',
    ]
    tick = 0.0
    while tick <= top:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" stroke="#eaeef2"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="#57606a">{_tick_label(tick, unit)}</text>'
        )
        tick += step
    t_step = _nice_step(duration)
    t = 0.0
    while t <= duration + 1e-9:
        parts.append(
            f'<text x="{x(t):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'fill="#57606a">{t:g}s</text>'
        )
        t += t_step
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
        f'y2="{TOP + plot_h}" stroke="#57606a"/>'
    )
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#57606a"/>')
    if run.limit:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(run.limit):.1f}" '
            f'y2="{y(run.limit):.1f}" stroke="{LIMIT}" stroke-width="2" '
            'stroke-dasharray="8 4"/>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT - 4}" y="{y(run.limit) - 6:.1f}" '
            f'text-anchor="end" fill="{LIMIT}">'
            f"{escape(limit_label)} {format_bytes(run.limit)}</text>"
        )
    legend = []
    if run.kernel_judged:
        parts.append(_polyline([(x(s.t), y(s.usage or 0)) for s in samples], USAGE, "2 2"))
        parts.append(_polyline([(x(s.t), y(s.working_set or 0)) for s in samples], WORKING_SET))
        legend += [
            (WORKING_SET, "working set (usage - inactive file)"),
            (USAGE, "usage incl. page cache"),
        ]
    parts.append(_polyline([(x(s.t), y(s.tree_rss)) for s in samples], RSS, "4 3"))
    legend += [(RSS, "tree RSS"), (LIMIT, limit_label)]
    parts += _kernel_marks(run, x, y, plot_h)
    lx = 20
    for colour, text in legend:
        ly = HEIGHT - 14
        parts.append(
            f'<line x1="{lx}" x2="{lx + 22}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(f'<text x="{lx + 28}" y="{ly}">{escape(text)}</text>')
        lx += 38 + int(6.4 * len(text))
    parts.append("</svg>")
    return "\n".join(p for p in parts if p) + "\n"


def _kernel_marks(
    run: WorkloadRun, x: Callable[[float], float], y: Callable[[float], float], plot_h: float
) -> list[str]:
    """The kernel's peak (when no sample caught it) and the OOM kill, drawn on the chart."""
    marks = []
    peak = run.peak_working_set
    if peak > _peak_seen(run):
        marks.append(
            f'<line class="kernel-peak" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y(peak):.1f}" y2="{y(peak):.1f}" stroke="{WORKING_SET}" '
            'stroke-width="1.5" stroke-dasharray="1 3"/>'
        )
        marks.append(
            f'<text x="{LEFT + 6}" y="{y(peak) - 5:.1f}" fill="{WORKING_SET}">'
            f"kernel peak {format_bytes(peak)} (between samples)</text>"
        )
    if run.oom_kills:
        at = x(_oom_time(run))
        marks.append(
            f'<line class="oom-kill" x1="{at:.1f}" x2="{at:.1f}" y1="{TOP}" '
            f'y2="{TOP + plot_h}" stroke="{LIMIT}" stroke-width="2"/>'
        )
        marks.append(
            f'<text x="{at - 4:.1f}" y="{TOP + 14}" text-anchor="end" '
            f'fill="{LIMIT}" font-weight="bold">OOM kill'
            f"{f' x{run.oom_kills}' if run.oom_kills > 1 else ''}</text>"
        )
    return marks


def _subtitle(run: WorkloadRun) -> str:
    bits = [
        f"peak working set {format_bytes(run.peak_working_set)}",
        f"peak tree RSS {format_bytes(run.peak_rss_tree)}",
        f"{run.wall_seconds:g}s",
    ]
    if run.oom_kills:
        bits.append(f"OOM kills: {run.oom_kills}")
    if not run.kernel_judged:
        bits.append("no cgroup of its own: process tree only")
    return " · ".join(bits)
