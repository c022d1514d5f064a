"""Every page checked by axe-core (npm, pinned in package.json) and photographed, at two widths.

`make test` installs axe-core into node_modules/ (`npm ci`); the check injects its script
into the page as it stands and runs it there, so what is checked is what the browser shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.dashboard.cdp import Browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
#: A phone and a desktop.
WIDTHS = (1400, 420)
#: The impacts a page may not have (axe's scale: minor, moderate, serious, critical).
REFUSED = ("serious", "critical")

_RUN = """
axe.run(document, {resultTypes: ['violations']}).then(result => JSON.stringify(
  result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))
  }))
))
"""


@dataclass(frozen=True)
class Violation:
    """One axe rule a page breaks, with the first few elements breaking it."""

    page: str
    width: int
    rule: str
    impact: str
    help: str
    nodes: list[str]


def _axe_source() -> str:
    if not AXE.is_file():
        raise AssertionError(f"axe-core is not installed ({AXE}): run `make test` (npm ci)")
    return AXE.read_text(encoding="utf-8")


def violations(browser: Browser, page: str, width: int) -> list[Violation]:
    """The serious and critical axe violations of the page the browser shows now."""
    if not browser.js("typeof window.axe !== 'undefined'"):
        browser.js(_axe_source())
    found: list[dict[str, Any]] = json.loads(browser.js(_RUN))
    return [
        Violation(page, width, v["id"], v["impact"], v["help"], v["nodes"])
        for v in found
        if v["impact"] in REFUSED
    ]


def check_page(browser: Browser, url: str, name: str) -> list[Violation]:
    """Open a page at each width: screenshot it, and return what axe refuses on it."""
    found: list[Violation] = []
    for width in WIDTHS:
        browser.set_width(width)
        browser.goto(url)
        shot = browser.screenshot(ARTIFACTS / f"{name}-{width}.png")
        assert shot.stat().st_size > 5_000, f"{name} at {width}px: the screenshot is (nearly) empty"
        found.extend(violations(browser, name, width))
    return found
