"""The dashboard's pages in the navigation, and the roles that may open each."""

from __future__ import annotations

READERS = ("oversight", "analyst")
FEED_READERS = ("oversight", "steward")
#: Every role with a page of its own: the home page opens for them (their pages only).
ANY_PAGE = ("oversight", "analyst", "steward", "auditor", "admin")

#: The pages in the navigation: key (label and path), roles that may open it.
PAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("coverage", READERS),
    ("overlaps", READERS),
    ("counts", READERS),
    ("trends", READERS),
    ("spending", READERS),
    ("movement", READERS),
    ("duplicates", READERS),
    ("reconciliation", ("oversight",)),
    ("quality", FEED_READERS),
    ("review", FEED_READERS),
    ("persons", FEED_READERS),
    ("audit", ("auditor",)),
    ("admin", ("admin",)),
    ("codelists", ("admin",)),
)
