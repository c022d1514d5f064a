"""HTTP layer: thin FastAPI routers over the registry services."""
