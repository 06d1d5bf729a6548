"""Tiny SVG charts for the README (no plotting library needed)."""

from __future__ import annotations

import math
from html import escape

COLORS = ["#1f6feb", "#cf222e", "#1a7f37", "#9a6700"]
W, H, LEFT, BOTTOM, TOP, RIGHT = 640, 320, 60, 40, 30, 20


def nice_axis(largest: float) -> tuple[float, float]:
    """A round top for an axis (a little above ``largest``) and the step between its
    ticks: 1, 2, 2.5 or 5 times a power of ten, four to six ticks."""
    largest = largest if largest > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(largest / 4))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if largest / step <= 5:
            return math.ceil(largest / step - 1e-9) * step, step
    raise AssertionError("unreachable")


def _label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    if step < 1 and step * 10**decimals % 1:
        decimals += 1  # 0.25
    return f"{value:,.{decimals}f}"


def _frame(
    title: str, xlabel: str, ylabel: str, xmax: float, ymax: float, xticks: bool = True
) -> tuple[list[str], float, float]:
    """The chart's frame and grid; returns the parts and the axes' tops."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle">{escape(xlabel)}</text>',
        f'<text x="14" y="{H / 2}" text-anchor="middle" transform="rotate(-90 14 {H / 2})">{escape(ylabel)}</text>',
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#333"/>',
    ]
    ytop, ystep = nice_axis(ymax)
    for n in range(round(ytop / ystep) + 1):
        y = H - BOTTOM - n * ystep / ytop * (H - BOTTOM - TOP)
        label = _label(n * ystep, ystep)
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#eee"/>'
        )
    xtop, xstep = nice_axis(xmax)
    if xticks:
        for n in range(round(xtop / xstep) + 1):
            x = LEFT + n * xstep / xtop * (W - LEFT - RIGHT)
            label = _label(n * xstep, xstep)
            parts.append(
                f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{label}</text>'
            )
    return parts, xtop, ytop


def lines(
    title: str, xlabel: str, ylabel: str, series: dict[str, list[tuple[float, float]]]
) -> str:
    points = [p for values in series.values() for p in values]
    parts, xmax, ymax = _frame(
        title,
        xlabel,
        ylabel,
        max((p[0] for p in points), default=1),
        max((p[1] for p in points), default=1),
    )
    for n, (name, values) in enumerate(series.items()):
        coords = " ".join(
            f"{LEFT + x / xmax * (W - LEFT - RIGHT):.1f},{H - BOTTOM - y / ymax * (H - BOTTOM - TOP):.1f}"
            for x, y in values
        )
        color = COLORS[n % len(COLORS)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>')
        parts.append(
            f'<text x="{W - RIGHT - 4}" y="{TOP + 14 + 16 * n}" text-anchor="end" fill="{color}">'
            f"{escape(name)}</text>"
        )
    return "\n".join([*parts, "</svg>"])


def bars(title: str, ylabel: str, values: dict[str, float]) -> str:
    # Headroom above the tallest bar for its label.
    parts, _xmax, ymax = _frame(
        title, "", ylabel, 1, max(values.values(), default=1) * 1.1, xticks=False
    )
    width = (W - LEFT - RIGHT) / max(len(values), 1)
    for n, (name, value) in enumerate(values.items()):
        height = value / ymax * (H - BOTTOM - TOP)
        x = LEFT + n * width + width * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{H - BOTTOM - height:.1f}" width="{width * 0.7:.1f}" '
            f'height="{height:.1f}" fill="{COLORS[0]}"/>'
        )
        parts.append(
            f'<text x="{x + width * 0.35:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{escape(name)}</text>'
        )
        parts.append(
            f'<text x="{x + width * 0.35:.1f}" y="{H - BOTTOM - height - 4:.1f}" text-anchor="middle">'
            f"{value:.3g}</text>"
        )
    return "\n".join([*parts, "</svg>"])


def grouped_bars(title: str, ylabel: str, groups: dict[str, dict[str, float]]) -> str:
    """Bars side by side per group (say, a measure and its bounds per mode), one colour
    per series, named in a legend."""
    series = list(dict.fromkeys(name for values in groups.values() for name in values))
    largest = max((v for values in groups.values() for v in values.values()), default=1)
    parts, _xmax, ymax = _frame(title, "", ylabel, 1, largest * 1.15, xticks=False)
    width = (W - LEFT - RIGHT) / max(len(groups), 1)
    bar = width * 0.7 / max(len(series), 1)
    for n, (group, values) in enumerate(groups.items()):
        left = LEFT + n * width + width * 0.15
        for m, name in enumerate(series):
            if name not in values:
                continue
            value = values[name]
            height = value / ymax * (H - BOTTOM - TOP)
            x = left + m * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{H - BOTTOM - height:.1f}" width="{bar * 0.9:.1f}" '
                f'height="{height:.1f}" fill="{COLORS[m % len(COLORS)]}"/>'
            )
            parts.append(
                f'<text x="{x + bar * 0.45:.1f}" y="{H - BOTTOM - height - 4:.1f}" '
                f'text-anchor="middle">{value:,.0f}</text>'
            )
        parts.append(
            f'<text x="{left + width * 0.35:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">'
            f"{escape(group)}</text>"
        )
    for m, name in enumerate(series):
        color = COLORS[m % len(COLORS)]
        parts.append(
            f'<text x="{W - RIGHT - 4}" y="{TOP + 14 + 16 * m}" text-anchor="end" fill="{color}">'
            f"{escape(name)}</text>"
        )
    return "\n".join([*parts, "</svg>"])
