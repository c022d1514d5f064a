"""POST /api/v1/programmes/{code}/imports: the same import service over HTTP, feed clients only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from registry.core.settings import Settings
from tests.factories import bearer, client_token, make_client, make_programme, make_user, user_token
from tests.imports.conftest import (
    BAD_ROWS,
    Export,
    csv_bytes,
    mapping_json,
    table_counts,
    xlsx_bytes,
)

URL = "/api/v1/programmes/SEL85/imports"


@pytest.fixture
def tokens(engine: Engine, client: TestClient, sel85: str) -> dict[str, str]:
    make_programme(engine, "SEL104", ["1.1"])
    make_user(engine, "admin", ["admin"])
    return {
        "SEL85": client_token(client, *make_client(engine, "SEL85")),
        "SEL104": client_token(client, *make_client(engine, "SEL104")),
        "admin": user_token(client, "admin"),
    }


def upload(
    client: TestClient,
    token: str | None,
    data: bytes,
    name: str = "udtraek.csv",
    url: str = URL,
    **form: Any,
) -> Any:
    return client.post(
        url,
        files={"file": (name, data, "application/octet-stream")},
        data={"mapping": mapping_json(), **form},
        headers=bearer(token) if token else {},
    )


def test_feed_client_uploads_its_export(
    engine: Engine, client: TestClient, tokens: dict[str, str], export: Export
) -> None:
    answer = upload(client, tokens["SEL85"], csv_bytes(export), batch_size="2")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    summary = body["summary"]
    assert (summary["rows_read"], summary["accepted"], summary["rejected"]) == (7, 4, 3)
    assert summary["batches"] == 4 and summary["rows_per_second"] > 0
    assert {(r["row"], r["field"], r["code"], r["column"]) for r in body["rejected_rows"]} == {
        (row, *reason) for row, reason in BAD_ROWS.items()
    }
    assert body["ignored_columns"] == ["Bemærkning"]
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT actor, detail FROM audit_event WHERE action = 'feed.import'")
        ).all()
        submitted = conn.execute(text("SELECT DISTINCT submitted_by FROM feed_batch")).scalars()
        assert list(submitted) == [events[0].actor]
    assert len(events) == 4 and events[0].actor.startswith("client:")
    assert {e.detail["file_name"] for e in events} == {"udtraek.csv"}

    before = table_counts(engine)
    again = upload(client, tokens["SEL85"], csv_bytes(export), batch_size="2")
    assert again.status_code == 200
    assert again.json()["summary"]["unchanged"] == 4
    assert again.json()["summary"]["replayed_batches"] == 4
    assert table_counts(engine) == before


def test_an_xlsx_upload_is_recognised_by_its_content(
    client: TestClient, tokens: dict[str, str], export: Export
) -> None:
    answer = client.post(
        URL,
        files={"file": ("export.csv", xlsx_bytes(export), "text/csv")},  # misnamed on purpose
        data={"mapping": mapping_json(sheet="Ark1")},
        headers=bearer(tokens["SEL85"]),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["format"] == "xlsx"
    assert answer.json()["summary"]["accepted"] == 4


@pytest.mark.parametrize("who", ["SEL104", "admin", None])
def test_others_may_not_import_into_a_programme(
    engine: Engine, client: TestClient, tokens: dict[str, str], export: Export, who: str | None
) -> None:
    answer = upload(client, tokens[who] if who else None, csv_bytes(export))
    assert answer.status_code == (401 if who is None else 403), answer.text
    assert answer.json()["error"] in ("Forbidden", "NotAuthenticated")
    assert table_counts(engine)["feed_batch"] == 0
    with engine.connect() as conn:
        refused = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'access.refused'")
        ).scalar_one()
    assert refused == 1


def test_a_bad_mapping_or_file_is_a_422_in_the_one_error_shape(
    engine: Engine, client: TestClient, tokens: dict[str, str], export: Export
) -> None:
    answer = client.post(
        URL,
        files={"file": ("x.csv", csv_bytes(export), "text/csv")},
        data={"mapping": '{"columns": {"Sagsnr": "source_id", "Køn": "gender"}}'},
        headers=bearer(tokens["SEL85"]),
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "ValidationError" and "gender" in body["detail"]
    damaged = upload(client, tokens["SEL85"], b"PK\x03\x04" + b"\x00" * 200, name="x.xlsx")
    assert damaged.status_code == 422 and "XLSX" in damaged.json()["detail"]
    nul = csv_bytes(export).replace(b"K-0002", b"K-\x000002")
    answer = upload(client, tokens["SEL85"], nul)
    assert answer.status_code == 200  # the row is refused, not the request, and nothing breaks
    assert any(
        r["row"] == 2 and r["code"] == "invalid_characters" for r in answer.json()["rejected_rows"]
    )
    assert table_counts(engine)["source_record"] == 3


def test_uploads_obey_the_request_size_limit(
    engine: Engine, settings: Settings, export: Export, sel85: str
) -> None:
    small = settings.model_copy(update={"max_request_bytes": 1500})
    with TestClient(create_app(engine, small)) as limited:
        token = client_token(limited, *make_client(engine, "SEL85"))
        data = csv_bytes(export)
        big = data + data.split(b"\r\n", 1)[1] * 3
        answer = upload(limited, token, big)
    assert answer.status_code == 413
    assert table_counts(engine)["feed_batch"] == 0
