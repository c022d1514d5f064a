"""Data-subject rights: subject access, rectification by a steward, pseudonymised export."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.access.principal import Principal
from registry.audit.models import AuditEvent
from registry.audit.naming import names_person
from registry.core.csvfile import csv_writer
from registry.core.errors import ConfigurationError, InvalidInput
from registry.core.settings import Settings
from registry.persons.models import Person
from registry.persons.schemas import GoldenRecord
from registry.persons.service import get_person
from registry.programmes.service import get_programme
from registry.records.fields import EARLIEST_BIRTH, SEXES
from registry.records.reads import get_record
from registry.subject.models import PersonRectification
from registry.subject.schemas import (
    AccessedBy,
    Rectification,
    Rectified,
    SubjectAccess,
    SubjectEnrolment,
)

SUBJECT_STEWARDS = ("steward",)
#: Golden-record fields a steward may correct (region is a scope, not a correction).
RECTIFIABLE = ("given_name", "family_name", "birth_date", "sex", "municipality", "mother_name")


def _rectifications(session: Session, person_id: str) -> list[Rectification]:
    rows = session.scalars(
        select(PersonRectification)
        .where(PersonRectification.person_id == uuid.UUID(person_id))
        .order_by(PersonRectification.id)
    )
    return [
        Rectification(
            id=r.id,
            field=r.field,
            old_value=r.old_value,
            new_value=r.new_value,
            reason=r.reason,
            actor=r.actor,
            rectified_at=r.rectified_at,
        )
        for r in rows
    ]


def subject_access(session: Session, principal: Principal, person_id: str) -> SubjectAccess:
    """One export of everything held on a person: data, sources, enrolments, who accessed it."""
    principal.require(*SUBJECT_STEWARDS)
    person = get_person(session, principal, person_id)  # scope-filtered: outside is a 404
    key = person.person_id
    sources = [
        get_record(session, get_programme(session, p.programme), p.source_id)
        for p in person.programmes
    ]
    enrolments = [
        SubjectEnrolment(programme=p.programme, source_id=p.source_id, **asdict(episode))
        for p in person.programmes
        for episode in p.enrolments
    ]
    accesses = session.scalars(select(AuditEvent).where(names_person(key)).order_by(AuditEvent.id))
    golden = GoldenRecord(**{k: v for k, v in asdict(person).items() if k != "programmes"})
    return SubjectAccess(
        generated_at=datetime.now(UTC),
        person=golden,
        source_records=sources,
        enrolments=enrolments,
        rectifications=_rectifications(session, key),
        accessed_by=[
            AccessedBy(
                occurred_at=e.occurred_at,
                actor=e.actor,
                roles=list(e.roles),
                action=e.action,
                outcome=e.outcome,
                purpose=e.purpose,
            )
            for e in accesses
        ],
    )


def _rectified_value(field: str, value: Any) -> Any:
    """Validate one corrected value (the same rules a feed record obeys, in short)."""
    if value is None:
        if field in ("birth_date", "given_name", "family_name"):
            raise InvalidInput(f"{field} cannot be removed, only corrected")
        return None
    if field == "birth_date":
        try:
            born = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError as exc:
            raise InvalidInput("birth_date must be a date YYYY-MM-DD") from exc
        if born > date.today() or born < EARLIEST_BIRTH:
            raise InvalidInput("birth_date is not plausible")
        return born
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidInput(f"{field} must be a non-empty text of at most 200 characters")
    if field == "sex":
        if value.upper() not in SEXES:
            raise InvalidInput(f"sex must be one of {', '.join(sorted(SEXES))}")
        return value.upper()
    return value.strip()


def rectify(
    session: Session,
    principal: Principal,
    person_id: str,
    changes: dict[str, Any],
    reason: str,
    request_id: str | None = None,
) -> Rectified:
    """Correct golden-record fields; every old value is kept in person_rectification."""
    principal.require(*SUBJECT_STEWARDS)
    unknown = sorted(set(changes) - set(RECTIFIABLE))
    if not changes or unknown:
        raise InvalidInput(f"fields must be a non-empty subset of {', '.join(RECTIFIABLE)}")
    if not reason.strip():
        raise InvalidInput("a reason is required")
    held = get_person(session, principal, person_id)  # scope-filtered: outside is a 404
    person = session.get(Person, uuid.UUID(held.person_id), with_for_update=True)
    assert person is not None
    changed: list[str] = []
    for field in RECTIFIABLE:
        if field not in changes:
            continue
        new = _rectified_value(field, changes[field])
        old = getattr(person, field)
        if old == new:
            continue
        session.add(
            PersonRectification(
                person_id=person.id,
                field=field,
                old_value=None if old is None else str(old),
                new_value=None if new is None else str(new),
                reason=reason.strip(),
                actor=principal.subject,
                request_id=request_id,
            )
        )
        setattr(person, field, new)
        changed.append(field)
    if not changed:
        raise InvalidInput("nothing to correct: every value is already as given")
    person.updated_at = datetime.now(UTC)
    session.flush()
    record_ids = [f"{p.programme}:{p.source_id}" for p in held.programmes]
    return Rectified(str(person.id), changed, record_ids)


def pseudonym_key(settings: Settings, data_dir: Path) -> bytes:
    """The export's HMAC key: from its setting or key file, never from inside the export."""
    if settings.pseudonym_key:
        key = settings.pseudonym_key.encode()
    elif settings.pseudonym_key_file:
        path = settings.pseudonym_key_file.resolve()
        if path.is_relative_to(data_dir.resolve()):
            raise ConfigurationError("the pseudonym key file must be kept apart from the export")
        key = path.read_bytes().strip()
    else:
        raise ConfigurationError(
            "set REGISTRY_PSEUDONYM_KEY or REGISTRY_PSEUDONYM_KEY_FILE (kept apart from the data)"
        )
    if len(key) < 32:
        raise ConfigurationError("the pseudonym key must have at least 32 characters")
    return key


