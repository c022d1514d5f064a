"""Authentication and authorisation attacks that must fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jose import jwt
from sqlalchemy import Engine, text

from api.app import create_app
from registry.access.tokens import issue_token, key_id
from registry.core.settings import Settings
from tests.api.conftest import Setup
from tests.factories import PASSWORD, bearer, make_user, record, user_token


def _token_request(client: TestClient, username: str, password: str) -> tuple[int, dict]:
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    return response.status_code, response.json()


def _b64(data: bytes | dict[str, Any]) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(settings: Settings, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "user:1",
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + 600,
        "ver": 0,
    }
    claims.update(overrides)
    return claims


def _hs256(key: bytes, claims: dict[str, object], header: dict[str, object]) -> str:
    """Sign by hand (the library refuses some of these keys, an attacker's code does not)."""
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _status(client: TestClient, token: str) -> int:
    return client.get("/api/v1/programmes", headers=bearer(token)).status_code


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


def test_forged_tokens_are_refused(client: TestClient, setup: Setup, settings: Settings) -> None:
    subject = str(jwt.get_unverified_claims(setup.admin)["sub"])
    key = settings.secret("jwt_secret")
    kid = key_id(key)
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    assert jwt.get_unverified_header(setup.admin) == {**header}
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    good_claims = _claims(settings, sub=subject)
    good = _hs256(key.encode(), good_claims, header)
    head, payload, signature = good.split(".")
    tampered_payload = _b64({**good_claims, "sub": "user:999"})
    forged = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(good_claims)}.",
        "alg None": f"{_b64({'alg': 'None', 'kid': kid})}.{_b64(good_claims)}.",
        "HS256 with the public key": _hs256(public_pem, good_claims, header),
        "RS256 with a private key": jwt.encode(
            good_claims, private_pem.decode(), algorithm="RS256", headers={"kid": kid}
        ),
        "other key": _hs256(b"not-the-registry-key" * 3, good_claims, header),
        "other key, its own kid": _hs256(
            b"not-the-registry-key" * 3, good_claims, {**header, "kid": key_id("x" * 40)}
        ),
        "no kid": _hs256(key.encode(), good_claims, {"alg": "HS256", "typ": "JWT"}),
        "wrong audience": _hs256(key.encode(), {**good_claims, "aud": "someone-else"}, header),
        "wrong issuer": _hs256(key.encode(), {**good_claims, "iss": "someone-else"}, header),
        "expired": _hs256(key.encode(), {**good_claims, "exp": int(time.time()) - 5}, header),
        "no version": _hs256(
            key.encode(), {k: v for k, v in good_claims.items() if k != "ver"}, header
        ),
        "tampered payload": f"{head}.{tampered_payload}.{signature}",
        "tampered signature": f"{head}.{payload}.{signature[:-2]}AA",
        "garbage": "garbage",
    }
    for name, token in forged.items():
        response = client.get("/api/v1/programmes", headers=bearer(token))
        assert response.status_code == 401, name
        assert response.json() == {"error": "NotAuthenticated", "detail": "the token is not valid"}
    assert _status(client, good) == 200


def test_no_token_is_401(client: TestClient, setup: Setup) -> None:
    assert client.get("/api/v1/programmes").status_code == 401
    response = client.post(
        "/api/v1/programmes/SEL85/batches", json={"batch_id": "x", "records": []}
    )
    assert response.status_code == 401


def test_signing_key_rotation_keeps_previous_keys_for_verification(
    engine: Engine, settings: Settings
) -> None:
    make_user(engine, "rotor", ["analyst"])
    old = settings.model_copy(update={"jwt_secret": "old-signing-key-" + "o" * 40})
    new = settings.model_copy(
        update={
            "jwt_secret": "new-signing-key-" + "n" * 40,
            "jwt_previous_secrets": [old.jwt_secret],
        }
    )
    with TestClient(create_app(engine, old)) as before:
        old_token = user_token(before, "rotor")
    assert jwt.get_unverified_header(old_token)["kid"] == key_id(str(old.jwt_secret))
    with TestClient(create_app(engine, new)) as after:
        new_token = user_token(after, "rotor")
        assert jwt.get_unverified_header(new_token)["kid"] == key_id(str(new.jwt_secret))
        assert _status(after, old_token) == 200
        assert _status(after, new_token) == 200
    retired = new.model_copy(update={"jwt_previous_secrets": []})
    with TestClient(create_app(engine, retired)) as later:
        assert _status(later, old_token) == 401
        assert _status(later, new_token) == 200


