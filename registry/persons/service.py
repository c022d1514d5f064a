"""Persons: the golden record and who receives what, within the caller's scope."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.persons.models import Person
from registry.persons.schemas import PersonView, ProgrammeRecord
from registry.persons.scope import visible_person
from registry.programmes.models import Programme
from registry.records.models import Enrolment, SourceRecord
from registry.records.reads import episode_view
from registry.records.schemas import Link

PERSON_READERS = ("oversight", "steward")


def get_person(session: Session, principal: Principal, person_id: str) -> PersonView:
    """A person's golden record and every programme's enrolments, current and past."""
    principal.require(*PERSON_READERS)
    key = visible_person(session, principal, person_id)
    person = session.get_one(Person, key)
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
    return PersonView(
        person_id=str(person.id),
        status=person.status,
        merged_into=str(person.merged_into) if person.merged_into else None,
        given_name=person.given_name,
        family_name=person.family_name,
        birth_date=person.birth_date,
        sex=person.sex,
        region=person.region,
        municipality=person.municipality,
        mother_name=person.mother_name,
        programmes=[
            ProgrammeRecord(
                programme=code,
                source_id=record.source_id,
                link=Link(record.link_method, record.link_score),
                retracted=record.retracted,
                enrolments=[episode_view(e) for e in by_record.get(record.id, [])],
            )
            for record, code in rows
        ],
    )
