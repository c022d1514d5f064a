"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from api.authz import install_refusal_audit
from api.client_address import ClientAddressMiddleware
from api.dashboard.router import router as dashboard_router
from api.docs import install_docs
from api.errors import install_error_handlers
from api.limits import install_heavy_read_limits
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware, guard_request
from api.routers import (
    admin,
    audit,
    auth,
    codelists,
    exclusivity,
    feeds,
    health,
    identity,
    imports,
    metrics,
    money,
    overview,
    persons,
    quality,
    review,
    subject,
    switches,
)
from api.security_headers import SecurityHeadersMiddleware
from registry.core.db import session_factory
from registry.core.settings import Settings


def create_app(engine: Engine, settings: Settings) -> FastAPI:
    """Build the app around an engine and settings (the CLI and tests pass their own)."""
    app = FastAPI(
        title="Integrated social registry",
        version="1.0",
        description="Programme feeds resolved to persons: who receives what, with history.",
        dependencies=[Depends(guard_request)],
        docs_url=None,  # served from local assets by install_docs (no CDN)
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.sessions = session_factory(engine)
    install_error_handlers(app)
    install_refusal_audit(app)
    install_heavy_read_limits(app, settings)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware, max_url_bytes=settings.max_url_bytes)
    app.add_middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(SecurityHeadersMiddleware)
    install_docs(app)
    for router in (
        health.router,
        metrics.router,
        auth.router,
        admin.router,
        codelists.router,
        audit.router,
        feeds.router,
        imports.router,
        switches.router,
        persons.router,
        identity.router,
        review.router,
        subject.router,
        overview.router,
        money.router,
        quality.router,
        exclusivity.router,
        dashboard_router,
    ):
        app.include_router(router)
    return app
