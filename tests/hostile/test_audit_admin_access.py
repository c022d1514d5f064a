"""Attacks on the auditor's and administrator's pages: the wrong role, no role, a feed client,
a forged cross-site form, markup in a stated purpose, a name that is nobody's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import Setup, setup  # noqa: F401  (the fixture, shared)
from tests.factories import PASSWORD, bearer, make_user, user_token

HTML = {"Accept": "text/html"}
SAME = {"Origin": "http://testserver"}

AUDIT_PAGES = ("/dashboard/audit", "/dashboard/audit/accesses", "/dashboard/audit/chain")
ADMIN_PAGES = (
    "/dashboard/admin",
    "/dashboard/admin/users/analyst",
    "/dashboard/admin/clients",
    "/dashboard/admin/programmes",
)
NEW_USER = {"username": "intruder", "password": "a very long passphrase 99", "roles": ["admin"]}
ADMIN_POSTS = (
    ("/dashboard/admin/users", NEW_USER),
    ("/dashboard/admin/users/analyst/disable", {}),
    ("/dashboard/admin/users/analyst/password", {"password": "a very long passphrase 99"}),
    ("/dashboard/admin/programmes", {"code": "EVIL", "name": "x", "benefit_codes": "1.1"}),
    ("/dashboard/admin/exclusions", {"code": "SEL85", "other": "SEL104"}),
    ("/dashboard/admin/clients", {"programme": "SEL85", "name": "evil MIS"}),
)


def state(engine: Engine) -> tuple[int, int, int, int, int]:
    """What an admin POST would change: users, disabled users, programmes, pairs, clients."""
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(text(sql)).scalar_one())
            for sql in (
                "SELECT count(*) FROM app_user",
                "SELECT count(*) FROM app_user WHERE disabled OR token_version > 0",
                "SELECT count(*) FROM programme",
                "SELECT count(*) FROM programme_exclusion",
                "SELECT count(*) FROM api_client",
            )
        )


def test_an_auditor_cannot_open_or_use_the_admin_pages(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
) -> None:
    make_user(engine, "auditor", ["auditor"])
    auditor = {**bearer(user_token(client, "auditor")), **HTML}
    before = state(engine)
    for path in ADMIN_PAGES:
        page = client.get(path, headers=auditor, follow_redirects=False)
        assert page.status_code == 403, path
        assert 'id="refused"' in page.text and "analyst" not in page.text.split("<main", 1)[1]
    for path, form in ADMIN_POSTS:
        assert client.post(path, data=form, headers=auditor).status_code == 403, path
    assert state(engine) == before
    home = client.get("/dashboard", headers=auditor)
    assert home.status_code == 200
    assert 'id="nav-audit"' in home.text and 'id="nav-admin"' not in home.text
    assert 'id="nav-coverage"' not in home.text


def test_an_admin_cannot_read_the_trail_unless_they_hold_the_auditor_role(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
) -> None:
    admin = {**bearer(setup.admin), **HTML}
    for path in AUDIT_PAGES:
        page = client.get(path, headers=admin)
        assert page.status_code == 403, path
        assert "auth.login" not in page.text and "user:" not in page.text
    assert client.post("/dashboard/audit/verify", headers=admin).status_code == 403
    assert client.get("/api/v1/audit/events", headers=bearer(setup.admin)).status_code == 403
    with engine.connect() as conn:
        verified = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'audit.verify'")
        ).scalar_one()
        refused = conn.execute(
            text(
                "SELECT count(*) FROM audit_event WHERE action = 'access.refused' "
                "AND detail ->> 'route' LIKE '/dashboard/audit%'"
            )
        ).scalar_one()
    assert verified == 0 and refused == len(AUDIT_PAGES) + 1
    home = client.get("/dashboard", headers=admin)
    assert home.status_code == 200
    assert 'id="nav-admin"' in home.text and 'id="nav-audit"' not in home.text
    # holding both roles opens both
    make_user(engine, "both", ["admin", "auditor"])
    both = {**bearer(user_token(client, "both")), **HTML}
    assert all(client.get(p, headers=both).status_code == 200 for p in AUDIT_PAGES)
    assert client.get("/dashboard/admin", headers=both).status_code == 200


def test_other_roles_a_feed_client_and_strangers_get_nothing(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
) -> None:
    before = state(engine)
    for token in (setup.oversight, setup.analyst, setup.steward_1084, setup.sel85):
        caller = {**bearer(token), **HTML}
        for path in (*AUDIT_PAGES, *ADMIN_PAGES):
            page = client.get(path, headers=caller, follow_redirects=False)
            assert page.status_code == 403, path
            assert "<table" not in page.text, path
        for path, form in ADMIN_POSTS:
            assert client.post(path, data=form, headers=caller).status_code == 403, path
    for path in (*AUDIT_PAGES, *ADMIN_PAGES):
        browser = client.get(path, headers=HTML, follow_redirects=False)
        assert browser.status_code == 303 and "/dashboard/login" in browser.headers["location"]
        assert client.get(path, follow_redirects=False).status_code == 401
    assert state(engine) == before


def test_a_forged_cross_site_form_changes_nothing(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
) -> None:
    make_user(engine, "both", ["admin", "auditor"])
    signed_in = client.post(
        "/dashboard/login",
        data={"username": "both", "password": PASSWORD},
        headers=SAME,
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    before = state(engine)
    for origin in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}, {}):
        for path, form in (*ADMIN_POSTS, ("/dashboard/audit/verify", {})):
            forged = client.post(path, data=form, headers={**origin, **HTML})
            assert forged.status_code == 403, (path, origin)
            assert "issued-secret" not in forged.text
    assert state(engine) == before
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM audit_event WHERE action = 'audit.verify'")
            ).scalar_one()
            == 0
        )


def test_markup_in_a_stated_purpose_is_shown_as_text(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
) -> None:
    make_user(engine, "auditor", ["auditor"])
    client.get(
        "/api/v1/programmes",
        headers={**bearer(setup.oversight), "X-Purpose": "<script>alert(1)</script>"},
    )
    client.get(
        "/api/v1/audit/events",  # refused: written to the trail with the purpose
        headers={**bearer(setup.oversight), "X-Purpose": "<script>alert(1)</script>"},
    )
    page = client.get("/dashboard/audit", headers={**bearer(user_token(client, "auditor")), **HTML})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_user_filter_naming_nobody_is_refused_not_widened(
    client: TestClient,
    setup: Setup,  # noqa: F811
    engine: Engine,
) -> None:
    make_user(engine, "auditor", ["auditor"])
    token = bearer(user_token(client, "auditor"))
    api = client.get("/api/v1/audit/events", params={"user": "nobody"}, headers=token)
    assert api.status_code == 422 and api.json()["errors"][0]["rule"] == "unknown_user"
    page = client.get("/dashboard/audit", params={"user": "nobody"}, headers={**token, **HTML})
    assert page.status_code == 422 and '<tr class="event"' not in page.text
    with engine.connect() as conn:
        steward = conn.execute(text("SELECT id FROM app_user WHERE username = 'steward'"))
        actor = f"user:{steward.scalar_one()}"
    by_name = client.get("/api/v1/audit/events", params={"user": "steward"}, headers=token)
    events = by_name.json()["events"]
    assert by_name.status_code == 200 and events
    assert {e["actor"] for e in events} == {actor}
