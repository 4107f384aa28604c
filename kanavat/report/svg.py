"""Server-rendered SVG bar charts: readable on paper and screen, no JavaScript, no fonts to load.

Every text that reaches the SVG is escaped here; labels come from officials' configuration
and may hold anything. Sizes are in user units of a fixed viewBox, so the chart scales to the
column width when printed on A4.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH = 640
LABEL_WIDTH = 180
VALUE_WIDTH = 110
BAR_HEIGHT = 20
GAP = 9
TOP = 20
BLUE = "#1f5f8b"
LIGHT = "#9cc0dc"
GREY = "#8a959e"
INK = "#1d2731"
GRID = "#d8dee4"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    """Share 0..1; None: hidden (drawn as an empty dashed outline)."""
    text: str
    ci: tuple[float, float] | None = None
    other: float | None = None
    """The comparison campaign's share, drawn as a thinner, lighter bar below."""
    muted: bool = False
    """"Don't know" and similar: drawn grey, not in the main colour."""


def _clip(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(
    bars: list[Bar], *, title: str, legend: tuple[str, str] | None = None, percent: str = "{}%"
) -> str:
    """Horizontal bars, one per answer option, with value labels and optional 95 % intervals.

    ``legend`` names the two series in a comparison; ``percent`` formats the axis ticks.
    """
    compare = any(b.other is not None for b in bars)
    row = BAR_HEIGHT + (BAR_HEIGHT // 2 + 2 if compare else 0) + GAP
    legend_height = 24 if legend else 0
    height = TOP + legend_height + row * len(bars) + 6
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    y0 = TOP + legend_height
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_WIDTH + plot * tick / 100
        out.append(
            f'<line x1="{x:.1f}" y1="{y0 - 4}" x2="{x:.1f}" y2="{height - 4}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{y0 - 8}" font-size="11" fill="{GREY}" '
            f'text-anchor="middle">{escape(percent.format(tick))}</text>'
        )
    if legend:
        out.append(_legend(legend))
    for i, bar in enumerate(bars):
        y = y0 + i * row
        middle = y + BAR_HEIGHT / 2 + 4
        out.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle:.1f}" font-size="13" fill="{INK}" '
            f'text-anchor="end"><title>{escape(bar.label)}</title>{escape(_clip(bar.label))}</text>'
        )
        if bar.value is None:
            out.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{plot * 0.04:.1f}" height="{BAR_HEIGHT}" '
                f'fill="none" stroke="{GREY}" stroke-dasharray="3 2"/>'
            )
        else:
            colour = GREY if bar.muted else BLUE
            width = max(plot * bar.value, 1.5 if bar.value > 0 else 0)
            out.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{colour}" rx="2"/>'
            )
            if bar.ci:
                low, high = (LABEL_WIDTH + plot * v for v in bar.ci)
                mid = y + BAR_HEIGHT / 2
                out.append(
                    f'<path d="M{low:.1f} {mid:.1f}H{high:.1f}M{low:.1f} {mid - 5:.1f}V{mid + 5:.1f}'
                    f'M{high:.1f} {mid - 5:.1f}V{mid + 5:.1f}" stroke="{INK}" stroke-width="1.3" '
                    f'fill="none"/>'
                )
        if bar.other is not None:
            oy = y + BAR_HEIGHT + 2
            out.append(
                f'<rect x="{LABEL_WIDTH}" y="{oy}" width="{max(plot * bar.other, 0):.1f}" '
                f'height="{BAR_HEIGHT // 2}" fill="{LIGHT}" rx="2"/>'
            )
        out.append(
            f'<text x="{WIDTH - VALUE_WIDTH + 10}" y="{middle:.1f}" font-size="13" '
            f'fill="{INK}">{escape(bar.text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _legend(names: tuple[str, str]) -> str:
    this, other = names
    x = LABEL_WIDTH
    return (
        f'<rect x="{x}" y="3" width="14" height="10" fill="{BLUE}"/>'
        f'<text x="{x + 20}" y="12" font-size="12" fill="{INK}">{escape(this)}</text>'
        f'<rect x="{x + 220}" y="5" width="14" height="6" fill="{LIGHT}"/>'
        f'<text x="{x + 240}" y="12" font-size="12" fill="{INK}">{escape(other)}</text>'
    )
