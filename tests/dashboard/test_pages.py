"""The dashboard over HTTP (no browser): sign-in, CSRF, refusals, audit, CSV, languages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.dashboard.conftest import EARLY, LATE, World, add_reviews
from tests.factories import PASSWORD, bearer

HTML = {"Accept": "text/html"}
SAME = {"Origin": "http://testserver"}


def sign_in(client: TestClient, username: str, **headers: str) -> None:
    response = client.post(
        "/dashboard/login",
        data={"username": username, "password": PASSWORD, "next": "/dashboard/overlaps"},
        headers={**SAME, **headers},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard/overlaps"


def cells(html: str) -> dict[tuple[str, str], str]:
    """The heat map's cells: (row, column) -> the number written in the cell."""
    found = re.findall(
        r'<g class="cell[^"]*" data-row="([^"]+)" data-col="([^"]+)">.*?<text[^>]*>([^<]*)</text>',
        html,
    )
    return {(a, b): v for a, b, v in found}


def test_login_sets_a_strict_httponly_cookie_and_pages_follow(
    client: TestClient, world: World
) -> None:
    sign_in(client, "oversight")
    assert client.cookies.get("registry_dashboard")
    page = client.get("/dashboard/overlaps", params={"as_of": LATE}, headers=HTML)
    assert page.status_code == 200
    assert cells(page.text)[("SEL85", "SEL104")] == "12"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_cookie_flags(client: TestClient, world: World) -> None:
    response = client.post(
        "/dashboard/login",
        data={"username": "oversight", "password": PASSWORD},
        headers=SAME,
        follow_redirects=False,
    )
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    assert "path=/dashboard" in set_cookie and "secure" not in set_cookie
    secure = TestClient(client.app, base_url="https://testserver")
    response = secure.post(
        "/dashboard/login",
        data={"username": "oversight", "password": PASSWORD},
        headers={"Origin": "https://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "; secure" in response.headers["set-cookie"].lower()


def test_a_cross_site_login_or_logout_is_refused(
    client: TestClient, world: World, engine: Engine
) -> None:
    form = {"username": "oversight", "password": PASSWORD}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "null"},
        {},
    ):
        refused = client.post(
            "/dashboard/login", data=form, headers={**HTML, **headers}, follow_redirects=False
        )
        assert refused.status_code == 403, headers
        assert "set-cookie" not in refused.headers
    sign_in(client, "oversight")
    forged = client.post(
        "/dashboard/logout", headers={"Origin": "https://evil.example"}, follow_redirects=False
    )
    assert forged.status_code == 403
    # the session survived the forged logout
    assert client.get("/dashboard/overlaps", headers=HTML).status_code == 200
    done = client.post("/dashboard/logout", headers=SAME, follow_redirects=False)
    assert done.status_code == 303
    after = client.get("/dashboard/overlaps", headers=HTML, follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/dashboard/login")


def test_logout_revokes_the_token_itself(client: TestClient, world: World) -> None:
    sign_in(client, "oversight")
    token = client.cookies.get("registry_dashboard")
    assert token
    client.post("/dashboard/logout", headers=SAME, follow_redirects=False)
    # replaying the stolen cookie value after logout does not work
    client.cookies.set("registry_dashboard", token, path="/dashboard")
    replay = client.get("/dashboard/overlaps", headers=HTML, follow_redirects=False)
    assert replay.status_code == 303


def test_anonymous_browser_is_redirected_script_gets_401(client: TestClient, world: World) -> None:
    browser = client.get(
        "/dashboard/overlaps?as_of=2024-07-01", headers=HTML, follow_redirects=False
    )
    assert browser.status_code == 303
    assert browser.headers["location"].startswith("/dashboard/login?next=%2Fdashboard%2Foverlaps")
    script = client.get("/dashboard/overlaps", follow_redirects=False)
    assert script.status_code == 401
    assert "2024" not in script.text


def test_next_never_leaves_the_dashboard(client: TestClient, world: World) -> None:
    for target in (
        "https://evil.example/",
        "//evil.example/x",
        "/api/v1/persons",
        "/dashboard\\@x",
    ):
        response = client.post(
            "/dashboard/login",
            data={"username": "oversight", "password": PASSWORD, "next": target},
            headers=SAME,
            follow_redirects=False,
        )
        assert response.headers["location"] == "/dashboard", target
    form = client.get(
        "/dashboard/login", params={"next": '/dashboard/x"><script>alert(1)</script>'}
    )
    assert "<script>" not in form.text and "&#34;&gt;&lt;script&gt;" in form.text


def test_wrong_password_is_the_api_refusal_and_audited(
    client: TestClient, world: World, engine: Engine
) -> None:
    response = client.post(
        "/dashboard/login",
        data={"username": "oversight", "password": "wrong password"},
        headers={**SAME, **HTML},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert 'id="login-error"' in response.text
    assert "set-cookie" not in response.headers
    with engine.connect() as conn:
        failures = conn.execute(
            text("SELECT failures FROM login_throttle WHERE key = 'user:oversight'")
        ).scalar_one()
        outcome = conn.execute(
            text("SELECT outcome FROM audit_event WHERE action = 'auth.login' ORDER BY id DESC")
        ).scalar()
    assert failures == 1 and outcome == "failure"


def test_roles_decide_like_the_api(client: TestClient, world: World) -> None:
    analyst, auditor = bearer(world.setup.analyst), bearer(world.auditor)
    assert client.get("/dashboard/overlaps", headers=analyst).status_code == 200
    # analysts have no feed-quality report in the API, so not here either
    refused = client.get("/dashboard/quality", headers={**analyst, **HTML})
    assert refused.status_code == 403 and 'id="refused"' in refused.text
    for path in ("/dashboard/overlaps", "/dashboard/coverage", "/dashboard/review"):
        page = client.get(path, headers={**auditor, **HTML}, follow_redirects=False)
        assert page.status_code == 403, path
        assert "SEL85" not in page.text
    # the home page opens for auditors (issue 24), with their pages only
    home = client.get("/dashboard", headers={**auditor, **HTML}, follow_redirects=False)
    assert home.status_code == 200 and "SEL85" not in home.text
    steward = bearer(world.setup.steward_1084)
    assert client.get("/dashboard/overlaps", headers=steward).status_code == 403
    assert client.get("/dashboard/quality?programme=SEL85", headers=steward).status_code == 200


def test_analyst_sees_suppressed_cells(client: TestClient, world: World) -> None:
    page = client.get(
        "/dashboard/overlaps", params={"as_of": LATE}, headers=bearer(world.setup.analyst)
    )
    shown = cells(page.text)
    api = client.get(
        "/api/v1/overview/overlaps", params={"as_of": LATE}, headers=bearer(world.setup.analyst)
    ).json()
    assert api["matrix"]["SEL82"]["SEL85"] is None
    for (a, b), value in shown.items():
        want = api["matrix"][a][b]
        assert value == ("·" if want is None else str(want)), (a, b)
    assert 'id="suppressed-legend"' in page.text
    oversight = client.get(
        "/dashboard/overlaps", params={"as_of": LATE}, headers=bearer(world.setup.oversight)
    )
    assert cells(oversight.text)[("SEL82", "SEL85")] == "2"
    assert 'id="suppressed-legend"' not in oversight.text


def test_csv_is_the_api_csv(client: TestClient, world: World) -> None:
    token = bearer(world.setup.oversight)
    for page, api in (
        ("overlaps", "overlaps"),
        ("duplicates", "duplicates"),
    ):
        mine = client.get(
            f"/dashboard/{page}", params={"as_of": EARLY, "format": "csv"}, headers=token
        )
        theirs = client.get(
            f"/api/v1/overview/{api}",
            params={"as_of": EARLY},
            headers={**token, "Accept": "text/csv"},
        )
        assert mine.status_code == 200 and mine.headers["content-type"].startswith("text/csv")
        assert "attachment" in mine.headers["content-disposition"]
        assert mine.text == theirs.text
    coverage = client.get(
        "/dashboard/coverage",
        params={"as_of": EARLY, "format": "csv", "table": "region"},
        headers=token,
    )
    assert "SEL85,1085,6,6" in coverage.text.replace("row,", "")


def test_every_view_is_audited_with_the_persons_it_names(
    client: TestClient, world: World, engine: Engine
) -> None:
    client.get(
        "/dashboard/overlaps", params={"as_of": EARLY}, headers=bearer(world.setup.oversight)
    )
    client.get(
        "/dashboard/duplicates", params={"as_of": LATE}, headers=bearer(world.setup.oversight)
    )
    client.get("/dashboard/overlaps", headers={**bearer(world.auditor), **HTML})
    with engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT action, outcome, detail, cardinality(person_ids) AS named FROM audit_event"
                " WHERE action IN ('dashboard.view', 'access.refused') ORDER BY id"
            )
        ).all()
    views = [e for e in events if e.action == "dashboard.view"]
    assert [v.detail["page"] for v in views] == ["overlaps", "duplicates"]
    assert views[0].detail["as_of"] == EARLY
    assert views[1].named == 12  # persons in both of the exclusive pair, listed for oversight
    refused = [e for e in events if e.action == "access.refused"]
    assert refused and refused[-1].outcome == "forbidden"
    assert refused[-1].detail["route"] == "/dashboard/overlaps"


