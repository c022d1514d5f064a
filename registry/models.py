"""Every mapped model, imported in one place for Alembic's metadata."""

from registry.access.models import ApiClient, AppUser, EndedSession, LoginThrottle, Role
from registry.audit.models import AuditAnchor, AuditEvent, AuditManifest
from registry.codelists.models import CodeList, CodeListEntry, CodeListVersion
from registry.core.base import Base
from registry.ingest.models import FeedBatch, FeedError
from registry.matching.models import BlockingKey, LinkageModel, LinkEvent, MatchCandidate
from registry.overview.models import (
    BatchActiveCount,
    OverviewCombination,
    OverviewDirty,
    OverviewSpell,
)
from registry.persons.models import Person, PersonIdentifier
from registry.programmes.models import Programme, ProgrammeExclusion, ProgrammeVersion
from registry.programmes.switch_models import SystemSwitch, SystemSwitchKey
from registry.records.models import Enrolment, SourceRecord, SourceRecordVersion
from registry.subject.models import PersonRectification

__all__ = [
    "ApiClient",
    "AppUser",
    "AuditAnchor",
    "AuditEvent",
    "AuditManifest",
    "Base",
    "BatchActiveCount",
    "BlockingKey",
    "CodeList",
    "CodeListEntry",
    "CodeListVersion",
    "EndedSession",
    "Enrolment",
    "FeedBatch",
    "FeedError",
    "LinkEvent",
    "LinkageModel",
    "LoginThrottle",
    "MatchCandidate",
    "OverviewCombination",
    "OverviewDirty",
    "OverviewSpell",
    "Person",
    "PersonIdentifier",
    "PersonRectification",
    "Programme",
    "ProgrammeExclusion",
    "ProgrammeVersion",
    "Role",
    "SourceRecord",
    "SourceRecordVersion",
    "SystemSwitch",
    "SystemSwitchKey",
]
