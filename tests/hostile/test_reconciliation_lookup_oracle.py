"""Attack: an oversight user uploads national IDs to the reconciliation to learn who gets what.

The hand-built registry (tests/overview/conftest.py), active on 2024-06-30: SEL85 holds P1
(region 1084), P2 (1084; also SEL104 in 1085) and P3 (1085); P4 is in SEL104 only (1085).
A user scoped to region 1085 may read P2, P3 and P4, not P1; a user with no region none.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from registry.overview.reconciliation import MAX_REFERENCE_ROWS
from tests.api.conftest import setup  # noqa: F401  (the fixture)
from tests.factories import bearer, make_user, user_token
from tests.overview.conftest import P1, P3, Registry, registry  # noqa: F401  (the fixture)

HEADER = "source_id,national_id,benefit_code,start_date,end_date\n"
UNKNOWN = "0909909999"


def upload(client: TestClient, token: str, csv_text: str) -> Any:
    return client.post(
        "/api/v1/overview/reconciliation",
        params={"left": "SEL85", "as_of": "2024-06-30"},
        files={"reference": ("extract.csv", (HEADER + csv_text).encode(), "text/csv")},
        headers=bearer(token),
    )


def counts(response: Any) -> dict[str, Any]:
    """What a probe shows besides row numbers: the summary and the per-code counts."""
    assert response.status_code == 200, response.text
    body = response.json()
    return {"summary": body["summary"], "by_benefit_code": body["by_benefit_code"]}


def person_of(engine: Engine, source_id: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT person_id FROM source_record WHERE source_id = :s"), {"s": source_id}
            ).scalar_one()
        )


def last_event(engine: Engine) -> tuple[list[str], dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT person_ids, detail FROM audit_event "
                "WHERE action = 'overview.reconciliation' ORDER BY id DESC LIMIT 1"
            )
        ).one()
    return [str(p) for p in row.person_ids], dict(row.detail or {})


def test_out_of_scope_ids_answer_like_unknown_ids(
    client: TestClient,
    registry: Registry,  # noqa: F811
    engine: Engine,
) -> None:
    """Probing P1 (region 1084) from outside its region shows what an unknown ID shows."""
    make_user(engine, "oversight_1085", ["oversight"], ["1085"])
    make_user(engine, "oversight_none", ["oversight"], [])
    for username in ("oversight_1085", "oversight_none"):
        token = user_token(client, username)
        baseline = counts(upload(client, token, f",{UNKNOWN},1.12.0.1,2024-01-01,\n"))
        # is P1 in SEL85 at all, and is 2024-01-01 their exact start date?
        for guess in ("2024-01-01", "2024-01-02"):
            probe = upload(client, token, f",{P1['national_id']},1.12.0.1,{guess},\n")
            assert counts(probe) == baseline, (username, guess)
            assert P1["national_id"] not in probe.text
            assert person_of(engine, "A1") not in probe.text
    # the user without a region learns nothing about P3 either
    token = user_token(client, "oversight_none")
    baseline = counts(upload(client, token, f",{UNKNOWN},1.12.0.2,2023-01-01,\n"))
    assert counts(upload(client, token, f",{P3['national_id']},1.12.0.2,2023-01-01,\n")) == (
        baseline
    )


def test_in_scope_ids_are_still_reconciled(
    client: TestClient,
    registry: Registry,  # noqa: F811
    engine: Engine,
) -> None:
    make_user(engine, "oversight_1085", ["oversight"], ["1085"])
    token = user_token(client, "oversight_1085")
    body = upload(client, token, f",{P3['national_id']},1.12.0.2,2023-01-02,\n").json()
    assert body["summary"]["both"] == 1 and body["summary"]["differing"] == 1
    assert [p["person_id"] for p in body["differing"]] == [person_of(engine, "A3")]


def test_the_looked_up_persons_are_audited(
    client: TestClient,
    registry: Registry,  # noqa: F811
    engine: Engine,
) -> None:
    """An exact match names nobody in the answer, yet the audit names whom the upload found."""
    response = upload(client, registry.setup.oversight, f",{P1['national_id']},1.12.0.1,,\n")
    assert response.status_code == 200, response.text
    persons, detail = last_event(engine)
    assert person_of(engine, "A1") in persons
    assert detail["reference_rows"] == 1

    make_user(engine, "oversight_1085", ["oversight"], ["1085"])
    token = user_token(client, "oversight_1085")
    rows = (
        f",{P1['national_id']},1.12.0.1,,\n"  # out of the caller's regions: counted only
        f",{P3['national_id']},1.12.0.2,2023-01-01,\n"  # in scope, an exact match
        f",{UNKNOWN},1.12.0.2,,\n"  # nobody
    )
    assert upload(client, token, rows).status_code == 200
    persons, detail = last_event(engine)
    assert person_of(engine, "A3") in persons
    assert person_of(engine, "A1") not in persons
    assert detail["reference_rows"] == 3
    assert detail["not_compared"] == 2


def test_an_upload_is_bounded_and_says_its_limit(
    client: TestClient,
    registry: Registry,  # noqa: F811
) -> None:
    rows = "".join(f"X{i},,1.12.0.1,,\n" for i in range(MAX_REFERENCE_ROWS + 1))
    response = upload(client, registry.setup.oversight, rows)
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert f"{MAX_REFERENCE_ROWS:,}" in body["detail"] or str(MAX_REFERENCE_ROWS) in body["detail"]
    assert body["errors"][0]["field"] == "reference"
    assert MAX_REFERENCE_ROWS <= 50_000
