"""The duplicates overview: the same findings for every caller, at a cost linear in the episodes.

A registry of a few hundred persons, each in two programmes marked exclusive (some twice in
one), is enough to tell the shapes apart: a query that joins the memberships to themselves per
pair, or re-reads every episode (or, for a regional caller, every person) per finding, does
work that grows with the square of the findings; the plan's row counts show it without timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.factories import bearer, make_user, user_token
from tests.overview.conftest import episode, push

AS_OF = "2024-06-30"
PERSONS = 300
#: Plan rows (produced, filtered out, join-filtered out; times loops) per active episode.
WORK_PER_EPISODE = 40


def person(i: int) -> dict[str, str]:
    # 7th digit 0-3: born in the 1900s, so the CPR number agrees with the birth date
    return {"national_id": f"010190{i:04d}", "born": "1990-01-01", "sex": "F"}


def region_of(i: int) -> str:
    return "1084" if i % 3 == 0 else "1085"


def load(client: TestClient, setup: Setup) -> int:  # noqa: F811
    """PERSONS persons in SEL85 and SEL104; every 10th twice in SEL85 (same code every 20th)."""
    sel85, sel104 = [], []
    for i in range(PERSONS):
        who = {**person(i), "region": region_of(i)}
        sel85.append(episode(f"A{i}", benefit="1.12.0.1", start="2024-01-01", end=None, **who))
        if i % 10 == 0:
            code = "1.12.0.1" if i % 20 == 0 else "1.12.0.2"
            sel85.append(episode(f"A{i}b", benefit=code, start="2024-02-01", end=None, **who))
        sel104.append(episode(f"B{i}", benefit="1.1", start="2024-01-01", end=None, **who))
    push(client, setup.sel85, "SEL85", "a", sel85)
    push(client, setup.sel104, "SEL104", "b", sel104)
    marked = client.put(
        "/api/v1/programmes/SEL85/exclusive-with/SEL104", headers=bearer(setup.admin)
    )
    assert marked.status_code == 200, marked.text
    return len(sel85) + len(sel104)


@contextmanager
def explained(engine: Engine) -> Iterator[list[dict[str, Any]]]:
    """EXPLAIN ANALYZE, on the same connection, each statement reading programme_exclusion."""
    plans: list[dict[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "programme_exclusion" in statement and statement.lstrip().upper().startswith("WITH"):
            with conn.connection.dbapi_connection.cursor() as explain:
                explain.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                plans.append(explain.fetchone()[0][0]["Plan"])

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield plans
    finally:
        event.remove(engine, "before_cursor_execute", before)


def work(node: dict[str, Any]) -> float:
    """Rows a plan node produced and threw away, over all its loops, and its children's."""
    rows = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
    rows += node.get("Rows Removed by Join Filter", 0)
    own = rows * node.get("Actual Loops", 1)
    return own + sum(work(child) for child in node.get("Plans", []))


def duplicates(client: TestClient, token: str, **params: str) -> Any:
    response = client.get(
        "/api/v1/overview/duplicates", params={"as_of": AS_OF, **params}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_findings_and_who_is_listed(client: TestClient, setup: Setup, engine: Engine) -> None:  # noqa: F811
    load(client, setup)
    make_user(engine, "regional", ["oversight"], ["1084"])
    doubles = [{"programme": "SEL85", "persons": PERSONS // 10, "same_benefit_code": 15}]
    pairs = [{"programmes": ["SEL104", "SEL85"], "persons": PERSONS}]

    body = duplicates(client, setup.oversight)
    assert body["double_enrolments"]["counts"] == doubles
    assert body["exclusive"]["counts"] == pairs
    assert len(body["exclusive"]["persons"]) == PERSONS
    shown = body["double_enrolments"]["persons"][0]
    assert shown["programmes"] == ["SEL85"]
    first_id = shown["enrolments"][0]["source_id"]
    assert [e["source_id"] for e in shown["enrolments"]] == [first_id, first_id + "b"]
    first = body["exclusive"]["persons"][0]
    programmes = [e["programme"] for e in first["enrolments"]]  # in programme order
    assert programmes == sorted(programmes) and set(programmes) == {"SEL104", "SEL85"}

    regional = duplicates(client, user_token(client, "regional"))
    assert regional["double_enrolments"]["counts"] == doubles
    assert regional["exclusive"]["counts"] == pairs
    listed = regional["exclusive"]["persons"]
    assert len(listed) == PERSONS // 3
    assert {e["region"] for p in listed for e in p["enrolments"]} == {"1084"}

    only = duplicates(client, setup.oversight, programme="SEL104")
    assert only["double_enrolments"]["counts"] == [] and only["exclusive"]["counts"] == pairs
    analyst = duplicates(client, setup.analyst)
    assert analyst["exclusive"] == {"counts": pairs, "persons": None}


def test_work_grows_with_the_episodes_not_their_square(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
) -> None:
    episodes = load(client, setup)
    make_user(engine, "regional", ["oversight"], ["1084"])
    for token in (setup.oversight, user_token(client, "regional")):
        with explained(engine) as plans:
            duplicates(client, token)
        assert len(plans) == 1
        rows = work(plans[0])
        assert rows <= WORK_PER_EPISODE * episodes, (
            f"{rows:,.0f} plan rows for {episodes} episodes: the query is quadratic"
        )
