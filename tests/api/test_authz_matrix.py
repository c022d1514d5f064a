"""The authorisation matrix, generated from the app's route table.

Every route × every role × (own scope, foreign scope) plus an anonymous caller, with the
answer derived from the rule the route declared through ``allow()`` / ``public()``:

* anonymous                         → 401 (public routes: anything but 401/403)
* a role the rule does not name     → 403
* a named role, own scope           → passes authorisation (not 401, 403, 404, nor a 5xx)
* a named role, foreign scope       → 404 for ``scope="region"`` on a ``{person_id}`` route
                                      (outside = not existing); on other region-scoped routes
                                      (lists, searches) an answer without the own-scope person;
                                      403 for a feed client on a ``scope="programme"`` route
                                      (another programme's feed; people are not bound),
                                      as own scope for ``scope="none"``

A route that declares no rule fails. So does a route with a path parameter this file cannot
fill: add a builder to ``PATH_VALUES`` (an id that exists and is in the *own* scope of the
world below: region ``1084``, programme ``MXA``) and, if the route needs a request body to
get past validation, to ``BODIES`` (optional: a 422 counts as "passed authorisation").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from api.app import create_app
from api.authz import DeclaredRoute, Rule, route_table
from registry.access.models import ROLES, ApiClient, AppUser
from registry.access.passwords import hash_secret
from registry.access.tokens import issue_token
from registry.core.db import transaction
from registry.core.settings import Settings
from registry.ingest.service import ingest_batch
from registry.programmes.service import create_programme
from tests.factories import PASSWORD, bearer, record

OWN_REGION, FOREIGN_REGION = "1084", "1081"
OWN_PROGRAMME, FOREIGN_PROGRAMME = "MXA", "MXB"
SCOPES = ("own", "foreign")


@dataclass
class World:
    """Known ids in the own scope, and a principal per (role, scope)."""

    person_id: str = ""
    source_id: str = "MX-1"
    batch_id: str = "matrix-batch"
    target_user: str = "matrix-target"
    target_client: str = "mxa-target"
    review_id: int = 0
    subjects: dict[tuple[str, str], str] = field(default_factory=dict)


#: How to fill each path parameter, by name. Route authors: add yours here.
PATH_VALUES: dict[str, Callable[[World], str]] = {
    "code": lambda w: OWN_PROGRAMME,
    "batch_id": lambda w: w.batch_id,
    "source_id": lambda w: w.source_id,
    "person_id": lambda w: w.person_id,
    "username": lambda w: w.target_user,
    "client_id": lambda w: w.target_client,
    "other": lambda w: FOREIGN_PROGRAMME,  # /programmes/{code}/exclusive-with/{other}
    "review_id": lambda w: str(w.review_id),
    "rest": lambda w: "no-such-page",  # /dashboard/{rest:path}: the 404/405 page
    "name": lambda w: "l402_benefits",  # /codelists/{name}: a shipped list
}

#: Request bodies that let an authorised caller through validation, by (method, path).
BODIES: dict[tuple[str, str], Callable[[World], Any]] = {
    ("POST", "/api/v1/programmes"): lambda w: {
        "code": "MXC",
        "name": "Matrix C",
        "benefit_codes": ["1.12.0.2"],
    },
    ("PATCH", "/api/v1/programmes/{code}"): lambda w: {"trust_rank": 5},
    ("POST", "/api/v1/codelists"): lambda w: {
        "name": "matrix_list",
        "kind": "benefit",
        "owner": OWN_PROGRAMME,
        "entries": [{"code": "X.MATRIX", "description": "matrix"}],
    },
    ("POST", "/api/v1/users"): lambda w: {
        "username": "matrix-new",
        "password": PASSWORD,
        "roles": ["analyst"],
    },
    ("POST", "/api/v1/clients"): lambda w: {"programme": OWN_PROGRAMME, "name": "second MIS"},
    ("POST", "/api/v1/programmes/{code}/batches"): lambda w: {
        "batch_id": "matrix-batch-2",
        "records": [record("MX-2", national_id=None)],
    },
    ("POST", "/api/v1/programmes/{code}/switches"): lambda w: {
        "switch_date": "2026-03-01",
        "keys": [{"old_source_id": w.source_id, "new_source_id": w.source_id + "-new"}],
    },
    ("PATCH", "/api/v1/users/me"): lambda w: {
        "current_password": PASSWORD,
        "new_password": PASSWORD + " again",
    },
    ("POST", "/api/v1/persons/{person_id}/merge"): lambda w: {
        "other": w.person_id,
        "reason": "matrix",
    },
    ("POST", "/api/v1/persons/{person_id}/split"): lambda w: {
        "source_records": [{"programme": OWN_PROGRAMME, "source_id": w.source_id}],
        "reason": "matrix",
    },
    ("POST", "/api/v1/review/{review_id}/decision"): lambda w: {"decision": "match"},
    ("POST", "/api/v1/persons/{person_id}/rectify"): lambda w: {
        "fields": {"mother_name": "Karen M. Paulsen"},
        "reason": "birth certificate seen",
    },
}

REFUSED = {401, 403, 404}
#: Dashboard forms (sent form-encoded) a route needs to get past validation.
FORMS: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("POST", "/dashboard/persons/{person_id}/rectify"): lambda w: {
        "reason": "matrix",
        "purpose": "case",
        "given_name": "Matrix",
    },
    ("POST", "/dashboard/persons/{person_id}/merge"): lambda w: {
        "other": w.person_id,
        "reason": "matrix",
        "purpose": "case",
    },
    ("POST", "/dashboard/persons/{person_id}/split"): lambda w: {
        "reason": "matrix",
        "purpose": "case",
    },
}

#: Path parameters naming one region-scoped object: out of scope answers 404, as if absent.
SCOPED_OBJECTS = ("{person_id}", "{review_id}")


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_secret(PASSWORD)


def _add_user(session: Any, username: str, role: str, scope: str) -> str:
    own = scope == "own"
    user = AppUser(
        username=username,
        password_hash=_password_hash(),
        roles=[role],
        regions=[OWN_REGION if own else FOREIGN_REGION],
        programmes=[OWN_PROGRAMME if own else FOREIGN_PROGRAMME],
    )
    session.add(user)
    session.flush()
    return f"user:{user.id}"


def _add_client(session: Any, client_id: str, programme_id: int) -> str:
    session.add(
        ApiClient(
            client_id=client_id,
            secret_hash=_password_hash(),
            name=client_id,
            programme_id=programme_id,
        )
    )
    return f"client:{client_id}"


def build_world(engine: Engine, settings: Settings) -> World:
    """Two programmes and regions, one principal per (role, scope), a person in the own scope."""
    world = World()
    with transaction(engine) as session:
        programmes = {
            code: create_programme(
                session,
                code=code,
                name=f"Matrix {code}",
                agency=None,
                benefit_codes_allowed=["1.12.0.1", "1.12.0.2"],
            )
            for code in (OWN_PROGRAMME, FOREIGN_PROGRAMME)
        }
        for role in ROLES:
            for scope in SCOPES:
                if role == "feed":
                    code = OWN_PROGRAMME if scope == "own" else FOREIGN_PROGRAMME
                    subject = _add_client(session, f"{code.lower()}-{scope}", programmes[code].id)
                else:
                    subject = _add_user(session, f"{role}-{scope}", role, scope)
                world.subjects[(role, scope)] = subject
        _add_user(session, world.target_user, "analyst", "own")
        _add_client(session, world.target_client, programmes[OWN_PROGRAMME].id)
        outcome = ingest_batch(
            session,
            programme=programmes[OWN_PROGRAMME],
            batch_id=world.batch_id,
            records=[record(world.source_id, region=OWN_REGION)],
            submitted_by="client:mxa-own",
            settings=settings,
        )
        world.person_id = outcome.answer.results[0].person_id
        world.review_id = session.execute(
            text(
                "INSERT INTO match_candidate (source_record_id, candidate_person_id, reason, "
                "score, weights) SELECT id, person_id, 'uncertain', 11, '{}'::jsonb "
                "FROM source_record WHERE source_id = :s RETURNING id"
            ),
            {"s": world.source_id},
        ).scalar_one()
    return world


def token_for(engine: Engine, settings: Settings, subject: str) -> str:
    """A fresh token at the subject's current token version (routes may revoke older ones)."""
    kind, _, key = subject.partition(":")
    with transaction(engine) as session:
        if kind == "user":
            version = session.get(AppUser, int(key)).token_version  # type: ignore[union-attr]
        else:
            version = session.scalars(
                select(ApiClient.token_version).where(ApiClient.client_id == key)
            ).one()
    return issue_token(subject, settings, version)[0]


