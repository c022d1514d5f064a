"""ASGI entry point for multi-worker serving: each worker builds its app from the settings."""

from __future__ import annotations

from api.app import create_app
from registry.core.db import get_engine
from registry.core.settings import get_settings

app = create_app(get_engine(), get_settings())
