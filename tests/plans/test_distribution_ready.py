"""The live schema against the Citus plan (registry/core/distribution.py, docs/scaling.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from registry.core.distribution import (
    DROPPED_AT_DISTRIBUTION,
    PLAN,
    UNIQUE_REPLACED_AT_DISTRIBUTION,
    Distributed,
    foreign_key_problem,
    unique_key_problem,
)

_FOREIGN_KEYS = """
SELECT c.conname AS name, t.relname AS table_name, r.relname AS referenced,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(att, n)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att
             ORDER BY k.n) AS columns,
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(att, n)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att
             ORDER BY k.n) AS referenced_columns
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_class r ON r.oid = c.confrelid
WHERE c.contype = 'f' AND c.conparentid = 0 AND t.relnamespace = 'public'::regnamespace
ORDER BY c.conname
"""

_UNIQUE_KEYS = """
SELECT i.relname AS name, t.relname AS table_name, x.indisprimary AS is_primary,
       ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(att, n)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.att
             ORDER BY k.n) AS columns,
       (SELECT a.attname FROM pg_partitioned_table p
        JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
        WHERE p.partrelid = t.oid) AS partition_key
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace
ORDER BY i.relname
"""


def _rows(engine: Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql)).mappings()]


def test_every_table_has_a_place_in_the_plan(engine: Engine) -> None:
    with engine.connect() as conn:
        tables = set(
            conn.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                    "AND relkind IN ('r', 'p') AND NOT relispartition"
                )
            ).scalars()
        )
    assert tables - set(PLAN) == set(), "place the new tables in registry/distribution.PLAN"
    assert set(PLAN) - tables == set(), "tables in the plan that the schema no longer has"
    for table, where in PLAN.items():
        if isinstance(where, Distributed):
            with engine.connect() as conn:
                column = conn.execute(
                    text(
                        "SELECT a.attnotnull FROM pg_attribute a "
                        "WHERE a.attrelid = to_regclass(:t) AND a.attname = :c"
                    ),
                    {"t": table, "c": where.column},
                ).scalar()
            assert column is True, f"{table}.{where.column} must exist and be NOT NULL"


def test_foreign_keys_are_co_locatable_or_named_for_dropping(engine: Engine) -> None:
    keys = _rows(engine, _FOREIGN_KEYS)
    assert len(keys) >= 15, "the schema's foreign keys were not read"
    problems = {
        k["name"]: foreign_key_problem(
            k["table_name"], list(k["columns"]), k["referenced"], list(k["referenced_columns"])
        )
        for k in keys
    }
    unplanned = {
        name: problem
        for name, problem in problems.items()
        if problem and name not in DROPPED_AT_DISTRIBUTION
    }
    assert unplanned == {}, "foreign keys Citus could not keep under the plan"
    stale = {
        name for name in DROPPED_AT_DISTRIBUTION if name not in problems or problems[name] is None
    }
    assert stale == set(), "drop these from DROPPED_AT_DISTRIBUTION: gone or now co-locatable"
    # the person group's own spine is kept as a real, co-located key
    assert problems["fk_source_record_person_id_person"] is None
    assert problems["fk_person_rectification_person_id_person"] is None


def test_unique_keys_include_the_distribution_column_or_are_replaced(engine: Engine) -> None:
    keys = _rows(engine, _UNIQUE_KEYS)
    problems = {
        k["name"]: unique_key_problem(
            k["table_name"], list(k["columns"]), k["is_primary"], k["partition_key"]
        )
        for k in keys
    }
    unplanned = {
        name: p for name, p in problems.items() if p and name not in UNIQUE_REPLACED_AT_DISTRIBUTION
    }
    assert unplanned == {}, "unique keys Citus could not enforce under the plan"
    stale = {n for n in UNIQUE_REPLACED_AT_DISTRIBUTION if problems.get(n) is None}
    assert stale == set(), "drop these from UNIQUE_REPLACED_AT_DISTRIBUTION"


def test_the_rules_refuse_what_citus_refuses() -> None:
    # co-located on the distribution column: kept
    assert foreign_key_problem("source_record", ["person_id"], "person", ["id"]) is None
    # to a reference table, from anywhere: kept
    assert foreign_key_problem("enrolment", ["programme_id"], "programme", ["id"]) is None
    assert foreign_key_problem("api_client", ["programme_id"], "programme", ["id"]) is None
    # same group, but not on the distribution column: refused
    assert "does not map" in str(foreign_key_problem("person", ["merged_into"], "person", ["id"]))
    assert "does not map" in str(
        foreign_key_problem("enrolment", ["source_record_id"], "source_record", ["id"])
    )
    # another group: refused
    assert "not co-located" in str(
        foreign_key_problem("person_identifier", ["person_id"], "person", ["id"])
    )
    # local to distributed, reference to distributed: refused
    assert "local" in str(foreign_key_problem("audit_event", ["x"], "person", ["id"]))
    assert "reference" in str(foreign_key_problem("feed_batch", ["x"], "person", ["id"]))
    # unique keys: a sequence id is fine, a natural key without the column is not
    assert unique_key_problem("enrolment", ["id"], primary=True) is None
    assert unique_key_problem("source_record", ["programme_id", "source_id"], False) is not None
    assert unique_key_problem("person_identifier", ["scheme", "digest"], True) is None


DOC = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"


def _placement_text(where: object) -> str:
    if isinstance(where, Distributed):
        return f"distributed by `{where.column}` ({where.group})"
    return str(where)


def test_the_document_states_the_plan_and_every_foreign_key(engine: Engine) -> None:
    doc = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", doc, flags=re.MULTILINE)
    placements = {table: text for table, text in rows if not table.startswith("fk_")}
    assert placements == {t: _placement_text(w) for t, w in PLAN.items()}
    keys = [k["name"] for k in _rows(engine, _FOREIGN_KEYS)]
    missing = [name for name in keys if f"`{name}`" not in doc]
    assert missing == [], "docs/scaling.md must say what happens to these foreign keys"
    assert f"All {len(keys)} foreign keys" in doc
