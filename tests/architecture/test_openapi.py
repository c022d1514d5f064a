"""Every route declares what it answers, and OpenAPI shows the fields of every JSON answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from sqlalchemy import create_engine

from api.app import create_app
from registry.core.settings import Settings

#: (schema title, field) of stored JSON payloads: data shaped by its producer, not an answer.
FREE_FORM = {
    ("ListedEvent", "detail"),
    ("RecordVersion", "payload"),
}

#: Built once without a database: building the app and its OpenAPI document connects nowhere.
APP = create_app(
    create_engine("postgresql+psycopg2://openapi@127.0.0.1:9/openapi"),
    Settings(
        env="test",
        jwt_secret="openapi-test-signing-secret-" + "x" * 32,
        national_id_key="openapi-test-national-id-key-" + "y" * 32,
    ),
)
#: Every API route as the app serves it (prefix, dependencies and answer of its router applied).
ROUTES = sorted(
    (
        (method, route)
        for route in iter_route_contexts(APP.routes)
        if isinstance(route.original_route, APIRoute)
        for method in route.methods or ()
    ),
    key=lambda pair: (str(pair[1].path_format), pair[0]),
)
IDS = [f"{method} {route.path_format}" for method, route in ROUTES]


def _declares_answer(route: RouteContext) -> bool:
    """A response model, or a response class that is not JSON (HTML, CSV, text, empty)."""
    if route.response_model is not None:
        return True
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    return not issubclass(response_class, JSONResponse)


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=IDS)
def test_every_route_declares_its_answer(method: str, route: RouteContext) -> None:
    assert _declares_answer(route), (
        f"{method} {route.path_format}: declare response_model= (or response_class= and "
        "response_model=None for a non-JSON answer)"
    )


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _untyped(
    schema: dict[str, Any], components: dict[str, Any], where: str, seen: set[str]
) -> list[str]:
    """Where a schema, or anything nested in it, shows no fields: `{}` or a free-form object."""
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:
            return []
        seen.add(ref)
    schema = _resolve(schema, components)
    variants = [v for key in ("anyOf", "oneOf", "allOf") for v in schema.get(key, [])]
    if variants:
        return [p for v in variants for p in _untyped(v, components, where, seen)]
    if schema.get("type") == "array":
        items = schema.get("items")
        if not items:
            return [f"{where}: an array of untyped items"]
        return _untyped(items, components, f"{where}[]", seen)
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties")
        if properties:
            title = schema.get("title", "")
            return [
                problem
                for name, field in properties.items()
                if (title, name) not in FREE_FORM
                for problem in _untyped(field, components, f"{where}.{name}", seen)
            ]
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:  # a typed map, dict[str, X]
            return _untyped(extra, components, f"{where}{{}}", seen)
        return [f"{where}: an object without fields"]
    if not any(key in schema for key in ("type", "enum", "const")):
        return [f"{where}: untyped"]
    return []


def _json_answers(method: str, route: RouteContext) -> list[tuple[str, dict[str, Any]]]:
    """The 2xx JSON answers the OpenAPI document shows (none for a route it does not list)."""
    operation = APP.openapi()["paths"].get(route.path_format, {}).get(method.lower(), {})
    return [
        (status, content["application/json"]["schema"])
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
        for content in [response.get("content", {})]
        if "application/json" in content
    ]


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=IDS)
def test_openapi_shows_every_answers_fields(method: str, route: RouteContext) -> None:
    components = APP.openapi().get("components", {}).get("schemas", {})
    problems: list[str] = []
    for status, schema in _json_answers(method, route):
        top = _resolve(schema, components)
        if top.get("type") == "array":
            top = _resolve(top.get("items") or {}, components)
        if not top.get("properties"):
            problems.append(f"{status}: not an object with fields, nor an array of them")
        problems += _untyped(schema, components, status, set())
    assert problems == [], f"{method} {route.path_format}: {problems}"


def test_the_check_finds_answers_without_fields() -> None:
    components = {
        "Page": {"title": "Page", "type": "object", "properties": {"rows": {"type": "array"}}},
        "Event": {
            "title": "ListedEvent",
            "type": "object",
            "properties": {"detail": {"type": "object", "additionalProperties": True}},
        },
    }
    assert _untyped({}, components, "200", set()) == ["200: untyped"]
    free = {"type": "object", "additionalProperties": True}
    assert _untyped(free, components, "200", set()) == ["200: an object without fields"]
    page = {"$ref": "#/components/schemas/Page"}
    assert _untyped(page, components, "200", set()) == ["200.rows: an array of untyped items"]
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    assert _untyped(counts, components, "200", set()) == []
    assert _untyped({"$ref": "#/components/schemas/Event"}, components, "200", set()) == []
