"""How the schema distributes on Citus: one placement per table, and the rules it must obey.

The plan (explained in docs/scaling.md) distributes the registry by person: `person.id` and
every table whose rows belong to one person (`person_id`) form the co-location group
`person`, so a person's records, episodes and history live on one shard. Three other
groups hold tables whose natural key is not a person: the national-ID directory (by
`digest`), blocking keys (by `key`) and record versions (by `source_record_id`). Small,
read-mostly tables are reference tables (a copy on every node); the audit trail and the
accounts stay local to the coordinator.

`foreign_key_problem` and `unique_key_problem` state Citus's rules; the test
tests/plans/test_distribution_ready.py applies them to the live schema (pg_constraint,
pg_index), so a migration cannot add a key the plan could not keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Distributed:
    """A hash-distributed table: its distribution column and co-location group."""

    column: str
    group: str


Placement = Distributed | Literal["reference", "local"]

PERSON = "person"

PLAN: dict[str, Placement] = {
    # the person group: everything a lookup by person or an ingest of a known person touches
    "person": Distributed("id", PERSON),
    "source_record": Distributed("person_id", PERSON),
    "enrolment": Distributed("person_id", PERSON),
    "person_rectification": Distributed("person_id", PERSON),
    "link_event": Distributed("person_id", PERSON),
    "match_candidate": Distributed("candidate_person_id", PERSON),
    "overview_dirty": Distributed("person_id", PERSON),
    "overview_spell": Distributed("person_id", PERSON),
    "overview_combination": Distributed("person_id", PERSON),
    "overview_beside": Distributed("person_id", PERSON),
    "overview_money_person": Distributed("person_id", PERSON),
    "overview_flow_person": Distributed("person_id", PERSON),
    # directories and per-record history, keyed by what is looked up
    "person_identifier": Distributed("digest", "national_id"),
    "blocking_key": Distributed("key", "blocking"),
    "blocking_key_oversized": Distributed("key", "blocking"),
    "source_record_version": Distributed("source_record_id", "record_history"),
    "feed_error": Distributed("feed_batch_id", "feed_error"),
    # small, read everywhere, joined with distributed tables: a copy on every node
    "programme": "reference",
    "programme_exclusion": "reference",
    "programme_version": "reference",
    "code_list": "reference",
    "code_list_version": "reference",
    "code_list_entry": "reference",
    "linkage_model": "reference",
    "role": "reference",
    "feed_batch": "reference",
    # the coordinator's own: one serialised writer (the audit chain), or never joined
    "audit_event": "local",
    "audit_manifest": "local",
    "audit_anchor": "local",
    "dashboard_session_end": "local",
    "batch_active_count": "local",
    "overview_money_cell": "local",
    "overview_flow_cell": "local",
    "system_switch": "local",
    "system_switch_key": "local",
    "app_user": "local",
    "api_client": "local",
    "login_throttle": "local",
    "alembic_version": "local",
}

#: Foreign keys the single-node schema still has although the plan cannot keep them: the
#: distribution migration drops each (Citus refuses it) and the named writer keeps it true.
#: The test fails on any other key that breaks the rules, and on an entry here that no longer
#: exists or has become legal, so this list only shrinks.
DROPPED_AT_DISTRIBUTION: dict[str, str] = {
    "fk_person_merged_into_person": (
        "cross-person: a retired person points at its survivor on another shard; "
        "move_records sets merged_into to the person it just moved the records to"
    ),
    "fk_person_identifier_person_id_person": (
        "the national-ID directory is distributed by digest (a claim is a single-shard unique "
        "insert); ingest claims the digest and creates the person in one transaction"
    ),
    "fk_enrolment_source_record_id_source_record": (
        "the key lacks person_id, and a superseded episode keeps the person it was recorded "
        "for after its record moves (as-recorded history): ingest writes episodes only for the "
        "records it has just upserted"
    ),
    "fk_match_candidate_source_record_id_source_record": (
        "a review item lives with its candidate person; the record it is about belongs to "
        "another person (ingest queues items for records of the same batch)"
    ),
    "fk_match_candidate_candidate_record_id_source_record": (
        "cross-person, as above: the candidate's record is on the candidate's shard only "
        "after the decision"
    ),
}

#: Unique keys of distributed tables that cannot include the distribution column, and what
#: replaces them. Primary keys on a sequence id (plus a partition key) are not listed: they
#: become (distribution column, id) mechanically and stay unique through the sequence.
UNIQUE_REPLACED_AT_DISTRIBUTION: dict[str, str] = {
    "uq_source_record_programme_id": (
        "(programme, source_id) identifies a record before its person is known: a directory "
        "table source_record_key(programme_id, source_id, person_id, record_id) distributed by "
        "source_id keeps it unique and routes MATCH_EXISTING"
    ),
    "ix_enrolment_current_source": (
        "one current episode per record: becomes unique (person_id, source_record_id) where "
        "current; the current episode always carries its record's person"
    ),
}


def placement(table: str) -> Placement:
    """The table's placement; KeyError names a table the plan has not placed yet."""
    return PLAN[table]


def foreign_key_problem(
    table: str, columns: list[str], referenced: str, referenced_columns: list[str]
) -> str | None:
    """Why Citus could not keep this foreign key under PLAN, or None if it can.

    Citus keeps a foreign key between two local tables, from any table to a reference table
    (local ones since Citus 10), and between two distributed tables of one co-location group
    when the key maps the distribution column onto the distribution column.
    """
    source, target = placement(table), placement(referenced)
    if target == "reference":
        return None
    if source == "local" and target == "local":
        return None
    if isinstance(source, Distributed) and isinstance(target, Distributed):
        if source.group != target.group:
            return f"{table} ({source.group}) and {referenced} ({target.group}) are not co-located"
        pairs = dict(zip(columns, referenced_columns, strict=True))
        if pairs.get(source.column) != target.column:
            return (
                f"the key does not map {table}.{source.column} onto "
                f"{referenced}.{target.column}: its rows may live on another shard"
            )
        return None
    return f"Citus keeps no foreign key from a {_kind(source)} to a {_kind(target)} table"


def unique_key_problem(
    table: str, columns: list[str], primary: bool, partition_key: str | None = None
) -> str | None:
    """Why Citus could not enforce this unique key under PLAN, or None if it can."""
    where = placement(table)
    if not isinstance(where, Distributed) or where.column in columns:
        return None
    if primary and set(columns) <= {"id", partition_key}:
        return None  # a sequence id: the key becomes (distribution column, id)
    return f"unique key on {table} {columns} lacks the distribution column {where.column}"


def _kind(where: Placement) -> str:
    return "distributed" if isinstance(where, Distributed) else where
