"""The dashboard at /dashboard: every page module's router, in one."""

from __future__ import annotations

from fastapi import APIRouter

from api.dashboard.pages import overview, persons, quality, review, session

router = APIRouter()
for module in (session, overview, quality, review, persons):
    router.include_router(module.router)
