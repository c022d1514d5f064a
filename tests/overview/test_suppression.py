"""Disclosure control: small cells hidden, with complements so none can be recovered."""

from __future__ import annotations

import random
from typing import Any

from fastapi.testclient import TestClient

from registry.overview.disclosure import DEFAULT_K, suppress_cells
from tests.api.conftest import Setup
from tests.factories import bearer
from tests.overview.conftest import Registry, episode, push

K = DEFAULT_K


def person(i: int) -> dict[str, str]:
    """Person i: a distinct valid CPR number, born in January 1985."""
    day = i % 28 + 1
    return {"national_id": f"{day:02d}0185{1000 + i:04d}", "born": f"1985-01-{day:02d}", "sex": "F"}


def build(client: TestClient, setup: Setup) -> None:
    """SEL85: persons 0-6 in 1084, 7-8 in 1085, 9-14 in 1086; SEL104: 0-5 in 1084, 20-22 in 1085.

    By programme and region (persons = enrolments): SEL104/1084 6, SEL104/1085 3,
    SEL85/1084 7, SEL85/1085 2, SEL85/1086 6; total 18 persons, 24 enrolments.
    """

    def region(i: int) -> str:
        return "1084" if i <= 6 else "1085" if i <= 8 else "1086"

    sel85 = [
        episode(
            f"A{i}", benefit="1.12.0.2", start="2024-01-01", end=None, region=region(i), **person(i)
        )
        for i in range(15)
    ]
    sel104 = [
        episode(
            f"B{i}",
            benefit="1.1",
            start="2024-01-01",
            end=None,
            region="1084" if i < 6 else "1085",
            **person(i),
        )
        for i in [*range(6), 20, 21, 22]
    ]
    push(client, setup.sel85, "SEL85", "s1", sel85)
    push(client, setup.sel104, "SEL104", "t1", sel104)


TRUE = {
    ("SEL104", "1084"): 6,
    ("SEL104", "1085"): 3,
    ("SEL85", "1084"): 7,
    ("SEL85", "1085"): 2,
    ("SEL85", "1086"): 6,
}


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/overview/{path}", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def check_unrecoverable(rows: list[dict[str, Any]], total: int, groups: list[list[int]]) -> None:
    """No hidden enrolment count equals its group's total minus the group's visible cells."""
    for group in groups:
        hidden = [i for i in group if rows[i]["enrolments"] is None]
        assert len(hidden) != 1 or len(group) == 1, group
    visible = sum(r["enrolments"] for r in rows if r["enrolments"] is not None)
    for r in rows:
        if r["enrolments"] is None:
            assert TRUE[(r["programme"], r["region"])] != total - visible


def test_analyst_gets_small_cells_and_complements_hidden(client: TestClient, setup: Setup) -> None:
    build(client, setup)
    body = get(client, setup.analyst, "coverage", as_of="2024-06-30", by="programme,region")
    cells = {(r["programme"], r["region"]): (r["persons"], r["enrolments"]) for r in body["rows"]}
    assert cells == {
        ("SEL104", "1084"): (None, None),  # complement in SEL104's row
        ("SEL104", "1085"): (None, None),  # 3 < 5
        ("SEL85", "1084"): (None, None),  # complement in SEL85's row and region 1084
        ("SEL85", "1085"): (None, None),  # 2 < 5
        ("SEL85", "1086"): (6, 6),  # alone in region 1086, so never picked as a complement
    }
    assert body["total"] == {"persons": 18, "enrolments": 24, "suspended": 0, "pending": 0}
    assert body["suppressed"] is True

    # Margins published elsewhere: by programme (SEL104 9, SEL85 15) and by region.
    margins = get(client, setup.analyst, "coverage", as_of="2024-06-30", by="programme")
    assert margins["suppressed"] is False
    index = {key: i for i, key in enumerate((r["programme"], r["region"]) for r in body["rows"])}
    groups = [[i for key, i in index.items() if key[0] == p] for p in ("SEL104", "SEL85")] + [
        [i for key, i in index.items() if key[1] == g] for g in ("1084", "1085", "1086")
    ]
    check_unrecoverable(body["rows"], body["total"]["enrolments"], groups)
    for p, margin in (("SEL104", 9), ("SEL85", 15)):
        mine = [r for r in body["rows"] if r["programme"] == p]
        seen = sum(r["enrolments"] for r in mine if r["enrolments"] is not None)
        for r in mine:
            if r["enrolments"] is None:
                assert TRUE[(p, r["region"])] != margin - seen


