"""Bar charts as inline SVG, drawn on the server: no chart library, no script, no CSS needed.

Charts draw only what statistics publish. A hidden count ("<5", or "≥5" where it protects a
small one) has no length, so it is drawn as a hatched bar up to the threshold with its label,
never as a guess. Colours and fonts are SVG attributes, so the strict CSP needs no exception.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.stats import THRESHOLD, Row

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
BLUE, LIGHT_BLUE, RED, GREEN = "#1d4ed8", "#93c5fd", "#b91c1c", "#15803d"
LABEL_CHARS = 24

_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    """One bar: a label and a published cell (exact value or hidden)."""

    label: str
    row: Row


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _hatch(pattern_id: str, colour: str) -> str:
    return (
        f'<defs><pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="3"/></pattern></defs>'
    )


def _svg(width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{_e(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
        f"{FONT}><title>{_e(label)}</title>{body}</svg>"
    )


def _scale_max(values: Sequence[int | None]) -> int:
    # At least twice the threshold, so a hatched bar never looks like the biggest number.
    return max([2 * THRESHOLD, *(v for v in values if v is not None)])


def bar_chart(bars: Sequence[Bar], label: str, *, colour: str = BLUE, width: int = 560) -> str:
    """Draw horizontal bars with their published counts; hidden ones hatched."""
    if not bars:
        return f'<p class="empty">{_e(label)}: nothing to show yet.</p>'
    hatch = f"h{next(_ids)}"
    left, right, row_h = 170, 40, 26
    area = width - left - right
    top = max(_scale_max([b.row.value for b in bars]), 1)
    parts = [_hatch(hatch, colour)]
    for i, bar in enumerate(bars):
        y = 6 + i * row_h
        value = bar.row.value
        length = area * (value if value is not None else THRESHOLD) / top
        fill = colour if value is not None else f"url(#{hatch})"
        parts.append(
            f'<text x="{left - 8}" y="{y + 13}" text-anchor="end" fill="{INK}">'
            f"<title>{_e(bar.label)}</title>{_e(_short(bar.label))}</text>"
            f'<rect x="{left}" y="{y}" width="{max(length, 2):.1f}" height="18" fill="{fill}" '
            f'stroke="{colour}" stroke-width="{0 if value is not None else 1}" rx="2"/>'
            f'<text x="{left + length + 6:.1f}" y="{y + 13}" fill="{INK}" '
            f'font-weight="600">{_e(bar.row.shown)}</text>'
        )
    return _svg(width, 12 + len(bars) * row_h, label, "".join(parts))


def day_chart(
    rows: Sequence[Row],
    label: str,
    *,
    since: date | None = None,
    width: int = 760,
    step: int = 1,
) -> str:
    """Draw one vertical bar per day (or per `step` days: 7 for weeks), empty ones left empty."""
    days = {date.fromisoformat(row.key): row for row in rows}
    if not days:
        return f'<p class="empty">{_e(label)}: nothing to show yet.</p>'
    first = min([*days, *([since] if since else [])])
    last = max(days)
    count = (last - first).days // step + 1
    hatch = f"h{next(_ids)}"
    left, right, top_pad, bottom = 40, 12, 16, 34
    height = 220
    plot_h = height - top_pad - bottom
    slot = (width - left - right) / count
    peak = _nice(_scale_max([r.value for r in days.values()]))
    parts = [_hatch(hatch, BLUE)]
    for tick in (0, peak // 2, peak):
        y = top_pad + plot_h * (1 - tick / peak)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick}</text>'
        )
    every = max(1, round(count / 8))
    for index in range(count):
        day = first + timedelta(days=index * step)
        x = left + index * slot
        row = days.get(day)
        if row is not None:
            value = row.value
            bar_h = plot_h * (value if value is not None else THRESHOLD) / peak
            fill = BLUE if value is not None else f"url(#{hatch})"
            parts.append(
                f'<rect x="{x + slot * 0.12:.1f}" y="{top_pad + plot_h - bar_h:.1f}" '
                f'width="{max(slot * 0.76, 1):.1f}" height="{bar_h:.1f}" fill="{fill}" '
                f'stroke="{BLUE}" stroke-width="{0 if value is not None else 1}">'
                f"<title>{day.isoformat()}: {_e(row.shown)}</title></rect>"
            )
            if slot >= 22:
                parts.append(
                    f'<text x="{x + slot / 2:.1f}" y="{top_pad + plot_h - bar_h - 4:.1f}" '
                    f'text-anchor="middle" fill="{INK}" font-size="10">{_e(row.shown)}</text>'
                )
        if index % every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'fill="{MUTED}" font-size="10">{day.strftime("%d %b")}</text>'
            )
    return _svg(width, height, label, "".join(parts))


def funnel_chart(
    flows: Sequence[tuple[str, Row | None, Row | None]], label: str, *, width: int = 560
) -> str:
    """Draw, for each flow, how many started and how many finished (with the rate if known)."""
    if not flows:
        return f'<p class="empty">{_e(label)}: nothing to show yet.</p>'
    hatch = f"h{next(_ids)}"
    left, right, group_h = 170, 90, 46
    area = width - left - right
    values = [r.value for _, s, c in flows for r in (s, c) if r is not None]
    top = _scale_max(values)
    parts = [_hatch(hatch, BLUE)]
    for i, (name, started, completed) in enumerate(flows):
        y = 6 + i * group_h
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" fill="{INK}">'
            f"{_e(_short(name))}</text>"
        )
        for offset, row, colour, word in (
            (0, started, LIGHT_BLUE, "started"),
            (19, completed, BLUE, "finished"),
        ):
            value = row.value if row is not None else 0
            shown = row.shown if row is not None else "0"
            length = area * (value if value is not None else THRESHOLD) / top
            fill = colour if value is not None else f"url(#{hatch})"
            parts.append(
                f'<rect x="{left}" y="{y + offset}" width="{max(length, 1):.1f}" height="16" '
                f'fill="{fill}" stroke="{BLUE}" stroke-width="{0 if value is not None else 1}">'
                f"<title>{_e(name)} {word}: {_e(shown)}</title></rect>"
                f'<text x="{left + length + 6:.1f}" y="{y + offset + 12}" fill="{INK}">'
                f"{_e(shown)} {word}</text>"
            )
        rate = _rate(started, completed)
        if rate:
            parts.append(
                f'<text x="{left - 8}" y="{y + 30}" text-anchor="end" fill="{GREEN}" '
                f'font-weight="600">{rate}</text>'
            )
    return _svg(width, 12 + len(flows) * group_h, label, "".join(parts))


def _rate(started: Row | None, completed: Row | None) -> str:
    if started is None or completed is None or not started.value or completed.value is None:
        return ""
    return f"{round(100 * completed.value / started.value)}% finish"


def _nice(value: int) -> int:
    """Round a chart's top up to 5, 10, 20, 50, 100, ... so the grid reads easily."""
    step = 5
    while True:
        for factor in (1, 2, 5):
            if value <= step * factor:
                return step * factor
        step *= 10
