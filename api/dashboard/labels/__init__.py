"""Dashboard labels in English and Danish, one module per area; how a request picks a language.

Each area module holds a dict `{"en": {...}, "da": {...}}`; `LABELS` merges them (a key
defined twice is an error, found at import). A test checks both languages have every key.
"""

from __future__ import annotations

from api.dashboard.labels.admin import ADMIN
from api.dashboard.labels.audit import AUDIT
from api.dashboard.labels.codelists import CODELISTS
from api.dashboard.labels.common import COMMON
from api.dashboard.labels.money import MONEY
from api.dashboard.labels.overview import OVERVIEW
from api.dashboard.labels.persons import PERSONS
from api.dashboard.labels.quality import QUALITY
from api.dashboard.labels.receiving import RECEIVING
from api.dashboard.labels.review import REVIEW
from api.dashboard.labels.session import SESSION

LANGUAGES = ("en", "da")
#: Every area's labels; add an area's module here.
AREAS: tuple[dict[str, dict[str, str]], ...] = (
    COMMON,
    SESSION,
    QUALITY,
    OVERVIEW,
    PERSONS,
    REVIEW,
    AUDIT,
    ADMIN,
    MONEY,
    CODELISTS,
    RECEIVING,
)


def merged_labels() -> dict[str, dict[str, str]]:
    """One dict per language over every area; a key in two areas is a mistake."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for area in AREAS:
        for lang in LANGUAGES:
            clash = merged[lang].keys() & area[lang].keys()
            if clash:
                raise ValueError(f"dashboard labels defined twice: {sorted(clash)}")
            merged[lang].update(area[lang])
    return merged


LABELS = merged_labels()


def pick_language(requested: str | None, accept_language: str | None) -> str:
    """`lang` if it names a known language, else the best Accept-Language match, else English."""
    if requested in LANGUAGES:
        return str(requested)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return sorted(ranked)[0][2] if ranked else "en"