def test_oversight_sees_everything_unless_asking_for_suppression(
    client: TestClient, setup: Setup
) -> None:
    build(client, setup)
    plain = get(client, setup.oversight, "coverage", as_of="2024-06-30", by="programme,region")
    assert plain["suppressed"] is False
    assert {(r["programme"], r["region"]): r["persons"] for r in plain["rows"]} == TRUE
    asked = get(
        client,
        setup.oversight,
        "coverage",
        as_of="2024-06-30",
        by="programme,region",
        suppress="true",
    )
    analyst = get(client, setup.analyst, "coverage", as_of="2024-06-30", by="programme,region")
    assert asked == analyst


def test_analyst_single_small_row_and_total(client: TestClient, registry: Registry) -> None:
    body = get(client, registry.setup.analyst, "coverage", as_of="2023-06-30", by="programme")
    assert body["rows"] == [
        {"programme": "SEL85", "persons": None, "enrolments": None, "suspended": 0, "pending": 0}
    ]
    assert body["total"] == {"persons": None, "enrolments": None, "suspended": 0, "pending": 0}
    assert body["suppressed"] is True


def test_analyst_overlaps_are_suppressed(client: TestClient, registry: Registry) -> None:
    body = get(client, registry.setup.analyst, "overlaps", as_of="2024-06-30")
    assert body["suppressed"] is True
    assert body["matrix"]["SEL85"]["SEL104"] is None and body["matrix"]["SEL104"]["SEL85"] is None
    assert body["matrix"]["SEL85"]["SEL85"] is None
    assert body["matrix"]["SEL82"]["SEL82"] == 0
    assert body["by_count"] == {"1": None, "2": None}


def test_analyst_overlaps_keep_large_cells(client: TestClient, setup: Setup) -> None:
    build(client, setup)
    body = get(client, setup.analyst, "overlaps", as_of="2024-06-30")
    assert body["matrix"]["SEL85"] == {"SEL104": 6, "SEL82": 0, "SEL85": 15}
    assert body["matrix"]["SEL104"]["SEL104"] == 9
    assert body["by_count"] == {"1": 12, "2": 6}
    assert body["suppressed"] is False


def test_suppression_cannot_be_undone_from_margins_on_random_tables() -> None:
    """Property: on random tables no hidden cell is its row, column or total minus the rest."""
    rng = random.Random(20261125)
    for _ in range(2000):
        n_rows, n_cols = rng.randint(1, 5), rng.randint(1, 5)
        values = {
            (r, c): rng.choice([1, 2, 3, 4, 5, 6, 8, 13, 40])
            for r in range(n_rows)
            for c in range(n_cols)
            if rng.random() < 0.8
        }
        rows = [[key for key in values if key[0] == r] for r in range(n_rows)]
        cols = [[key for key in values if key[1] == c] for c in range(n_cols)]
        groups = [g for g in rows + cols if g] + [list(values)]
        hidden = suppress_cells(values, groups, K)
        assert {key for key, v in values.items() if v < K} <= hidden
        # cells a one-cell margin publishes (>= K) are no use as complements
        published = {g[0] for g in groups if len(g) == 1 and values[g[0]] >= K}
        for group in groups:
            margin = sum(values[key] for key in group)
            if 0 < margin < K:
                continue  # a small margin is suppressed where it is published
            visible = sum(values[key] for key in group if key not in hidden)
            inside = [key for key in group if key in hidden]
            exhausted = all(key in hidden or key in published for key in group)
            if len(group) > 1 and not exhausted:
                assert len(inside) != 1, (values, hidden, group)
                for key in inside:
                    assert values[key] != margin - visible
