"""Authentication and authorisation attacks that must fail."""

from __future__ import annotations

import base64
import json
import time

from fastapi.testclient import TestClient
from jose import jwt

from registry.settings import Settings
from tests.api.conftest import Setup
from tests.factories import bearer, record


def _token_request(client: TestClient, username: str, password: str) -> tuple[int, dict]:
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    return response.status_code, response.json()


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, setup: Setup) -> None:
    wrong = _token_request(client, "admin", "not the password at all")
    unknown = _token_request(client, "nobody-here", "not the password at all")
    assert wrong[0] == unknown[0] == 401
    assert wrong[1] == unknown[1]


def test_wrong_client_secret_is_401(client: TestClient, setup: Setup) -> None:
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "sel85-x", "client_secret": "nope"},
    )
    assert response.status_code == 401


def _claims(settings: Settings, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "user:1",
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_forged_tokens_are_refused(client: TestClient, setup: Setup, settings: Settings) -> None:
    subject = str(jwt.get_unverified_claims(setup.admin)["sub"])
    key = settings.secret("jwt_secret")
    assert jwt.get_unverified_header(setup.admin)["alg"] == "HS256"
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(settings, sub=subject))}."
    wrong_audience = jwt.encode(_claims(settings, sub=subject, aud="someone-else"), key)
    expired = jwt.encode(_claims(settings, sub=subject, exp=int(time.time()) - 5), key)
    other_key = jwt.encode(_claims(settings, sub=subject), "not-the-registry-key" * 3)
    good = jwt.encode(_claims(settings, sub=subject), key)
    for token in (unsigned, wrong_audience, expired, other_key, "garbage"):
        response = client.get("/api/v1/programmes", headers=bearer(token))
        assert response.status_code == 401, token
        assert response.json()["error"] == "NotAuthenticated"
    assert client.get("/api/v1/programmes", headers=bearer(good)).status_code == 200


def test_no_token_is_401(client: TestClient, setup: Setup) -> None:
    assert client.get("/api/v1/programmes").status_code == 401
    response = client.post(
        "/api/v1/programmes/SEL85/batches", json={"batch_id": "x", "records": []}
    )
    assert response.status_code == 401


def test_feed_client_cannot_write_or_read_another_programme(
    client: TestClient, setup: Setup
) -> None:
    response = client.post(
        "/api/v1/programmes/SEL104/batches",
        json={"batch_id": "x", "records": [record("1")]},
        headers=bearer(setup.sel85),
    )
    assert response.status_code == 403
    client.post(
        "/api/v1/programmes/SEL85/batches",
        json={"batch_id": "own", "records": [record("1")]},
        headers=bearer(setup.sel85),
    )
    for path in ("/api/v1/programmes/SEL85/batches/own", "/api/v1/programmes/SEL85/records/1"):
        assert client.get(path, headers=bearer(setup.sel104)).status_code == 403
        assert client.get(path, headers=bearer(setup.sel85)).status_code == 200


def test_people_cannot_push_feeds(client: TestClient, setup: Setup) -> None:
    for token in (setup.admin, setup.oversight):
        response = client.post(
            "/api/v1/programmes/SEL85/batches",
            json={"batch_id": "x", "records": []},
            headers=bearer(token),
        )
        assert response.status_code == 403


def test_only_admin_manages_programmes_users_and_clients(client: TestClient, setup: Setup) -> None:
    programme = {"code": "SEL96", "name": "BPA", "benefit_codes": ["1.13.2"]}
    user = {"username": "eve", "password": "x" * 16, "roles": ["admin"]}
    clients = {"programme": "SEL85", "name": "second MIS"}
    for token in (setup.oversight, setup.sel85, setup.analyst):
        assert (
            client.post("/api/v1/programmes", json=programme, headers=bearer(token)).status_code
            == 403
        )
        assert client.post("/api/v1/users", json=user, headers=bearer(token)).status_code == 403
        assert (
            client.post("/api/v1/clients", json=clients, headers=bearer(token)).status_code == 403
        )
    admin = bearer(setup.admin)
    assert client.post("/api/v1/programmes", json=programme, headers=admin).status_code == 201
    assert client.post("/api/v1/users", json=user, headers=admin).status_code == 201
    issued = client.post("/api/v1/clients", json=clients, headers=admin)
    assert issued.status_code == 201 and issued.json()["client_secret"]


def test_admin_input_is_validated(client: TestClient, setup: Setup) -> None:
    admin = bearer(setup.admin)
    bad_code = {"code": "SEL96", "name": "BPA", "benefit_codes": ["9.9.9"]}
    response = client.post("/api/v1/programmes", json=bad_code, headers=admin)
    assert response.status_code == 422 and "9.9.9" in response.json()["detail"]
    short = {"username": "eve", "password": "short", "roles": ["oversight"]}
    assert client.post("/api/v1/users", json=short, headers=admin).status_code == 422
    feed_user = {"username": "eve", "password": "x" * 16, "roles": ["feed"]}
    assert client.post("/api/v1/users", json=feed_user, headers=admin).status_code == 422
    duplicate = {"code": "SEL85", "name": "again", "benefit_codes": ["1.12.0.1"]}
    assert client.post("/api/v1/programmes", json=duplicate, headers=admin).status_code == 409


def test_person_outside_scope_is_404_like_a_missing_one(client: TestClient, setup: Setup) -> None:
    answer = client.post(
        "/api/v1/programmes/SEL85/batches",
        headers=bearer(setup.sel85),
        json={"batch_id": "b", "records": [record("1", region="1081")]},
    ).json()
    person = answer["results"][0]["person_id"]
    path = f"/api/v1/persons/{person}"
    assert client.get(path, headers=bearer(setup.oversight)).status_code == 200
    outside = client.get(path, headers=bearer(setup.steward_1084))
    missing = client.get(
        "/api/v1/persons/00000000-0000-0000-0000-000000000000", headers=bearer(setup.steward_1084)
    )
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()
    for token in (setup.admin, setup.analyst, setup.sel85):
        assert client.get(path, headers=bearer(token)).status_code == 403
