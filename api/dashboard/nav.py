"""The dashboard's pages in the navigation, and the roles that may open each."""

from __future__ import annotations

READERS = ("oversight", "analyst")
FEED_READERS = ("oversight", "steward")
ANY_PAGE = ("oversight", "analyst", "steward")

#: The pages in the navigation: key (label and path), roles that may open it.
PAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("coverage", READERS),
    ("overlaps", READERS),
    ("counts", READERS),
    ("trends", READERS),
    ("duplicates", READERS),
    ("quality", FEED_READERS),
    ("review", FEED_READERS),
    ("persons", FEED_READERS),
)
