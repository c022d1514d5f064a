"""Paragraph references (`§ 104`, `§ 82 a`, `SEL § 85, stk. 1`) compared as numbers and letters."""

from __future__ import annotations

import re

#: A paragraph: its number and, as in § 82 a, one letter a-h written after it.
_PARAGRAPH = re.compile(r"(\d+)(?:\s*([a-h])(?![a-zæøå]))?", re.IGNORECASE)


def paragraphs(text: str) -> list[str]:
    """The paragraphs a reference names, in order: `§§ 82 a og 85` → ['82a', '85'] (what
    comes before the first `§`, a law's name or year, is not a paragraph)."""
    text = text[text.index("§") :] if "§" in text else text
    return [number + (letter or "").lower() for number, letter in _PARAGRAPH.findall(text)]


def same_paragraph(sent: str, listed: str) -> bool:
    """Whether a sent legal basis names the listed paragraph (first one named, case and
    spacing aside): `§104, stk. 1` matches `§ 104`; `§ 82 b` does not match `§ 82 a`."""
    named, wanted = paragraphs(sent), paragraphs(listed)
    return bool(named and wanted) and named[0] in wanted
