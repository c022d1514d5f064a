"""Charts as inline SVG, drawn on the server: no script, no CDN, numbers in the markup.

Every chart is a plain ``<svg>`` string (``Markup``, escaped where text goes in). Colours are
presentation attributes, never ``style=`` (the pages' Content-Security-Policy forbids inline
styles). Suppressed values (``None``) are drawn as the suppression mark, never as a zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

SUPPRESSED = "·"
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _blend(intensity: float) -> str:
    """A blue from pale (0) to dark (1)."""
    low, high = (0xF0, 0xF5, 0xFF), (0x08, 0x30, 0x6B)
    t = min(max(intensity, 0.0), 1.0)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high, strict=True))


def _number(value: int | None) -> str:
    return SUPPRESSED if value is None else str(value)


def heatmap(
    codes: Sequence[str], matrix: dict[str, dict[str, int | None]], title: str = ""
) -> Markup:
    """The programme-overlap matrix as a heat map with each cell's number written in it."""
    cell, left, top = 64, 110, 40
    width, height = left + cell * len(codes) + 10, top + cell * len(codes) + 10
    values = [v for a in codes for v in matrix[a].values() if v is not None]
    peak = max(values, default=0) or 1
    parts = [
        f'<svg class="chart heatmap" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for j, code in enumerate(codes):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text class="col-label" x="{x}" y="{top - 12}" text-anchor="middle">'
            f"{escape(code)}</text>"
        )
    for i, a in enumerate(codes):
        y = top + i * cell
        parts.append(
            f'<text class="row-label" x="{left - 8}" y="{y + cell / 2 + 5}" text-anchor="end">'
            f"{escape(a)}</text>"
        )
        for j, b in enumerate(codes):
            value = matrix[a].get(b)
            x = left + j * cell
            if value is None:
                fill, ink, css = "#d9d9d9", "#333333", "cell suppressed"
            else:
                share = value / peak
                fill, ink, css = _blend(share), ("#ffffff" if share > 0.55 else "#111111"), "cell"
            parts.append(
                f'<g class="{css}" data-row="{escape(a)}" data-col="{escape(b)}">'
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"/>'
                f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 5}" text-anchor="middle" '
                f'fill="{ink}">{_number(value)}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: Sequence[tuple[str, int | None]], title: str = "") -> Markup:
    """Vertical bars with their values on top; a suppressed value gets no bar, only the mark."""
    bar, gap, left, top, plot = 56, 18, 20, 24, 220
    width = left + (bar + gap) * max(len(items), 1) + gap
    height = top + plot + 40
    peak = max((v for _, v in items if v is not None), default=0) or 1
    parts = [
        f'<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot}" x2="{width - 4}" y2="{top + plot}" '
        'stroke="#555555"/>',
    ]
    for i, (label, value) in enumerate(items):
        x = left + gap + i * (bar + gap)
        tall = 0.0 if value is None else plot * value / peak
        css = "bar suppressed" if value is None else "bar"
        parts.append(f'<g class="{css}" data-label="{escape(label)}">')
        if value is not None:
            parts.append(
                f'<rect x="{x}" y="{top + plot - tall:.1f}" width="{bar}" height="{tall:.1f}" '
                f'fill="{PALETTE[0]}"/>'
            )
        parts.append(
            f'<text class="value" x="{x + bar / 2}" y="{top + plot - tall - 6:.1f}" '
            f'text-anchor="middle">{_number(value)}</text>'
            f'<text class="label" x="{x + bar / 2}" y="{top + plot + 18}" '
            f'text-anchor="middle">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    periods: Sequence[str], series: dict[str, Sequence[int | None]], title: str = ""
) -> Markup:
    """One line per series over the periods; suppressed points break the line and show the mark."""
    left, right, top, plot_h = 60, 150, 20, 240
    step = 64 if len(periods) <= 16 else max(12, 1000 // max(len(periods), 1))
    plot_w = step * max(len(periods) - 1, 1)
    width, height = left + plot_w + right, top + plot_h + 60
    peak = max((v for values in series.values() for v in values if v is not None), default=0)
    peak = peak or 1

    def x_of(i: int) -> float:
        return left + i * step

    def y_of(v: int) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [
        f'<svg class="chart lines" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#555555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555555"/>',
    ]
    for tick in range(5):
        level = round(peak * tick / 4)
        y = y_of(level)
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{level}</text>'
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            'stroke="#e5e5e5"/>'
        )
    every = max(1, len(periods) // 12)
    for i, period in enumerate(periods):
        if i % every == 0:
            parts.append(
                f'<text class="tick" x="{x_of(i)}" y="{top + plot_h + 18}" '
                f'text-anchor="middle">{escape(period)}</text>'
            )
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        parts.append(f'<g class="series" data-series="{escape(name)}">')
        segment: list[str] = []
        for i, value in enumerate([*values, None]):
            if value is None:
                if len(segment) > 1:
                    parts.append(
                        f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                        f'points="{" ".join(segment)}"/>'
                    )
                segment = []
                if i < len(values):
                    parts.append(
                        f'<text class="point suppressed" x="{x_of(i)}" '
                        f'y="{top + plot_h - 4}" text-anchor="middle">{SUPPRESSED}</text>'
                    )
                continue
            segment.append(f"{x_of(i):.1f},{y_of(value):.1f}")
            parts.append(
                f'<circle class="point" cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="3" '
                f'fill="{colour}" data-period="{escape(periods[i])}" data-value="{value}">'
                f"<title>{escape(name)} {escape(periods[i])}: {value}</title></circle>"
            )
        y = top + 14 + n * 18
        parts.append(
            f'<rect x="{left + plot_w + 16}" y="{y - 9}" width="10" height="10" '
            f'fill="{colour}"/><text class="legend" x="{left + plot_w + 32}" y="{y}">'
            f"{escape(name)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
