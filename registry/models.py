"""Every mapped model, imported in one place for Alembic's metadata."""

from registry.access.models import ApiClient, AppUser, Role
from registry.audit.models import AuditEvent
from registry.base import Base
from registry.ingest.models import (
    Enrolment,
    FeedBatch,
    FeedError,
    SourceRecord,
    SourceRecordVersion,
)
from registry.matching.models import BlockingKey, LinkageModel, LinkEvent, MatchCandidate
from registry.persons.models import Person, PersonIdentifier
from registry.programmes.models import Programme

__all__ = [
    "ApiClient",
    "AppUser",
    "AuditEvent",
    "Base",
    "BlockingKey",
    "Enrolment",
    "FeedBatch",
    "FeedError",
    "LinkEvent",
    "LinkageModel",
    "MatchCandidate",
    "Person",
    "PersonIdentifier",
    "Programme",
    "Role",
    "SourceRecord",
    "SourceRecordVersion",
]