def pseudonym(key: bytes, person_id: str) -> str:
    """A keyed, stable pseudonym of a person: HMAC-SHA256, not reversible without the key."""
    return hmac.new(key, person_id.encode(), hashlib.sha256).hexdigest()[:32]


_PERSONS_SQL = """
SELECT p.id::text AS person_id, extract(year FROM p.birth_date)::int AS birth_year, p.sex,
       p.region, p.municipality
FROM person p WHERE p.status = 'active' ORDER BY p.id
"""
_ENROLMENTS_SQL = """
SELECT COALESCE(p.merged_into, p.id)::text AS person_id, g.code AS programme, e.benefit_code,
       e.target_group, e.status, e.start_date, e.end_date, e.amount, e.region
FROM enrolment e
JOIN source_record r ON r.id = e.source_record_id
JOIN programme g ON g.id = r.programme_id
JOIN person p ON p.id = r.person_id
WHERE e.superseded_at IS NULL AND NOT r.retracted
ORDER BY 1, g.code, e.start_date
"""
PERSON_COLUMNS = ("pseudonym", "birth_year", "sex", "region", "municipality")
ENROLMENT_COLUMNS = (
    "pseudonym",
    "programme",
    "benefit_code",
    "target_group",
    "status",
    "start_date",
    "end_date",
    "amount",
    "region",
)


def export_pseudonymised(session: Session, out_dir: Path, key: bytes) -> dict[str, int]:
    """Write persons.csv and enrolments.csv keyed by pseudonym (birth year only); row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, sql, columns in (
        ("persons", _PERSONS_SQL, PERSON_COLUMNS),
        ("enrolments", _ENROLMENTS_SQL, ENROLMENT_COLUMNS),
    ):
        rows = session.execute(text(sql)).mappings()
        with (out_dir / f"{name}.csv").open("w", newline="") as handle:
            writer = csv_writer(handle, lineterminator="\n")
            writer.writerow(columns)
            count = 0
            for row in rows:
                values = [pseudonym(key, row["person_id"])]
                values += ["" if row[c] is None else str(row[c]) for c in columns[1:]]
                writer.writerow(values)
                count += 1
        counts[name] = count
    return counts