ROUTES = route_table(create_app(engine=None, settings=Settings(env="test")))  # type: ignore[arg-type]


def expected(rule: Rule, role: str | None, scope: str, path: str = "/{person_id}") -> str:
    """What a caller must get: 'refused:<status>', 'allowed' or 'filtered'.

    'filtered': a region-scoped route that addresses no single person (a list, a search)
    answers a foreign caller, but must not show the own-scope person.
    """
    if rule.public:
        return "allowed"
    if role is None:
        return "refused:401"
    if role not in rule.roles:
        return "refused:403"
    if scope == "foreign" and rule.scope == "region":
        addressed = any(p in path for p in SCOPED_OBJECTS)
        return "refused:404" if addressed else "filtered"
    if scope == "foreign" and rule.scope == "programme" and role == "feed":
        return "refused:403"  # programme scope binds feed clients; people see every programme
    return "allowed"


def fill_path(path: str, world: World) -> str:
    """The route's path with every parameter filled from PATH_VALUES, or a clear failure."""
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    missing = [n for n in names if n not in PATH_VALUES]
    if missing:
        pytest.fail(
            f"route {path} has path parameter(s) {missing} that the authorisation "
            f"matrix cannot fill: add a builder to PATH_VALUES in {__name__.replace('.', '/')}"
            ".py returning an id that exists in the own scope (region 1084, programme MXA)"
        )
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: PATH_VALUES[m.group(1)](world), path)