def test_languages(client: TestClient, world: World) -> None:
    token = bearer(world.setup.oversight)
    danish = client.get(
        "/dashboard/overlaps", headers={**token, "Accept-Language": "da-DK,da;q=0.9"}
    )
    assert "Overlap mellem ordninger" in danish.text and '<html lang="da">' in danish.text
    english = client.get("/dashboard/overlaps?lang=en", headers={**token, "Accept-Language": "da"})
    assert "Programme overlaps" in english.text
    assert "Hent CSV" in client.get("/dashboard/coverage?lang=da", headers=token).text


def test_review_queue_size_and_age(client: TestClient, world: World, engine: Engine) -> None:
    add_reviews(engine)
    oversight = client.get("/dashboard/review", headers=bearer(world.setup.oversight))
    assert re.search(r'id="pending">2<', oversight.text)
    assert re.search(r'id="age">3\.0<', oversight.text)  # days
    steward = client.get("/dashboard/review", headers=bearer(world.setup.steward_1084))
    assert re.search(r'id="pending">1<', steward.text)
    listed = client.get("/api/v1/review", headers=bearer(world.setup.steward_1084)).json()
    assert len(listed["items"]) == 1


def test_quality_page_shows_the_report_and_last_batches(client: TestClient, world: World) -> None:
    page = client.get("/dashboard/quality?programme=SEL85", headers=bearer(world.setup.oversight))
    assert page.status_code == 200
    assert re.search(r"<th>a1</th><td>[^<]+</td><td>12</td><td>12</td><td>0</td>", page.text)
    bad = client.get(
        "/dashboard/quality?programme=NOPE", headers={**bearer(world.setup.oversight), **HTML}
    )
    assert bad.status_code == 404 and 'id="error"' in bad.text
    typo = client.get(
        "/dashboard/overlaps?as_of=yesterday", headers={**bearer(world.setup.oversight), **HTML}
    )
    assert typo.status_code == 422 and "as_of" in typo.text
