"""Builders for test data: programmes, users, clients and tokens through the real services."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from registry.access.service import create_client, create_user
from registry.core.db import transaction
from registry.programmes.service import create_programme

PASSWORD = "correct horse battery staple"


def make_programme(engine: Engine, code: str, benefit_codes: list[str]) -> None:
    with transaction(engine) as session:
        create_programme(
            session,
            code=code,
            name=f"Programme {code}",
            agency="Kommune",
            benefit_codes_allowed=benefit_codes,
        )


def make_user(
    engine: Engine, username: str, roles: list[str], regions: list[str] | None = None
) -> None:
    with transaction(engine) as session:
        create_user(
            session,
            username=username,
            password=PASSWORD,
            roles=roles,
            regions=regions or [],
            programmes=[],
        )


def make_client(engine: Engine, programme: str) -> tuple[str, str]:
    with transaction(engine) as session:
        issued = create_client(session, programme_code=programme, name=f"{programme} MIS")
    return issued.client_id, issued.client_secret


def user_token(client: TestClient, username: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def client_token(client: TestClient, client_id: str, secret: str) -> str:
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def record(
    source_id: str, national_id: str | None = "0705404916", **overrides: Any
) -> dict[str, Any]:
    """A valid SEL85-style feed record; override any top-level or enrolment field."""
    enrolment = {
        "benefit_code": "1.12.0.2",
        "target_group": "1.2.2",
        "status": "active",
        "start_date": "2023-01-23",
        "end_date": None,
        "amount": 2033.68,
    }
    enrolment_overrides = overrides.pop("enrolment", {})
    if enrolment_overrides is None:
        overrides["enrolment"] = None
    else:
        enrolment.update(enrolment_overrides)
    base: dict[str, Any] = {
        "source_id": source_id,
        "national_id": national_id,
        "given_name": "Britta",
        "family_name": "Paulsen",
        "birth_date": "1940-05-07",
        "sex": "F",
        "region": "1084",
        "municipality": "157",
        "mother_name": "Karen Paulsen",
        "enrolment": enrolment,
    }
    base.update(overrides)
    return base


def push(
    client: TestClient, token: str, programme: str, batch_id: str, records: list[dict[str, Any]]
) -> Any:
    """POST one feed batch; the response."""
    return client.post(
        f"/api/v1/programmes/{programme}/batches",
        json={"batch_id": batch_id, "records": records},
        headers=bearer(token),
    )
