"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from api.errors import install_error_handlers
from api.routers import admin, audit, auth, feeds, health, identity, overview, persons, review
from registry.db import session_factory
from registry.settings import Settings


def create_app(engine: Engine, settings: Settings) -> FastAPI:
    """Build the app around an engine and settings (the CLI and tests pass their own)."""
    app = FastAPI(
        title="Integrated social registry",
        version="1.0",
        description="Programme feeds resolved to persons: who receives what, with history.",
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.sessions = session_factory(engine)
    install_error_handlers(app)
    for router in (
        health.router,
        auth.router,
        admin.router,
        audit.router,
        feeds.router,
        persons.router,
        identity.router,
        review.router,
        overview.router,
    ):
        app.include_router(router)
    return app