def test_every_route_declares_exactly_one_rule() -> None:
    undeclared = [f"{r.method} {r.path}" for r in ROUTES if r.rule is None]
    assert not undeclared, (
        "routes without an access rule (add dependencies=[allow(...)] or [public()]): "
        + ", ".join(undeclared)
    )
    for entry in ROUTES:
        rules = [
            d
            for d in entry.route.dependant.dependencies
            if isinstance(getattr(d.call, "rule", None), Rule)
        ]
        assert len(rules) == 1, f"{entry.path} declares {len(rules)} rules"


def test_the_matrix_sees_the_routes_that_matter() -> None:
    paths = {(r.method, r.path) for r in ROUTES}
    for must in (
        ("GET", "/api/v1/persons/{person_id}"),
        ("POST", "/api/v1/programmes/{code}/batches"),
        ("GET", "/api/v1/audit/events"),
        ("GET", "/api/v1/persons/{person_id}/subject-access"),
        ("POST", "/api/v1/auth/token"),
    ):
        assert must in paths


@pytest.mark.parametrize("entry", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_route_answers_every_role_as_its_rule_says(
    entry: DeclaredRoute, engine: Engine, settings: Settings
) -> None:
    method, rule = entry.method, entry.rule
    assert rule is not None, (
        f"{method} {entry.path} declares no access rule: add dependencies=[allow(...)] "
        "or dependencies=[public()] (api/authz.py)"
    )
    world = build_world(engine, settings)
    path = fill_path(entry.path, world)
    body_of = BODIES.get((method, entry.path))
    body = body_of(world) if body_of else ({} if method in ("POST", "PUT", "PATCH") else None)
    form_of = FORMS.get((method, entry.path))
    form = form_of(world) if form_of else None
    callers: list[tuple[str | None, str]] = [(None, "own")] + [
        (role, scope) for role in ROLES for scope in SCOPES
    ]
    wrong: list[str] = []
    # from loopback, as an operator's scraper would call (/metrics is public to local networks)
    with TestClient(create_app(engine, settings), client=("127.0.0.1", 50000)) as client:
        for role, scope in callers:
            headers = {"X-Purpose": "authorisation matrix"}
            if role is not None:
                token = token_for(engine, settings, world.subjects[(role, scope)])
                headers.update(bearer(token))
            if form is not None:
                response = client.request(method, path, data=form, headers=headers)
            else:
                response = client.request(method, path, json=body, headers=headers)
            status = response.status_code
            want = expected(rule, role, scope, entry.path)
            if want in ("allowed", "filtered"):
                refused = {401, 403} if rule.public else REFUSED
                ok = status not in refused and status < 500
                if want == "filtered" and world.person_id in response.text:
                    want, ok = "no own-scope person in the answer", False
            else:
                ok = status == int(want.split(":")[1])
            if not ok:
                wrong.append(f"{role or 'anonymous'}/{scope}: want {want}, got {status}")
    assert not wrong, f"{method} {entry.path} ({rule}): " + "; ".join(wrong)
