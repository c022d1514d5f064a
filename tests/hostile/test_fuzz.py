"""Schemathesis over every operation of /openapi.json: all checks, positive and negative data.

Each operation is called with a valid token of a role that may call it (a feed client for the
feed routes, a user holding every other role elsewhere), so the checks see the real answers
and `ignored_auth` can prove that the same request without or with a forged token is refused.
Zero 5xx and zero schema violations: any failure fails the test with schemathesis's report.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import GenerationMode
from schemathesis.config._checks import (
    POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES,
    PositiveDataAcceptanceConfig,
)
from schemathesis.core.failures import FailureGroup
from sqlalchemy import Engine, text

from api.app import create_app
from registry.core.db import make_engine
from registry.core.settings import Settings
from tests.conftest import KEEP_TABLES
from tests.factories import client_token, make_client, make_programme, make_user, user_token

#: Examples per operation and generation mode: small enough for CI, enough to find the classics.
MAX_EXAMPLES = 25
ALL_ROLES = ["admin", "oversight", "steward", "auditor", "analyst"]


@dataclass
class Fuzzed:
    app: FastAPI
    feed_token: str
    user_token: str


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        names = [
            t
            for t in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            if t not in KEEP_TABLES
        ]
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="module")
def fuzzed(database_url: str, superuser_url: str, settings: Settings) -> Iterator[Fuzzed]:
    """One registry for the whole module (its own engine: data persists across operations)."""
    engine = make_engine(database_url, pool_size=4)
    cleaner = make_engine(superuser_url, pool_size=1)  # emptying the trail takes a superuser
    _empty(cleaner)
    make_programme(engine, "SEL85", ["1.12.0.1", "1.12.0.2"])
    make_user(engine, "everyone", ALL_ROLES, ["*"])
    app = create_app(engine, settings)
    with TestClient(app) as client:
        yield Fuzzed(
            app=app,
            feed_token=client_token(client, *make_client(engine, "SEL85")),
            user_token=user_token(client, "everyone"),
        )
    _empty(cleaner)
    cleaner.dispose()
    engine.dispose()


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    fuzzed: Fuzzed,
    failures: dict[str, str],
    statuses: Counter[str],
) -> int:
    """Run MAX_EXAMPLES generated cases of one operation; collect failures; count calls."""
    calls = 0
    strategy = operation.as_strategy(generation_mode=mode)
    token = fuzzed.feed_token if "{code}" in operation.path else fuzzed.user_token

    @hypothesis.given(case=strategy)
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def run(case: schemathesis.Case) -> None:
        nonlocal calls
        if mode == GenerationMode.POSITIVE and "code" in (case.path_parameters or {}):
            case.path_parameters["code"] = "SEL85"  # the client's own programme: reach the work
        calls += 1
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = case.call(headers=headers)
            statuses[f"{response.status_code // 100}xx"] += 1
            case.validate_response(response, headers=headers, transport_kwargs={"headers": headers})
        except (Exception, FailureGroup) as exc:  # collect every operation's failures
            found = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
            for failure in found:
                title = getattr(failure, "title", type(failure).__name__)
                key = f"{operation.label} [{mode.value}] {title}"
                failures.setdefault(key, str(failure)[:1200] + f"\n{str(exc)[-600:]}")

    # nothing to make invalid (e.g. no parameters at all) means no negative cases
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()
    return calls


@pytest.mark.slow
def test_every_operation_survives_fuzzing(fuzzed: Fuzzed) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    schema.config.checks.update(included_check_names=["all"])
    # Domain rules JSON Schema cannot state (password policy, the L402 code lists, which grant
    # needs which fields, PostgreSQL's ±15:59 time-zone range) answer 422 in the one error
    # shape: the right answer to schema-valid but rule-breaking input, so not a finding.
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=[*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "422"]
    )
    failures: dict[str, str] = {}
    calls: dict[str, int] = {}
    statuses: Counter[str] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls[f"{operation.label} {mode.value}"] = _fuzz_operation(
                operation, mode, fuzzed, failures, statuses
            )
    print(
        f"\nschemathesis: {sum(calls.values())} requests over {len(calls)} operation-modes, "
        f"answers {dict(sorted(statuses.items()))}, 5xx seen: {statuses['5xx']}"
    )
    assert statuses["5xx"] == 0
    reached = {label.rsplit(" ", 1)[0] for label, n in calls.items() if n}
    assert len(reached) == len(calls) // 2, calls  # every operation was called
    report = "\n\n".join(f"{key}:\n{text}" for key, text in failures.items())
    assert not failures, f"{len(failures)} distinct failures:\n" + "\n".join(failures) + report
