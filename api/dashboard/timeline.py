"""A person's enrolments over time as inline SVG: one row per programme, 360 px wide.

No script, no inline style (the pages' CSP): colours are presentation attributes, the chart
has a <title> and <desc>, and every bar a <title> with its dates. 360 px fits a 420 px
screen with the page's margins. An open episode runs to the end of the axis; the as-of date
is a dashed line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from api.dashboard.svg import PALETTE

WIDTH, LEFT, RIGHT, TOP, ROW, BOTTOM = 360, 64, 8, 22, 24, 8


@dataclass(frozen=True)
class Span:
    """One enrolment episode on the timeline."""

    programme: str
    benefit_code: str
    start: date
    end: date | None


def _axis(spans: Sequence[Span], as_of: date) -> tuple[date, date]:
    """From the first January of the earliest start to the last December of the latest day."""
    first = min([s.start for s in spans] + [as_of])
    last = max([s.end or as_of for s in spans] + [as_of])
    return date(first.year, 1, 1), date(last.year, 12, 31)


def timeline(spans: Sequence[Span], as_of: date, title: str, desc: str) -> Markup:
    """The spans as bars by programme over years, with the as-of date marked."""
    programmes = sorted({s.programme for s in spans})
    height = TOP + ROW * max(len(programmes), 1) + BOTTOM
    lo, hi = _axis(spans, as_of)
    days = max((hi - lo).days, 1)
    plot = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return round(LEFT + plot * (min(max(day, lo), hi) - lo).days / days, 1)

    parts = [
        f'<svg class="chart timeline" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        'aria-labelledby="timeline-title timeline-desc">',
        f'<title id="timeline-title">{escape(title)}</title>',
        f'<desc id="timeline-desc">{escape(desc)}</desc>',
    ]
    years = list(range(lo.year, hi.year + 1))
    step = max(1, -(-len(years) // 6))
    for year in years[::step]:
        left = x(date(year, 1, 1))
        parts.append(
            f'<line x1="{left}" y1="{TOP - 4}" x2="{left}" y2="{height - BOTTOM}" '
            'stroke="#bbbbbb"/>'
            f'<text x="{left + 2}" y="{TOP - 8}" fill="#333333">{year}</text>'
        )
    for row, programme in enumerate(programmes):
        y = TOP + row * ROW
        colour = PALETTE[row % len(PALETTE)]
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + ROW / 2 + 4}" text-anchor="end" fill="#111111">'
            f"{escape(programme)}</text>"
        )
        for span in (s for s in spans if s.programme == programme):
            start, end = x(span.start), x(span.end or hi)
            until = span.end.isoformat() if span.end else "…"
            parts.append(
                f'<g class="episode" data-programme="{escape(programme)}">'
                f"<title>{escape(programme)} {escape(span.benefit_code)}: "
                f"{span.start.isoformat()} – {until}</title>"
                f'<rect x="{start}" y="{y + 5}" width="{max(end - start, 2):.1f}" '
                f'height="{ROW - 10}" fill="{colour}"/></g>'
            )
    mark = x(as_of)
    parts.append(
        f'<line class="as-of" x1="{mark}" y1="{TOP - 4}" x2="{mark}" y2="{height - BOTTOM + 4}" '
        'stroke="#a00000" stroke-width="2" stroke-dasharray="4 3"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
