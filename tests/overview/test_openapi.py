"""The overview, quality and exclusivity answers are typed in OpenAPI, field by field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.routers import exclusivity, overview, quality

ROUTERS = (overview, quality, exclusivity)


def spec() -> dict[str, Any]:
    app = FastAPI()
    for module in ROUTERS:
        app.include_router(module.router)
    return app.openapi()


def test_every_answer_has_a_schema_with_its_fields() -> None:
    found = spec()
    schemas = found["components"]["schemas"]
    operations = [(path, op) for path, ops in found["paths"].items() for op in ops.values()]
    assert len(operations) == 11
    for path, op in operations:
        content = op["responses"]["200"]["content"]["application/json"]
        name = content["schema"]["$ref"].rpartition("/")[2]
        assert schemas[name]["properties"], (path, name)
    # keyword names travel under their wire names
    assert list(schemas["Timeseries"]["properties"])[:2] == ["from", "to"]
    assert list(schemas["QualityReport"]["properties"])[1:3] == ["from", "to"]
    # nested answers are typed too: no bare objects
    for name, schema in schemas.items():
        for field, prop in schema.get("properties", {}).items():
            bare = prop.get("type") == "object" and "additionalProperties" not in prop
            assert not bare or name == "ValidationError", (name, field)
