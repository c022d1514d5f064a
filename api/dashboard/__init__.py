"""The oversight dashboard: server-rendered HTML pages, inline SVG charts, no script, no CDN."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

from api.dashboard.format import FILTERS  # noqa: E402  (the environment first, then its filters)

templates.filters.update(FILTERS)
