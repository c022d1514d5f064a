"""The API docs (/docs, /redoc) with their scripts served from the installed package.

FastAPI's default pages load Swagger UI and ReDoc from a CDN: a third party then sees who
reads the docs, and an offline registry has none. The files come from the fastapi-offline
package (Swagger UI 5, ReDoc 2) and are served under /docs/assets as public, cacheable static
files; the validator badge (an outside call) and Google fonts are off.
"""

from __future__ import annotations

import os
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

ASSETS = "/docs/assets"
_PACKAGE_ASSETS = str(files("fastapi_offline") / "static")


class PublicAssets(StaticFiles):
    """Static files that say they may be cached by anyone for a day."""

    def file_response(self, full_path: str | os.PathLike[str], *args: Any, **kw: Any) -> Response:
        """The file, marked public and cacheable."""
        response = super().file_response(full_path, *args, **kw)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def install_docs(app: FastAPI) -> None:
    """Serve /docs, /docs/oauth2-redirect and /redoc from local assets (no CDN)."""
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    app.mount(ASSETS, PublicAssets(directory=_PACKAGE_ASSETS), name="docs-assets")

    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route(redirect_url, oauth2_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
