"""Attack: the beside counts (suspended, pending) cannot be differenced back out of hiding.

An analyst collects every coverage answer of a day (by programme, by region, by programme
and region, the totals) and the one-day time series, and solves the published figures for
the hidden ones: receiving, suspended and pending counts over the same cells and margins,
so that a small count of one class hidden in a cell would follow from its margins, the
other classes of the cell, or the difference between them.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from registry.overview.disclosure import DEFAULT_K
from tests.api.conftest import Setup
from tests.factories import bearer
from tests.overview.conftest import episode, push
from tests.overview.test_suppression import person
from tests.overview.test_suppression_property import recoverable

JUNE = "2024-06-30"
MEASURES = ("persons", "suspended", "pending")
#: (programme, region, class) -> the persons of that class in the cell
WORLD: dict[tuple[str, str, str], range] = {
    ("SEL85", "1084", "active"): range(0, 6),
    ("SEL85", "1085", "active"): range(6, 12),
    ("SEL104", "1084", "active"): range(12, 18),
    ("SEL104", "1085", "active"): range(18, 24),
    ("SEL85", "1084", "suspended"): range(30, 36),
    ("SEL85", "1085", "suspended"): range(36, 38),  # 2: small
    ("SEL104", "1084", "suspended"): range(40, 46),
    ("SEL104", "1085", "suspended"): range(46, 52),
    ("SEL85", "1084", "pending"): range(60, 66),
    ("SEL85", "1085", "pending"): range(66, 72),
    ("SEL104", "1084", "pending"): range(72, 78),
    ("SEL104", "1085", "pending"): range(78, 81),  # 3: small
}
TRUE = {
    ({"active": "persons"}.get(status, status), programme, region): len(who)
    for (programme, region, status), who in WORLD.items()
}


def build(client: TestClient, setup: Setup) -> None:
    batches: dict[str, list[dict[str, Any]]] = {"SEL85": [], "SEL104": []}
    for (programme, region, status), who in WORLD.items():
        benefit = "1.1" if programme == "SEL104" else "1.12.0.2"
        for i in who:
            record = episode(
                f"{programme}-{i}", benefit=benefit, start="2024-01-01", end=None,
                region=region, **person(i),
            )  # fmt: skip
            record["enrolment"]["status"] = status
            batches[programme].append(record)
    push(client, setup.sel85, "SEL85", "w85", batches["SEL85"])
    push(client, setup.sel104, "SEL104", "w104", batches["SEL104"])


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1/overview/{path}", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_hidden_beside_counts_follow_from_no_set_of_answers(
    client: TestClient, setup: Setup
) -> None:
    build(client, setup)
    token = setup.analyst
    cells = get(client, token, "coverage", as_of=JUNE, by="programme,region")
    assert cells["suppressed"] is True
    shown = {(m, r["programme"], r["region"]): r[m] for r in cells["rows"] for m in MEASURES}
    # the small cells are hidden, each class its own
    assert shown[("suspended", "SEL85", "1085")] is None
    assert shown[("pending", "SEL104", "1085")] is None
    # every visible cell tells the truth
    assert all(v == TRUE[key] for key, v in shown.items() if v is not None)
    hidden = sorted(key for key, v in shown.items() if v is None)
    # equations: every published margin (each class on its own; no answer publishes a
    # cell's classes together, so receiving + suspended + pending is no equation)
    groups: list[list[tuple[str, str, str]]] = []
    by_programme = get(client, token, "coverage", as_of=JUNE, by="programme")
    by_region = get(client, token, "coverage", as_of=JUNE, by="region")
    series = get(client, token, "timeseries", **{"from": JUNE, "to": JUNE, "basis": "end"})
    for m in MEASURES:
        for r in by_programme["rows"] + series["rows"]:
            if r[m] is not None:
                groups.append([key for key in TRUE if key[0] == m and key[1] == r["programme"]])
        for r in by_region["rows"]:
            if r[m] is not None:
                groups.append([key for key in TRUE if key[0] == m and key[2] == r["region"]])
        for body in (cells, by_programme, by_region):
            if body["total"][m] is not None:
                groups.append([key for key in TRUE if key[0] == m])
    # the attack a careless implementation falls to: margin minus the visible cells
    found = recoverable(hidden, groups)
    small = {key for key in hidden if 0 < TRUE[key] < DEFAULT_K}
    assert small and not found & small, found
