"""Every failure on a dashboard path is a page in the page's language with a way back."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.dashboard.web import new_router
from api.limits import Admission
from registry.access.models import AppUser
from registry.core.db import transaction
from tests.dashboard.conftest import World
from tests.dashboard.test_pages import HTML, SAME, sign_in
from tests.factories import bearer

#: Text of pydantic's and of the API's JSON errors that must never reach a page.
RAW = ("Input should be", '{"error"', "Field required", "validation error", "Traceback")


def looks_like_a_page(response: object, status: int, lang: str, heading: str) -> str:
    text: str = response.text  # type: ignore[attr-defined]
    assert response.status_code == status, text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    assert f'<html lang="{lang}">' in text
    assert heading in text, text
    assert 'id="back"' in text  # the way back
    assert 'href="#main"' in text  # the frame's skip link
    assert "default-src 'none'" in response.headers["content-security-policy"]  # type: ignore[attr-defined]
    for raw in RAW:
        assert raw not in text, raw
    return text


def test_an_unknown_dashboard_path_is_a_404_page(client: TestClient, world: World) -> None:
    for lang, heading in (("en", "Page not found"), ("da", "Siden findes ikke")):
        anonymous = client.get(f"/dashboard/no/such/page?lang={lang}", headers=HTML)
        text = looks_like_a_page(anonymous, 404, lang, heading)
        assert f'href="/dashboard/login?lang={lang}"' in text
    sign_in(client, "oversight")
    known = client.get("/dashboard/nothing-here", headers={**HTML, "Accept-Language": "da"})
    text = looks_like_a_page(known, 404, "da", "Siden findes ikke")
    assert 'id="user">oversight<' in text and 'href="/dashboard?lang=da"' in text
    # the API keeps its JSON
    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"


def test_a_wrong_method_is_a_405_page(client: TestClient, world: World) -> None:
    sign_in(client, "oversight")
    for lang, heading in (("en", "cannot be used that way"), ("da", "kan ikke bruges")):
        wrong = client.delete(f"/dashboard/coverage?lang={lang}", headers=HTML)
        looks_like_a_page(wrong, 405, lang, heading)
        assert wrong.headers["allow"] == "GET"
    put = client.put("/dashboard/login", headers={**HTML, **SAME})
    assert put.status_code == 405 and put.headers["allow"] == "GET, POST"


def test_bad_input_is_a_422_page_naming_the_field_and_rule(
    client: TestClient, world: World
) -> None:
    token = bearer(world.setup.oversight)
    english = client.get("/dashboard/coverage?as_of=yesterday", headers={**token, **HTML})
    text = looks_like_a_page(english, 422, "en", "Some of what was entered is not valid")
    assert "<strong>As of</strong> must be a date written YYYY-MM-DD" in text
    danish = client.get(
        "/dashboard/quality?programme=SEL85&category=nope&lang=da", headers={**token, **HTML}
    )
    text = looks_like_a_page(danish, 422, "da", "Noget af det indtastede er ikke gyldigt")
    assert "skal være en af: invalid_benefit_code" in text
    too_long = client.get("/dashboard/login?next=" + "x" * 2001 + "&lang=da", headers=HTML)
    text = looks_like_a_page(too_long, 422, "da", "ikke gyldigt")
    assert "er for lang (højst 2000 tegn)" in text


def test_a_service_refusal_is_a_page_with_its_detail(client: TestClient, world: World) -> None:
    token = bearer(world.setup.oversight)
    missing = client.get("/dashboard/quality?programme=NOPE&lang=da", headers={**token, **HTML})
    text = looks_like_a_page(missing, 404, "da", "Siden findes ikke")
    assert '<span lang="en">' in text and "NOPE" in text


def test_a_refusal_is_a_403_page_with_a_way_back(client: TestClient, world: World) -> None:
    for lang, heading in (("en", "Access refused"), ("da", "Adgang nægtet")):
        refused = client.get(
            f"/dashboard/quality?lang={lang}", headers={**bearer(world.setup.analyst), **HTML}
        )
        looks_like_a_page(refused, 403, lang, heading)


def test_a_malformed_form_is_a_400_page(client: TestClient, world: World) -> None:
    broken = client.post(
        "/dashboard/login?lang=da",
        content=b"username=ab&password=cd",
        headers={**HTML, **SAME, "Content-Type": "multipart/form-data"},  # no boundary
    )
    looks_like_a_page(broken, 400, "da", "Forespørgslen kunne ikke besvares")


def test_too_many_heavy_reads_is_a_429_page(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "oversight")
    with transaction(engine) as session:
        user_id = session.scalars(select(AppUser.id).where(AppUser.username == "oversight")).one()
    limiter = client.app.state.heavy_reads  # type: ignore[attr-defined]
    held = limiter.admit(f"user:{user_id}")  # the user's one slot, taken by a read in flight
    assert isinstance(held, Admission)
    try:
        busy = client.get("/dashboard/coverage?lang=da", headers=HTML)
    finally:
        limiter.release(held)
    text = looks_like_a_page(busy, 429, "da", "For mange forespørgsler")
    assert busy.headers["retry-after"] and 'id="error-retry"' in text
    assert client.get("/dashboard/coverage", headers=HTML).status_code == 200


@pytest.fixture
def failing_client(client: TestClient) -> TestClient:
    """The app with one more dashboard route, first in line, that fails as a bug would."""
    router = new_router()

    @router.get("/fails")
    def fails() -> None:
        raise RuntimeError("a bug with secrets in its message: SELECT * FROM person")

    client.app.router.routes.insert(0, router.routes[0])  # type: ignore[attr-defined]
    return TestClient(client.app, raise_server_exceptions=False)


def test_a_fault_is_a_500_page_that_tells_nothing_inside(
    failing_client: TestClient, world: World
) -> None:
    for lang, heading in (("en", "Something went wrong on our side"), ("da", "gik noget galt")):
        fault = failing_client.get(f"/dashboard/fails?lang={lang}", headers=HTML)
        text = looks_like_a_page(fault, 500, lang, heading)
        assert "SELECT" not in text and "RuntimeError" not in text
