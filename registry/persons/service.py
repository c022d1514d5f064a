"""Persons: the golden record and who receives what, within the caller's scope."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.errors import NotFound
from registry.ingest.models import Enrolment, SourceRecord
from registry.ingest.reads import episode_view
from registry.persons.models import Person
from registry.programmes.models import Programme

PERSON_READERS = ("oversight", "steward")


def _in_scope(principal: Principal, person_id: uuid.UUID) -> Any:
    """SQL condition: the person has a record in one of the principal's regions."""
    if principal.all_regions:
        return True
    return exists().where(
        SourceRecord.person_id == person_id,
        SourceRecord.region.in_(sorted(principal.regions)),
    )


def get_person(session: Session, principal: Principal, person_id: str) -> dict[str, Any]:
    """A person's golden record and every programme's enrolments, current and past."""
    principal.require(*PERSON_READERS)
    try:
        key = uuid.UUID(person_id)
    except ValueError as exc:
        raise NotFound("no such person") from exc
    person = session.scalars(
        select(Person).where(Person.id == key, _in_scope(principal, key))
    ).one_or_none()
    if person is None:
        raise NotFound("no such person")
    rows = session.execute(
        select(SourceRecord, Programme.code)
        .join(Programme, Programme.id == SourceRecord.programme_id)
        .where(SourceRecord.person_id == key)
        .order_by(Programme.code, SourceRecord.source_id)
    ).all()
    episodes = session.scalars(
        select(Enrolment)
        .where(Enrolment.source_record_id.in_([r.id for r, _ in rows]))
        .order_by(Enrolment.start_date, Enrolment.recorded_at)
    ).all()
    by_record: dict[int, list[Enrolment]] = {}
    for episode in episodes:
        by_record.setdefault(episode.source_record_id, []).append(episode)
    return {
        "person_id": str(person.id),
        "status": person.status,
        "merged_into": str(person.merged_into) if person.merged_into else None,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "region": person.region,
        "municipality": person.municipality,
        "mother_name": person.mother_name,
        "programmes": [
            {
                "programme": code,
                "source_id": record.source_id,
                "link": {"method": record.link_method, "score": record.link_score},
                "retracted": record.retracted,
                "enrolments": [episode_view(e) for e in by_record.get(record.id, [])],
            }
            for record, code in rows
        ],
    }