def test_logout_revokes_the_token_and_every_other_of_the_subject(
    client: TestClient, setup: Setup
) -> None:
    second = user_token(client, "oversight")
    assert _status(client, setup.oversight) == 200
    assert client.post("/api/v1/auth/logout", headers=bearer(setup.oversight)).status_code == 204
    assert _status(client, setup.oversight) == 401
    assert _status(client, second) == 401
    assert client.post("/api/v1/auth/logout", headers=bearer(setup.oversight)).status_code == 401
    assert _status(client, user_token(client, "oversight")) == 200
    # a feed client's logout revokes its token too
    assert client.post("/api/v1/auth/logout", headers=bearer(setup.sel85)).status_code == 204
    assert _status(client, setup.sel85) == 401


def test_disabled_user_loses_tokens_and_sign_in_at_once(client: TestClient, setup: Setup) -> None:
    assert _status(client, setup.oversight) == 200
    disabled = client.post("/api/v1/users/oversight/disable", headers=bearer(setup.admin))
    assert disabled.status_code == 200 and disabled.json()["username"] == "oversight"
    assert _status(client, setup.oversight) == 401
    status, body = _token_request(client, "oversight", PASSWORD)
    assert (status, body) == _token_request(client, "oversight", "wrong password entirely")
    assert status == 401
    # enabling again does not revive the tokens issued before the disable
    assert (
        client.post("/api/v1/users/oversight/enable", headers=bearer(setup.admin)).status_code
        == 200
    )
    assert _status(client, setup.oversight) == 401
    fresh = user_token(client, "oversight")
    assert _status(client, fresh) == 200
    # an admin cannot lock themselves out, and only admins disable
    own = client.post("/api/v1/users/admin/disable", headers=bearer(setup.admin))
    assert own.status_code == 422
    assert client.post("/api/v1/users/admin/disable", headers=bearer(fresh)).status_code == 403
    missing = client.post("/api/v1/users/nobody/disable", headers=bearer(setup.admin))
    assert missing.status_code == 404


def test_client_secret_rotation_retires_the_old_secret_and_tokens(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    issued = client.post(
        "/api/v1/clients", json={"programme": "SEL85", "name": "MIS 2"}, headers=bearer(setup.admin)
    ).json()
    form = {"grant_type": "client_credentials", "client_id": issued["client_id"]}
    old_token = client.post(
        "/api/v1/auth/token", data={**form, "client_secret": issued["client_secret"]}
    ).json()["access_token"]
    path = f"/api/v1/clients/{issued['client_id']}/secret"
    assert client.post(path, headers=bearer(setup.sel85)).status_code == 403
    assert client.post(path, headers=bearer(setup.oversight)).status_code == 403
    rotated = client.post(path, headers=bearer(setup.admin))
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != issued["client_secret"] and rotated.json()["programme"] == "SEL85"
    assert _status(client, old_token) == 401
    old = client.post("/api/v1/auth/token", data={**form, "client_secret": issued["client_secret"]})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/token", data={**form, "client_secret": new_secret})
    assert new.status_code == 200
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT secret_hash FROM api_client WHERE client_id = :c"),
            {"c": issued["client_id"]},
        ).scalar_one()
    assert new_secret not in stored and stored.startswith("$argon2")


