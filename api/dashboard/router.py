"""The dashboard at /dashboard: every page module's router, in one."""

from __future__ import annotations

from fastapi import APIRouter

from api.dashboard.pages import (
    admin,
    audit,
    home,
    overview,
    quality,
    reconciliation,
    review,
    session,
)

router = APIRouter()
for module in (session, home, overview, reconciliation, quality, review, audit, admin):
    router.include_router(module.router)
