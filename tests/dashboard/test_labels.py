"""The dashboard's labels: every key in both languages, none defined by two areas."""

from __future__ import annotations

import pytest

from api.dashboard import labels


def test_every_label_is_in_both_languages() -> None:
    english, danish = labels.LABELS["en"], labels.LABELS["da"]
    assert sorted(english.keys() - danish.keys()) == []
    assert sorted(danish.keys() - english.keys()) == []
    assert all(text.strip() for text in [*english.values(), *danish.values()])


def test_a_key_defined_by_two_areas_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    again = {"en": {"login": "Log in"}, "da": {"login": "Log ind"}}
    monkeypatch.setattr(labels, "AREAS", (*labels.AREAS, again))
    with pytest.raises(ValueError, match="login"):
        labels.merged_labels()
