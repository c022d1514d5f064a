"""The demo: L402 programmes, accounts, and a generated population pushed through ingest."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from registry.access.models import AppUser
from registry.access.service import IssuedClient, create_client, create_user
from registry.core.db import session_factory, transaction
from registry.core.errors import ConfigurationError
from registry.core.settings import Settings
from registry.demo.population import (
    Noise,
    ProgrammeSpec,
    batches,
    demo_programmes,
    generate_feeds,
    generate_persons,
)
from registry.persons.models import Person
from registry.programmes.service import create_programme, get_programme
from registry.submission.flow import Channel, submit_batch

#: The demo's generated feeds: sent as "demo", with no audit event (as before the flow).
DEMO_CHANNEL = Channel("demo", audit=None)

DEMO_USERS = {
    "demo-admin": (["admin"], []),
    "demo-oversight": (["oversight"], ["*"]),
    "demo-steward": (["steward"], ["*"]),
    "demo-analyst": (["analyst"], []),
    "demo-auditor": (["auditor"], []),
}


@dataclass
class DemoSummary:
    """What loading the demo did: accounts made, records sent and what ingest made of them."""

    programmes: int
    users: int
    clients: int
    persons_generated: int
    accounts_file: Path
    records: int = 0
    batches: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    persons: int = 0
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def summary_screen(summary: DemoSummary) -> str:
    """The one-screen summary printed once the demo is loaded."""
    o = summary.outcomes
    accepted = summary.records - o["rejected"]
    return "\n".join(
        [
            f"demo loaded: {summary.programmes} programmes, {summary.users} users, "
            f"{summary.clients} feed clients",
            f"  persons generated {summary.persons_generated:>10,}",
            f"  records sent      {summary.records:>10,}   in {summary.batches:,} batches",
            f"  accepted          {accepted:>10,}   created {o['created']:,}, "
            f"linked {o['linked']:,}, review {o['review']:,}",
            f"  rejected          {o['rejected']:>10,}   (invalid on purpose: 1 % of the feeds)",
            f"  persons now       {summary.persons:>10,}   in the registry",
            f"  time              {summary.seconds:>10.1f}s  "
            f"{summary.records_per_second:,.0f} records/s",
            f"  accounts          {summary.accounts_file} (readable by you only)",
        ]
    )


def register_programmes(session: Session, specs: list[ProgrammeSpec]) -> list[IssuedClient]:
    """Create each generated programme and one feed client for it."""
    for spec in specs:
        create_programme(
            session,
            code=spec.code,
            name=spec.name,
            agency=spec.agency,
            benefit_codes_allowed=list(spec.benefit_codes),
        )
    return [create_client(session, programme_code=s.code, name=f"{s.code} MIS") for s in specs]


def demo_loaded(engine: Engine) -> bool:
    """True once the demo accounts exist."""
    with transaction(engine) as session:
        found = session.scalars(select(AppUser.id).where(AppUser.username == "demo-admin"))
        return found.first() is not None


def load_demo(
    engine: Engine,
    settings: Settings,
    echo: Callable[[str], object],
    n_persons: int = 10_000,
    seed: int = 7,
) -> DemoSummary | None:
    """Create demo programmes, accounts and feeds once; print the credentials and a summary.

    None when the demo was already loaded. Refused in production (it prints passwords).
    """
    if settings.env == "prod":
        raise ConfigurationError("the demo is not loaded into a production registry")
    accounts = settings.data_dir / "demo-accounts.txt"
    if demo_loaded(engine):
        echo(f"demo already loaded; accounts in {accounts}")
        return None
    started = time.perf_counter()
    programmes = demo_programmes()
    lines = ["# demo accounts (dev only): username / password, client_id / client_secret"]
    with transaction(engine) as session:
        issued_clients = register_programmes(session, programmes)
        for username, (roles, regions) in DEMO_USERS.items():
            password = secrets.token_urlsafe(12)
            create_user(
                session,
                username=username,
                password=password,
                roles=roles,
                regions=regions,
                programmes=[],
            )
            lines.append(f"user    {username:<16} {password}   roles={','.join(roles)}")
        for issued in issued_clients:
            lines.append(f"client  {issued.client_id:<22} {issued.client_secret}")
    feeds = generate_feeds(
        generate_persons(n_persons, seed=seed),
        programmes,
        Noise.demo(),
        seed=seed,
        invalid_share=0.01,
    )
    summary = DemoSummary(
        len(programmes), len(DEMO_USERS), len(issued_clients), n_persons, accounts
    )
    with tqdm(total=feeds.n_records, unit="rec", desc="demo feeds", disable=None) as progress:
        for spec in programmes:
            for number, batch in enumerate(batches(feeds.records[spec.code], 1000), start=1):
                with session_factory(engine)() as session:
                    outcome = submit_batch(
                        session,
                        programme=get_programme(session, spec.code),
                        batch_id=f"{spec.code}-demo-{number:04d}",
                        records=batch,
                        channel=DEMO_CHANNEL,
                        settings=settings,
                    )
                summary.outcomes.update(r.status for r in outcome.answer.results)
                summary.records += len(batch)
                summary.batches += 1
                progress.update(len(batch))
    with transaction(engine) as session:
        summary.persons = (
            session.scalar(
                select(func.count()).select_from(Person).where(Person.merged_into.is_(None))
            )
            or 0
        )
    accounts.parent.mkdir(parents=True, exist_ok=True)
    accounts.write_text("\n".join(lines) + "\n")
    accounts.chmod(0o600)
    summary.seconds = time.perf_counter() - started
    echo("\n".join(lines))
    echo(f"(also written to {accounts})")
    echo(summary_screen(summary))
    return summary