def _expire_locks(engine: Engine) -> None:
    """Let the locks run out without waiting (the table is ours to adjust in a test)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE login_throttle SET locked_until = now() - interval '1 second'"))


def _lock_seconds(engine: Engine, key: str) -> float:
    with engine.connect() as conn:
        left = conn.execute(
            text(
                "SELECT extract(epoch FROM locked_until - now()) FROM login_throttle WHERE key = :k"
            ),
            {"k": key},
        ).scalar_one()
    return float(left or 0)


def test_repeated_failures_lock_the_name_known_or_not(
    engine: Engine, settings: Settings, setup: Setup
) -> None:
    quick = settings.model_copy(update={"login_lock_threshold": 3, "login_lock_seconds": 60})
    with TestClient(create_app(engine, quick)) as client:
        known = [_token_request(client, "analyst", "wrong password number x") for _ in range(3)]
        unknown = [
            _token_request(client, "ghost-user", "wrong password number x") for _ in range(3)
        ]
        assert known == unknown and {s for s, _ in known} == {401}
        # locked: the right password is refused with the very same answer
        assert _token_request(client, "analyst", PASSWORD) == known[0]
        assert 50 < _lock_seconds(engine, "user:analyst") <= 60
        assert 50 < _lock_seconds(engine, "user:ghost-user") <= 60
        _expire_locks(engine)
        assert _token_request(client, "analyst", PASSWORD)[0] == 200
        # a success clears the count: one more failure does not lock again
        assert _token_request(client, "analyst", "wrong password number y")[0] == 401
        assert _lock_seconds(engine, "user:analyst") <= 0
        assert _token_request(client, "analyst", PASSWORD)[0] == 200
        # the next failure after a lock locks again for twice as long (back-off doubles),
        # and attempts while locked neither count nor extend the lock
        assert _token_request(client, "ghost-user", "wrong again and again")[0] == 401
        assert 110 < _lock_seconds(engine, "user:ghost-user") <= 120
        for _ in range(3):
            _token_request(client, "ghost-user", "wrong again and again")
        with engine.connect() as conn:
            failures = conn.execute(
                text("SELECT failures FROM login_throttle WHERE key = 'user:ghost-user'")
            ).scalar_one()
        assert failures == 4
        assert _lock_seconds(engine, "user:ghost-user") <= 120


def test_client_credentials_are_throttled_too(
    engine: Engine, settings: Settings, setup: Setup
) -> None:
    quick = settings.model_copy(update={"login_lock_threshold": 2, "login_lock_seconds": 60})
    with TestClient(create_app(engine, quick)) as client:
        for _ in range(2):
            response = client.post(
                "/api/v1/auth/token",
                data={"grant_type": "client_credentials", "client_id": "c-1", "client_secret": "x"},
            )
            assert response.status_code == 401
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT locked_until > now() FROM login_throttle WHERE key = 'client:c-1'")
        ).scalar_one()


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
    user = {"username": "eve", "password": "a fine long passphrase", "roles": ["admin"]}
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


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "Password12345",
        "qwertyuiop123",
        "ilovefodbold2024",
        "aaaaaaaaaaaaaaaa",
        "abababababababab",
        "eve-the-admin-2026",
    ],
)
def test_weak_passwords_are_refused(client: TestClient, setup: Setup, password: str) -> None:
    body = {"username": "eve-the-admin", "password": password, "roles": ["oversight"]}
    response = client.post("/api/v1/users", json=body, headers=bearer(setup.admin))
    assert response.status_code == 422, password
    assert password not in response.text


def test_admin_input_is_validated(client: TestClient, setup: Setup) -> None:
    admin = bearer(setup.admin)
    bad_code = {"code": "SEL96", "name": "BPA", "benefit_codes": ["9.9.9"]}
    response = client.post("/api/v1/programmes", json=bad_code, headers=admin)
    assert response.status_code == 422 and "9.9.9" in response.json()["detail"]
    feed_user = {"username": "eve", "password": "a fine long passphrase", "roles": ["feed"]}
    assert client.post("/api/v1/users", json=feed_user, headers=admin).status_code == 422
    duplicate = {"code": "SEL85", "name": "again", "benefit_codes": ["1.12.0.1"]}
    assert client.post("/api/v1/programmes", json=duplicate, headers=admin).status_code == 409


def _roles_of(engine: Engine, username: str) -> tuple[list[str], list[str], str]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT roles, regions, password_hash FROM app_user WHERE username = :u"),
            {"u": username},
        ).one()
    return list(row[0]), list(row[1]), str(row[2])


def test_mass_assignment_of_roles_through_self_service_is_refused(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    before = _roles_of(engine, "analyst")
    attempts: list[dict[str, Any]] = [
        {"roles": ["admin"]},
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "roles": ["admin"],
        },
        {"current_password": PASSWORD, "new_password": "a brand new passphrase", "regions": ["*"]},
        {"current_password": PASSWORD, "new_password": "a brand new passphrase", "disabled": False},
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "username": "admin",
        },
    ]
    for body in attempts:
        response = client.patch("/api/v1/users/me", json=body, headers=bearer(setup.analyst))
        assert response.status_code == 422, body
    assert _roles_of(engine, "analyst") == before
    assert _status(client, setup.analyst) == 200
    # the other writable routes are not self-service: an analyst cannot reach them at all
    for path in ("/api/v1/users", "/api/v1/users/analyst/enable"):
        body = {"username": "analyst", "password": "x", "roles": ["admin"]}
        assert client.post(path, json=body, headers=bearer(setup.analyst)).status_code == 403
    assert _roles_of(engine, "analyst") == before


def test_own_password_change_needs_the_current_one_and_revokes_tokens(
    client: TestClient, setup: Setup, engine: Engine
) -> None:
    me = bearer(setup.analyst)
    wrong = {"current_password": "not my password at all", "new_password": "a brand new passphrase"}
    assert client.patch("/api/v1/users/me", json=wrong, headers=me).status_code == 401
    weak = {"current_password": PASSWORD, "new_password": "Password2024"}
    assert client.patch("/api/v1/users/me", json=weak, headers=me).status_code == 422
    good = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    assert client.patch("/api/v1/users/me", json=good, headers=me).status_code == 204
    assert _status(client, setup.analyst) == 401
    assert _token_request(client, "analyst", PASSWORD)[0] == 401
    assert _token_request(client, "analyst", "a brand new passphrase")[0] == 200
    # feed clients have no password to change
    body = {"current_password": "x", "new_password": "a brand new passphrase"}
    assert (
        client.patch("/api/v1/users/me", json=body, headers=bearer(setup.sel85)).status_code == 403
    )


def test_person_outside_scope_is_404_like_a_missing_one(client: TestClient, setup: Setup) -> None:
    answer = client.post(
        "/api/v1/programmes/SEL85/batches",
        headers=bearer(setup.sel85),
        json={"batch_id": "b", "records": [record("1", region="1081")]},
    ).json()
    person = answer["results"][0]["person_id"]
    missing_id = "00000000-0000-0000-0000-000000000000"
    for suffix in ("", "/subject-access"):
        path = f"/api/v1/persons/{person}{suffix}"
        outside = client.get(path, headers=bearer(setup.steward_1084))
        missing = client.get(
            f"/api/v1/persons/{missing_id}{suffix}", headers=bearer(setup.steward_1084)
        )
        assert outside.status_code == missing.status_code == 404
        assert outside.json() == missing.json()
    rectify = {"fields": {"given_name": "Eve"}, "reason": "attack"}
    outside = client.post(
        f"/api/v1/persons/{person}/rectify", json=rectify, headers=bearer(setup.steward_1084)
    )
    assert outside.status_code == 404
    path = f"/api/v1/persons/{person}"
    assert client.get(path, headers=bearer(setup.oversight)).status_code == 200
    for token in (setup.admin, setup.analyst, setup.sel85):
        assert client.get(path, headers=bearer(token)).status_code == 403


def test_tokens_are_bound_to_the_subjects_current_version(
    client: TestClient, setup: Setup, settings: Settings
) -> None:
    subject = str(jwt.get_unverified_claims(setup.oversight)["sub"])
    assert _status(client, issue_token(subject, settings, 0)[0]) == 200
    assert _status(client, issue_token(subject, settings, 1)[0]) == 401
    assert _status(client, issue_token("user:99999", settings, 0)[0]) == 401
