"""POST …/imports?dry_run=true: a test import previews every batch and keeps nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.test_dry_run import snapshot
from tests.imports.conftest import Export, csv_bytes
from tests.imports.test_upload import tokens, upload

__all__ = ["tokens"]  # the fixture, used by name


def test_a_dry_run_import_answers_as_the_real_import_and_keeps_only_audit_events(
    engine: Engine, client: TestClient, tokens: dict[str, str], export: Export
) -> None:
    before = snapshot(engine)
    url = "/api/v1/programmes/SEL85/imports?dry_run=true"
    preview = upload(client, tokens["SEL85"], csv_bytes(export), url=url, batch_size="7")
    assert preview.status_code == 200, preview.text
    assert snapshot(engine) == before
    with engine.connect() as conn:
        sql = "SELECT action FROM audit_event WHERE action LIKE 'feed.%'"
        actions = conn.execute(text(sql)).scalars().all()
    assert actions == ["feed.dry_run"]

    real = upload(client, tokens["SEL85"], csv_bytes(export), batch_size="7")
    assert real.status_code == 200
    shown, kept = preview.json(), real.json()
    assert shown["summary"]["dry_run"] is True and kept["summary"]["dry_run"] is False
    counted = ("rows_read", "accepted", "rejected", "unchanged", "created", "linked", "review")
    assert {k: shown["summary"][k] for k in counted} == {k: kept["summary"][k] for k in counted}
    assert kept["summary"]["replayed_batches"] == 0  # the dry run consumed no batch id
    assert shown["rejected_rows"] == kept["rejected_rows"]
    assert snapshot(engine) != before
