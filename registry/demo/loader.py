"""The demo: L402 programmes, accounts, and a generated population pushed through ingest."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from registry.access.models import AppUser
from registry.access.service import IssuedClient, create_client, create_user
from registry.db import transaction
from registry.demo.population import (
    Noise,
    ProgrammeSpec,
    batches,
    demo_programmes,
    generate_feeds,
    generate_persons,
)
from registry.ingest.service import ingest_batch
from registry.programmes.service import create_programme, get_programme
from registry.settings import Settings

DEMO_USERS = {
    "demo-admin": (["admin"], []),
    "demo-oversight": (["oversight"], ["*"]),
    "demo-steward": (["steward"], ["*"]),
    "demo-analyst": (["analyst"], []),
    "demo-auditor": (["auditor"], []),
}


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
) -> None:
    """Create demo programmes, accounts and feeds once, and print the credentials."""
    if demo_loaded(engine):
        echo(f"demo already loaded; accounts in {settings.data_dir / 'demo-accounts.txt'}")
        return
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
    with tqdm(total=feeds.n_records, unit="rec", desc="demo feeds") as progress:
        for spec in programmes:
            for number, batch in enumerate(batches(feeds.records[spec.code], 1000), start=1):
                with transaction(engine) as session:
                    ingest_batch(
                        session,
                        programme=get_programme(session, spec.code),
                        batch_id=f"{spec.code}-demo-{number:04d}",
                        records=batch,
                        submitted_by="demo",
                        settings=settings,
                    )
                progress.update(len(batch))
    accounts = settings.data_dir / "demo-accounts.txt"
    accounts.parent.mkdir(parents=True, exist_ok=True)
    accounts.write_text("\n".join(lines) + "\n")
    accounts.chmod(0o600)
    echo("\n".join(lines))
    echo(f"(also written to {accounts})")
