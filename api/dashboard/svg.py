"""Charts as inline SVG, drawn on the server: no script, no CDN, numbers in the markup.

Every chart is a plain ``<svg>`` string (``Markup``, escaped where text goes in) with a
``<title>`` and a ``<desc>`` it is labelled by (``role="img"``), scaled by the stylesheet to
the width it is given (``max-width: 100%``): drawn at most about 700 units wide, so its text
stays legible at 420 px. Colours are presentation attributes, never ``style=`` (the pages'
Content-Security-Policy forbids inline styles), dark enough for 3:1 against white; text in a
heat-map cell is black or white, whichever contrasts more with the cell. A line chart's
legend is HTML (:func:`legend`), so it wraps on a phone. Suppressed values (``None``) are
drawn as the suppression mark, never as a zero. Numbers are written by ``fmt`` (the page's
language: :func:`api.dashboard.format.number`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

SUPPRESSED = "·"
#: Series colours, each at least 4.5:1 against white.
PALETTE = ("#1f5fa8", "#b22222", "#2e7d32", "#6a3d9a", "#a04000", "#00727a", "#5d4037", "#ad1457")
#: The widest a line chart's plot is drawn.
PLOT_WIDTH = 560

Fmt = Callable[[int | None], str]


def _plain(value: int | None) -> str:
    return SUPPRESSED if value is None else str(value)


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _ink(fill: str) -> str:
    """Black or white, whichever reads better on the fill."""
    return "#ffffff" if contrast("#ffffff", fill) >= contrast("#111111", fill) else "#111111"


def _blend(intensity: float) -> str:
    """A blue from pale (0) to dark (1)."""
    low, high = (0xF0, 0xF5, 0xFF), (0x08, 0x30, 0x6B)
    t = min(max(intensity, 0.0), 1.0)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high, strict=True))


def _open(kind: str, ident: str, width: float, height: float, title: str, desc: str) -> list[str]:
    """The opening of a chart: labelled by its title and description."""
    return [
        f'<svg class="chart {kind}" id="{escape(ident)}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" aria-labelledby="{escape(ident)}-title {escape(ident)}-desc" '
        f'width="{width:g}" height="{height:g}" viewBox="0 0 {width:g} {height:g}" '
        'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(ident)}-title">{escape(title)}</title>',
        f'<desc id="{escape(ident)}-desc">{escape(desc)}</desc>',
    ]


def heatmap(
    codes: Sequence[str],
    matrix: dict[str, dict[str, int | None]],
    title: str = "",
    desc: str = "",
    fmt: Fmt = _plain,
    ident: str = "heatmap",
) -> Markup:
    """The programme-overlap matrix as a heat map with each cell's number written in it."""
    cell, left, top = 64, 110, 40
    width, height = left + cell * len(codes) + 10, top + cell * len(codes) + 10
    values = [v for a in codes for v in matrix[a].values() if v is not None]
    peak = max(values, default=0) or 1
    parts = _open("heatmap", ident, width, height, title, desc)
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
                fill, css = "#d9d9d9", "cell suppressed"
            else:
                fill, css = _blend(value / peak), "cell"
            parts.append(
                f'<g class="{css}" data-row="{escape(a)}" data-col="{escape(b)}">'
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"/>'
                f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 5}" text-anchor="middle" '
                f'fill="{_ink(fill)}">{escape(fmt(value))}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    items: Sequence[tuple[str, int | None]],
    title: str = "",
    desc: str = "",
    fmt: Fmt = _plain,
    ident: str = "bars",
) -> Markup:
    """Vertical bars with their values on top; a suppressed value gets no bar, only the mark."""
    bar, gap, left, top, plot = 56, 18, 20, 24, 220
    width = left + (bar + gap) * max(len(items), 1) + gap
    height = top + plot + 40
    peak = max((v for _, v in items if v is not None), default=0) or 1
    parts = [
        *_open("bars", ident, width, height, title, desc),
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
            f'text-anchor="middle">{escape(fmt(value))}</text>'
            f'<text class="label" x="{x + bar / 2}" y="{top + plot + 18}" '
            f'text-anchor="middle">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    periods: Sequence[str],
    series: dict[str, Sequence[int | None]],
    title: str = "",
    desc: str = "",
    fmt: Fmt = _plain,
    ident: str = "lines",
) -> Markup:
    """One line per series over the periods; suppressed points break the line and show the mark.

    The plot is at most PLOT_WIDTH wide whatever the number of periods; at most about eight
    period labels are written under it. The legend is :func:`legend`, beside the chart.
    """
    left, right, top, plot_h = 64, 24, 20, 240
    step = PLOT_WIDTH / max(len(periods) - 1, 1) if len(periods) > 1 else 0
    step = min(step, 96)
    plot_w = max(step * max(len(periods) - 1, 1), 96)
    width, height = left + plot_w + right, top + plot_h + 40
    peak = max((v for values in series.values() for v in values if v is not None), default=0)
    peak = peak or 1

    def x_of(i: int) -> float:
        return left + i * step

    def y_of(v: int) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [
        *_open("lines", ident, round(width), height, title, desc),
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w:.1f}" y2="{top + plot_h}" '
        'stroke="#555555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555555"/>',
    ]
    for tick in range(5):
        level = round(peak * tick / 4)
        y = y_of(level)
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(level))}</text>"
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" '
            'stroke="#e5e5e5"/>'
        )
    every = max(1, -(-len(periods) // 8))
    for i, period in enumerate(periods):
        if i % every == 0:
            parts.append(
                f'<text class="tick" x="{x_of(i):.1f}" y="{top + plot_h + 18}" '
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
                        f'<text class="point suppressed" x="{x_of(i):.1f}" '
                        f'y="{top + plot_h - 4}" text-anchor="middle">{SUPPRESSED}</text>'
                    )
                continue
            segment.append(f"{x_of(i):.1f},{y_of(value):.1f}")
            parts.append(
                f'<circle class="point" cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="3" '
                f'fill="{colour}" data-period="{escape(periods[i])}" data-value="{value}">'
                f"<title>{escape(name)} {escape(periods[i])}: {escape(fmt(value))}</title>"
                "</circle>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(names: Sequence[str], labels: dict[str, str] | None = None) -> Markup:
    """The line chart's legend as an HTML list: a colour swatch and the series' name each."""
    items = []
    for n, name in enumerate(names):
        colour = PALETTE[n % len(PALETTE)]
        shown = (labels or {}).get(name) or name
        items.append(
            f'<li data-series="{escape(name)}"><svg class="swatch" width="14" height="14" '
            f'aria-hidden="true" focusable="false"><rect width="14" height="14" '
            f'fill="{colour}"/></svg> {escape(shown)}</li>'
        )
    return Markup(f'<ul class="chart-legend">{"".join(items)}</ul>')
