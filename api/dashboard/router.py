"""The dashboard at /dashboard: every page module's router, in one."""

from __future__ import annotations

from fastapi import APIRouter

from api.dashboard.pages import (
    admin,
    audit,
    codelists,
    home,
    money,
    overview,
    persons,
    quality,
    reconciliation,
    review,
    session,
)
from api.dashboard.web import fallback_router

router = APIRouter()
for module in (
    session,
    home,
    overview,
    money,
    reconciliation,
    quality,
    review,
    persons,
    audit,
    admin,
    codelists,
):
    router.include_router(module.router)
# last: an unknown dashboard path is a 404 page, a wrong method a 405 page
router.include_router(fallback_router())
