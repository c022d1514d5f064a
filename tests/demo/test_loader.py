"""The demo loader: programmes, accounts and feeds, through the real ingest service, once."""

from __future__ import annotations

from sqlalchemy import Engine, text

from registry.core.settings import Settings
from registry.demo.loader import load_demo


def test_demo_loads_once_with_accounts_and_persons(engine: Engine, settings: Settings) -> None:
    said: list[str] = []
    load_demo(engine, settings, echo=said.append, n_persons=300, seed=3)
    with engine.connect() as conn:
        persons = conn.execute(text("SELECT count(*) FROM person")).scalar_one()
        programmes = conn.execute(text("SELECT count(*) FROM programme")).scalar_one()
        clients = conn.execute(text("SELECT count(*) FROM api_client")).scalar_one()
        rejected = conn.execute(text("SELECT sum(rejected) FROM feed_batch")).scalar_one()
        records = conn.execute(text("SELECT count(*) FROM source_record")).scalar_one()
    assert programmes == clients == 4
    # every generated person is enrolled somewhere; records without a national ID still make
    # persons of their own until probabilistic linkage (issue 3) resolves them
    assert 300 <= persons < records
    assert rejected is not None and rejected >= 0
    accounts = (settings.data_dir / "demo-accounts.txt").read_text()
    assert "demo-admin" in accounts and "client" in accounts

    load_demo(engine, settings, echo=said.append, n_persons=300, seed=3)
    assert said[-1].startswith("demo already loaded")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM programme")).scalar_one() == 4
