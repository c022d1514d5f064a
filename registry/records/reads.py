"""Reads of the record as held: a source record with its versions and enrolment episodes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core.errors import NotFound
from registry.programmes.models import Programme
from registry.records.models import Enrolment, SourceRecord, SourceRecordVersion
from registry.records.schemas import Episode, HeldRecord, Link, RecordVersion


def get_record(session: Session, programme: Programme, source_id: str) -> HeldRecord:
    """A source record as held: its current fields, link, versions and enrolment episodes."""
    record = session.scalars(
        select(SourceRecord).where(
            SourceRecord.programme_id == programme.id, SourceRecord.source_id == source_id
        )
    ).one_or_none()
    if record is None:
        raise NotFound(f"record {source_id!r} does not exist in {programme.code}")
    versions = session.scalars(
        select(SourceRecordVersion)
        .where(SourceRecordVersion.source_record_id == record.id)
        .order_by(SourceRecordVersion.version)
    ).all()
    episodes = session.scalars(
        select(Enrolment)
        .where(Enrolment.source_record_id == record.id)
        .order_by(Enrolment.recorded_at, Enrolment.id)
    ).all()
    return HeldRecord(
        programme=programme.code,
        source_id=record.source_id,
        person_id=str(record.person_id),
        link=Link(record.link_method, record.link_score),
        version=record.version,
        retracted=record.retracted,
        national_id=record.national_id_masked,
        given_name=record.given_name,
        family_name=record.family_name,
        birth_date=record.birth_date,
        sex=record.sex,
        region=record.region,
        municipality=record.municipality,
        mother_name=record.mother_name,
        updated_at=record.updated_at,
        versions=[
            RecordVersion(v.version, v.received_at, v.retracted, v.payload) for v in versions
        ],
        enrolments=[episode_view(e) for e in episodes],
    )


def episode_view(e: Enrolment) -> Episode:
    """One enrolment episode with its valid time and system time."""
    return Episode(
        benefit_code=e.benefit_code,
        target_group=e.target_group,
        status=e.status,
        start_date=e.start_date,
        end_date=e.end_date,
        amount=float(e.amount) if e.amount is not None else None,
        region=e.region,
        source_version=e.source_version,
        recorded_at=e.recorded_at,
        superseded_at=e.superseded_at,
    )
