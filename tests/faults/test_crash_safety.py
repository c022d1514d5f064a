"""Crash safety: SIGKILL the server and crash PostgreSQL mid-stream; nothing acknowledged is lost.

Four feed clients (one per programme) push batches concurrently to the real server (uvicorn,
loopback) on a private PostgreSQL. While they push, the server is SIGKILLed twice and
PostgreSQL is stopped with `pg_ctl stop -m immediate` once; both come back, and each client
re-sends, with the same batch_id, whatever was not acknowledged with a 200. Every person is
in two programmes under one national ID, so double application would show as extra persons.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from registry.core.db import make_engine
from registry.core.migrate import upgrade_to_head
from tests.factories import make_client, make_programme, record
from tests.faults.cluster import Cluster
from tests.faults.server import PROJECT, SECRETS, Server

PROGRAMMES = ("SEL85", "SEL86", "SEL87", "SEL88")
BATCHES_PER_CLIENT = 12
RECORDS_PER_BATCH = 40
DEADLINE_SECONDS = 100
#: Faults, by the number of batches acknowledged (of 48) when they are injected.
FAULT_PLAN = ((6, "sigkill server"), (18, "pg_ctl stop -m immediate"), (30, "sigkill server"))


def cpr(person: int) -> tuple[str, str]:
    """A valid-format CPR number and the birth date it encodes, unique per person."""
    born = date(1940, 1, 1) + timedelta(days=person * 7)
    return f"{born:%d%m%y}{(person % 4)}{person % 1000:03d}", born.isoformat()


def batches_of(index: int, programme: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Client `index`'s batches: persons shared with the next programme's client."""
    people = BATCHES_PER_CLIENT * RECORDS_PER_BATCH
    work = []
    for b in range(BATCHES_PER_CLIENT):
        records = []
        for r in range(RECORDS_PER_BATCH):
            n = b * RECORDS_PER_BATCH + r
            # client i sends persons [i*people/2, i*people/2 + people): each person in 2 clients
            person = (index * people // 2 + n) % (len(PROGRAMMES) * people // 2)
            national_id, born = cpr(person)
            records.append(
                record(
                    f"{programme}-{n:05d}",
                    national_id=national_id,
                    birth_date=born,
                    given_name=f"Given{person}",
                    family_name="Crashtest",
                )
            )
        work.append((f"{programme}-b{b:03d}", records))
    return work


@dataclass
class Tally:
    acknowledged: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    interrupted: int = 0
    unavailable: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def feed_client(
    server: Server, token: str, programme: str, work: list[Any], tally: Tally, stop: float
) -> None:
    """Push every batch until it is acknowledged with 200; re-send on any failure."""
    with httpx.Client(timeout=15) as http:
        for batch_id, records in work:
            while time.monotonic() < stop:
                try:
                    response = http.post(
                        f"{server.base}/api/v1/programmes/{programme}/batches",
                        json={"batch_id": batch_id, "records": records},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                except httpx.HTTPError:
                    with tally.lock:
                        tally.interrupted += 1
                    time.sleep(0.2)
                    continue
                if response.status_code == 200:
                    with tally.lock:
                        tally.acknowledged[(programme, batch_id)] = response.json()
                    break
                assert response.status_code == 503, response.text  # never a 500
                with tally.lock:
                    tally.unavailable += 1
                time.sleep(0.2)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.mark.slow
def test_acknowledged_batches_survive_crashes(cluster: Cluster, tmp_path: Path) -> None:
    url = cluster.create_database("registry_crash")
    upgrade_to_head(url)
    setup = make_engine(url, pool_size=1)
    credentials = {}
    for code in PROGRAMMES:
        make_programme(setup, code, ["1.12.0.2"])
        credentials[code] = make_client(setup, code)
    setup.dispose()

    server = Server(url, tmp_path / "server.log")
    server.start()
    tokens = {}
    for code, (client_id, secret) in credentials.items():
        answer = httpx.post(
            f"{server.base}/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
            timeout=30,
        )
        tokens[code] = answer.json()["access_token"]

    work = {code: batches_of(i, code) for i, code in enumerate(PROGRAMMES)}
    tally = Tally()
    stop = time.monotonic() + DEADLINE_SECONDS
    clients = [
        threading.Thread(
            target=feed_client, args=(server, tokens[code], code, work[code], tally, stop)
        )
        for code in PROGRAMMES
    ]
    for thread in clients:
        thread.start()
    injected: list[str] = []
    try:
        for at, fault in FAULT_PLAN:
            while tally.count() < at and time.monotonic() < stop:
                time.sleep(0.005)
            if fault == "sigkill server":
                server.kill()
                time.sleep(0.3)
                server.start()
            else:
                cluster.stop("immediate")
                time.sleep(1.0)
                cluster.start()
            injected.append(fault)
        for thread in clients:
            thread.join(timeout=max(1.0, stop - time.monotonic()))
    finally:
        server.kill()

    sent = {(code, b): records for code in PROGRAMMES for b, records in work[code]}
    assert len(tally.acknowledged) == len(sent), "clients did not finish within the deadline"
    check = create_engine(url)
    with check.connect() as conn:
        held = {
            (row.code, row.batch_id): row
            for row in conn.execute(
                text(
                    "SELECT p.code, b.id, b.batch_id, b.received, b.accepted, b.response, "
                    "(SELECT count(*) FROM source_record_version v WHERE v.feed_batch_id = b.id) "
                    "AS versions FROM feed_batch b JOIN programme p ON p.id = b.programme_id"
                )
            )
        }
        records_held = {
            (row.code, row.source_id)
            for row in conn.execute(
                text(
                    "SELECT p.code, s.source_id FROM source_record s "
                    "JOIN programme p ON p.id = s.programme_id"
                )
            )
        }
        persons = conn.execute(text("SELECT count(*) FROM person")).scalar_one()
        versions = conn.execute(text("SELECT count(*) FROM source_record_version")).scalar_one()
        current = conn.execute(
            text("SELECT count(*) FROM enrolment WHERE superseded_at IS NULL")
        ).scalar_one()
    check.dispose()

    acknowledged_records = {
        (code, r["source_id"]) for (code, b) in tally.acknowledged for r in sent[(code, b)]
    }
    lost = len(acknowledged_records - records_held)
    half_applied = [key for key, row in held.items() if row.versions != row.accepted]
    expected_persons = len(PROGRAMMES) * BATCHES_PER_CLIENT * RECORDS_PER_BATCH // 2
    duplicates = (
        (persons - expected_persons)
        + (versions - len(acknowledged_records))
        + (current - len(acknowledged_records))
    )
    verify = subprocess.run(
        [sys.executable, "-c", "from registry.cli.main import app; app()", "audit", "verify"],
        env={**server.env, **SECRETS, "REGISTRY_DATABASE_URL": url},
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(
        "\n| faults injected | batches acknowledged | records lost | duplicates "
        "| requests cut off | 503 answers | audit chain |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| {len(injected)} ({', '.join(injected)}) | {len(tally.acknowledged)}/{len(sent)} "
        f"| {lost} | {duplicates} | {tally.interrupted} | {tally.unavailable} "
        f"| {'verifies' if verify.returncode == 0 else 'BROKEN'} |"
    )
    assert injected == [fault for _, fault in FAULT_PLAN]
    assert set(held) == set(sent)  # every batch held once (and only batches that were sent)
    for key, answer in tally.acknowledged.items():
        assert held[key].response == answer, key  # the acknowledged answer is the stored one
        assert answer["received"] == answer["accepted"] == RECORDS_PER_BATCH, answer
    assert half_applied == []
    assert lost == 0
    assert persons == expected_persons
    assert duplicates == 0
    assert verify.returncode == 0, verify.stdout + verify.stderr
    log = (tmp_path / "server.log").read_text()  # crashes and 503s included: nothing personal
    leaked = [r["national_id"] for rs in sent.values() for r in rs if r["national_id"] in log]
    assert leaked == [] and "Given" not in log and "Crashtest" not in log
