"""The last 24 hours of a number as inline SVG: messages in and out per hour, failures by reason below.

Pure string building (no JavaScript, no library): the markup is escaped here and marked safe by the page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from adapter.monitoring.traffic import HourStats

WIDTH, TOP, BAND, FAIL_BAND, BOTTOM, LEFT = 720, 12, 120, 40, 22, 34
FAILURE_COLOURS = ("#c0392b", "#e67e22", "#8e44ad", "#b7950b", "#6d4c41")


def _label(hour: int) -> str:
    return datetime.fromtimestamp(hour * 3600, UTC).strftime("%H:00")


def _scale(peak: int) -> int:
    """A round axis maximum at or above `peak`."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if peak <= step:
            return step
    return peak


def failure_colours(hours: list[HourStats]) -> dict[str, str]:
    """Each failure reason of the day -> its colour, most frequent first (the legend uses the same)."""
    totals: dict[str, int] = {}
    for hour in hours:
        for reason, count in hour.failures.items():
            totals[reason] = totals.get(reason, 0) + count
    ordered = sorted(totals, key=lambda r: (-totals[r], r))
    return {reason: FAILURE_COLOURS[i % len(FAILURE_COLOURS)] for i, reason in enumerate(ordered)}


def traffic_svg(hours: list[HourStats], *, title: str) -> str:
    """An accessible SVG chart of `hours` (oldest first)."""
    height = TOP + BAND + 8 + FAIL_BAND + BOTTOM
    slot = (WIDTH - LEFT - 4) / max(len(hours), 1)
    peak = _scale(max([max(h.inbound, h.outbound) for h in hours] + [1]))
    fail_peak = _scale(max([h.failed for h in hours] + [1]))
    colours = failure_colours(hours)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{LEFT}" y1="{TOP + BAND}" x2="{WIDTH}" y2="{TOP + BAND}" class="axis"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 8}" class="tick" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + BAND}" class="tick" text-anchor="end">0</text>',
        f'<text x="{LEFT - 4}" y="{TOP + BAND + 8 + 10}" class="tick" text-anchor="end">{fail_peak}</text>',
    ]
    fail_base = TOP + BAND + 8 + FAIL_BAND
    parts.append(f'<line x1="{LEFT}" y1="{fail_base}" x2="{WIDTH}" y2="{fail_base}" class="axis"/>')
    bar = max(slot / 2 - 2, 1)
    for index, hour in enumerate(hours):
        x = LEFT + index * slot + 1
        label = f"{_label(hour.hour)}–{_label(hour.hour + 1)} UTC"
        details = ", ".join(f"{r}: {c}" for r, c in sorted(hour.failures.items()))
        tip = f"{label}: {hour.inbound} in, {hour.outbound} out, {hour.failed} failed" + (
            f" ({details})" if details else ""
        )
        parts.append(f"<g><title>{escape(tip)}</title>")
        for offset, value, css in ((0.0, hour.inbound, "in"), (bar + 1, hour.outbound, "out")):
            tall = BAND * value / peak
            parts.append(
                f'<rect class="{css}" x="{x + offset:.1f}" y="{TOP + BAND - tall:.1f}" width="{bar:.1f}" '
                f'height="{tall:.1f}"/>'
            )
        y = float(fail_base)
        for reason, count in sorted(hour.failures.items(), key=lambda item: item[0]):
            tall = FAIL_BAND * count / fail_peak
            y -= tall
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{2 * bar + 1:.1f}" height="{tall:.1f}" '
                f'fill="{colours[reason]}"/>'
            )
        parts.append("</g>")
        if index % 3 == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{fail_base + 15}" class="tick">{_label(hour.hour)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
