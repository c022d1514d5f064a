"""Response headers: no answer may be sniffed or cached, and /docs works offline.

The attack: answers carrying personal data had no ``Cache-Control: no-store`` (a shared
proxy or the browser's disk cache keeps them after sign-out) and no
``X-Content-Type-Options: nosniff``; ``/docs`` pulled its scripts from a CDN (a third party
sees who reads the API docs, and an offline registry has no docs). Every answer now carries
nosniff, every answer but the public static assets no-store, and the docs pages load only
same-origin assets, served from the installed package.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.authz import public, route_table
from registry.core.settings import Settings
from tests.factories import PASSWORD, bearer
from tests.hostile.conftest import Hostile

#: The public static assets among the API routes: cacheable, still never sniffed.
PUBLIC_ASSETS = {"/dashboard/static/dashboard.css", "/dashboard/static/frame.css"}


def assert_private(response: Any, what: str) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert "no-store" in response.headers.get("cache-control", ""), what


def _every_get_path(client: TestClient) -> list[str]:
    """Every GET route of the app, path parameters filled with a value that matches none."""
    table = route_table(client.app)  # type: ignore[arg-type]
    paths = {re.sub(r"\{[^}]+\}", "X1", r.path) for r in table if r.method == "GET"}
    return sorted(paths)


def test_every_api_answer_is_private_and_unsniffable(client: TestClient, hostile: Hostile) -> None:
    paths = _every_get_path(client)
    assert len(paths) > 30
    assert set(paths) >= PUBLIC_ASSETS
    for path in paths:
        for headers in (bearer(hostile.reader), {}):
            response = client.get(path, headers=headers, follow_redirects=False)
            what = f"GET {path} -> {response.status_code}"
            if path in PUBLIC_ASSETS:
                assert response.headers.get("x-content-type-options") == "nosniff", what
                assert "max-age" in response.headers.get("cache-control", ""), what
            else:
                assert_private(response, what)


def test_sign_in_and_refusals_are_private(client: TestClient, hostile: Hostile) -> None:
    for password in (PASSWORD, "a wrong password"):
        response = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "reader", "password": password},
        )
        assert_private(response, f"token -> {response.status_code}")
    assert_private(client.post("/api/v1/auth/token", data={}), "token without fields")
    long_url = client.get("/api/v1/healthz?" + "x" * 10_000)
    assert long_url.status_code == 414
    assert_private(long_url, "414")


def test_a_body_over_the_limit_and_an_unexpected_error_are_private(
    engine: Engine, settings: Settings
) -> None:
    app = create_app(engine, settings.model_copy(update={"max_request_bytes": 100}))

    def boom() -> None:
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/boom", boom, dependencies=[public()])
    with TestClient(app, raise_server_exceptions=False) as client:
        too_big = client.post("/api/v1/auth/token", content=b"x" * 1000)
        assert too_big.status_code == 413
        assert_private(too_big, "413")
        failed = client.get("/boom")
        assert failed.status_code == 500
        assert_private(failed, "500")


def _same_origin_assets(html: str) -> list[str]:
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs, html
    foreign = [r for r in refs if not r.startswith("/") or r.startswith("//")]
    assert not foreign, f"assets from elsewhere: {foreign}"
    assert "http://" not in html and "https://" not in html, html
    return refs


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_same_origin_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers.get("x-content-type-options") == "nosniff"
    for asset in _same_origin_assets(response.text):
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000, asset
        assert served.headers.get("x-content-type-options") == "nosniff", asset
        assert "no-store" not in served.headers.get("cache-control", ""), asset
        assert "public" in served.headers.get("cache-control", ""), asset
    assert client.get("/openapi.json").status_code == 200
