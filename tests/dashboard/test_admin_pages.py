"""The administrator's pages over HTTP: users (create, disable, enable, reset password), feed
clients (the secret shown once), programmes and their exclusivity; refusals name field and rule."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.dashboard.conftest import World
from tests.factories import PASSWORD, bearer

HTML = {"Accept": "text/html"}
SAME = {"Origin": "http://testserver"}
NEW_PASSWORD = "a much longer passphrase 42"


def sign_in(client: TestClient, username: str) -> None:
    response = client.post(
        "/dashboard/login",
        data={"username": username, "password": PASSWORD, "next": "/dashboard/admin"},
        headers=SAME,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def rules(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-field="([^"]+)" data-rule="([^"]+)"', html))


def token_status(client: TestClient, username: str, password: str) -> int:
    return client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    ).status_code


def test_an_admin_creates_a_user_who_can_sign_in(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "admin")
    created = client.post(
        "/dashboard/admin/users",
        data={
            "username": "new.oversight",
            "password": NEW_PASSWORD,
            "roles": ["oversight", "steward"],
            "regions": "1084, 1085",
        },
        headers={**SAME, **HTML},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    listing = client.get(created.headers["location"], headers=HTML).text
    assert 'id="notice"' in listing and 'data-username="new.oversight"' in listing
    assert token_status(client, "new.oversight", NEW_PASSWORD) == 200
    with engine.connect() as conn:
        event = conn.execute(
            text("SELECT actor, detail FROM audit_event WHERE action = 'user.create'")
        ).one()
        roles, regions = conn.execute(
            text("SELECT roles, regions FROM app_user WHERE username = 'new.oversight'")
        ).one()
    assert event.detail == {"username": "new.oversight", "roles": ["oversight", "steward"]}
    assert NEW_PASSWORD not in str(event.detail)
    assert (roles, regions) == (["oversight", "steward"], ["1084", "1085"])


def test_refusals_name_the_field_and_rule_in_the_pages_language(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "admin")

    def attempt(**form: object) -> tuple[int, str]:
        data = {"username": "someone", "password": NEW_PASSWORD, "roles": ["analyst"], **form}
        answer = client.post("/dashboard/admin/users?lang=da", data=data, headers={**SAME, **HTML})
        return answer.status_code, answer.text

    status, page = attempt(password="short")
    assert status == 422 and rules(page) == {"password": "min_length"}
    assert "skal have mindst 12 tegn" in page and 'value="someone"' in page
    assert "short" not in re.sub(r"<[^>]+>", "", page).split("Ret venligst følgende")[1][:400]
    assert rules(attempt(password="password1234")[1]) == {"password": "common"}
    assert rules(attempt(roles=[])[1]) == {"roles": "roles"}
    assert rules(attempt(regions="1084, not a region!")[1]) == {"regions": "region_code"}
    assert rules(attempt(username="x")[1]) == {"username": "username"}
    assert rules(attempt(programmes="NOPE")[1]) == {"programmes": "not_found"}
    assert rules(attempt(username="admin")[1]) == {"username": "exists"}
    english = client.post(
        "/dashboard/admin/users?lang=en",
        data={"username": "someone", "password": "short", "roles": ["analyst"]},
        headers={**SAME, **HTML},
    ).text
    assert "must have at least 12 characters" in english
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM app_user WHERE username = 'someone'")
            ).scalar_one()
            == 0
        )


def test_disable_enable_and_reset_a_password(client: TestClient, world: World) -> None:
    sign_in(client, "admin")
    page = client.get("/dashboard/admin/users/analyst", headers=HTML)
    assert page.status_code == 200 and 'id="state"' in page.text
    done = client.post(
        "/dashboard/admin/users/analyst/disable", headers={**SAME, **HTML}, follow_redirects=False
    )
    assert done.status_code == 303
    assert token_status(client, "analyst", PASSWORD) == 401
    client.post("/dashboard/admin/users/analyst/enable", headers={**SAME, **HTML})
    assert token_status(client, "analyst", PASSWORD) == 200
    reset = client.post(
        "/dashboard/admin/users/analyst/password",
        data={"password": NEW_PASSWORD},
        headers={**SAME, **HTML},
        follow_redirects=False,
    )
    assert reset.status_code == 303
    assert token_status(client, "analyst", PASSWORD) == 401
    assert token_status(client, "analyst", NEW_PASSWORD) == 200
    weak = client.post(
        "/dashboard/admin/users/analyst/password",
        data={"password": "short"},
        headers={**SAME, **HTML},
    )
    assert weak.status_code == 422 and rules(weak.text) == {"password": "min_length"}
    own = client.post(
        "/dashboard/admin/users/admin/password",
        data={"password": NEW_PASSWORD},
        headers={**SAME, **HTML},
    )
    assert own.status_code == 422 and rules(own.text) == {"password": "own_account"}
    self_disable = client.post("/dashboard/admin/users/admin/disable", headers={**SAME, **HTML})
    assert rules(self_disable.text) == {"username": "own_account_disable"}


def test_a_client_secret_is_shown_once_and_nowhere_else(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "admin")
    created = client.post(
        "/dashboard/admin/clients",
        data={"programme": "SEL82", "name": "Second SEL82 MIS"},
        headers={**SAME, **HTML},
    )
    assert created.status_code == 200, created.text
    client_id = re.search(r'id="issued-client-id">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="issued-secret" class="hash">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    grant = {"grant_type": "client_credentials", "client_id": client_id}
    assert (
        client.post("/api/v1/auth/token", data={**grant, "client_secret": secret}).status_code
        == 200
    )
    listing = client.get("/dashboard/admin/clients", headers=HTML).text
    assert client_id in listing and secret not in listing
    rotated = client.post(
        f"/dashboard/admin/clients/{client_id}/secret", headers={**SAME, **HTML}
    ).text
    new_secret = re.search(r'id="issued-secret" class="hash">([^<]+)<', rotated).group(1)  # type: ignore[union-attr]
    assert new_secret != secret
    assert (
        client.post("/api/v1/auth/token", data={**grant, "client_secret": secret}).status_code
        == 401
    )
    assert (
        client.post("/api/v1/auth/token", data={**grant, "client_secret": new_secret}).status_code
        == 200
    )
    with engine.connect() as conn:
        trail = conn.execute(text("SELECT string_agg(CAST(detail AS text), ' ') FROM audit_event"))
        everything = trail.scalar_one()
        actions = (
            conn.execute(
                text("SELECT action FROM audit_event WHERE action LIKE 'client.%' ORDER BY id")
            )
            .scalars()
            .all()
        )
    assert secret not in everything and new_secret not in everything
    assert actions == ["client.create", "client.rotate_secret"]
    blank = client.post(
        "/dashboard/admin/clients",
        data={"programme": "SEL82", "name": " "},
        headers={**SAME, **HTML},
    )
    assert blank.status_code == 422 and rules(blank.text) == {"name": "required"}


def test_programmes_and_their_exclusivity(client: TestClient, world: World) -> None:
    sign_in(client, "admin")
    created = client.post(
        "/dashboard/admin/programmes",
        data={"code": "SEL99", "name": "Test programme", "benefit_codes": "1.1, 1.12.0.2"},
        headers={**SAME, **HTML},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page = client.get("/dashboard/admin/programmes", headers=HTML).text
    assert 'data-code="SEL99"' in page and 'data-pair="SEL104-SEL85"' in page
    bad = client.post(
        "/dashboard/admin/programmes",
        data={"code": "sel 1", "name": "", "benefit_codes": "9.9"},
        headers={**SAME, **HTML},
    )
    assert bad.status_code == 422 and rules(bad.text) == {"code": "programme_code"}
    unknown = client.post(
        "/dashboard/admin/programmes",
        data={"code": "SEL98", "name": "X", "benefit_codes": "9.9"},
        headers={**SAME, **HTML},
    )
    assert rules(unknown.text) == {"benefit_codes": "benefit_codes"}
    marked = client.post(
        "/dashboard/admin/exclusions",
        data={"code": "SEL99", "other": "SEL82"},
        headers={**SAME, **HTML},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    api = client.get(
        "/api/v1/programmes/SEL99/exclusive-with", headers=bearer(world.setup.admin)
    ).json()
    assert api["exclusive_with"] == ["SEL82"]
    client.post(
        "/dashboard/admin/exclusions/remove",
        data={"code": "SEL99", "other": "SEL82"},
        headers={**SAME, **HTML},
    )
    api = client.get(
        "/api/v1/programmes/SEL99/exclusive-with", headers=bearer(world.setup.admin)
    ).json()
    assert api["exclusive_with"] == []
    itself = client.post(
        "/dashboard/admin/exclusions",
        data={"code": "SEL99", "other": "SEL99"},
        headers={**SAME, **HTML},
    )
    assert itself.status_code == 422 and rules(itself.text) == {"other": "same_programme"}
