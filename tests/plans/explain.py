"""Capture the plan of every statement a service runs, at the moment it runs, and judge it.

A `before_cursor_execute` hook runs `EXPLAIN (FORMAT JSON)` of each statement with its own
parameters on the same connection just before the statement itself, so statements over the
ingest path's temporary stage tables are planned against the stage as it is at that step.
The checked text is always the code's current text: nothing is copied into the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Engine, event, text

#: The tables that grow with the registry (persons, records, history): a sequential scan of
#: one of them on a hot path is a failure. Partitions count as their parent table.
LARGE_TABLES = frozenset(
    {
        "person",
        "person_identifier",
        "source_record",
        "source_record_version",
        "enrolment",
        "blocking_key",
        "match_candidate",
        "audit_event",
        "link_event",
        "feed_error",
        "overview_spell",
        "overview_combination",
    }
)

_EXPLAINABLE = re.compile(r"^\s*(\(?\s*SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)


@dataclass
class Planned:
    """One executed statement, the name it goes by, and its plan."""

    name: str
    sql: str
    plan: dict[str, Any]

    def seq_scans(self, partitions: dict[str, str], empty: frozenset[str]) -> list[str]:
        """The large tables this plan reads with a sequential scan (partitions as parents).

        An empty partition (a month still to come, or the default) has nothing to read: the
        planner rightly scans it rather than its index, and that is not counted.
        """
        found: list[str] = []
        for node in _nodes(self.plan["Plan"]):
            relation = node.get("Relation Name")
            if node["Node Type"] != "Seq Scan" or not relation or relation in empty:
                continue
            table = partitions.get(relation, relation)
            if table in LARGE_TABLES:
                found.append(table)
        return found

    def outline(self) -> str:
        """The plan tree, one node a line (type, relation, index, estimated rows)."""
        lines: list[str] = []

        def walk(node: dict[str, Any], depth: int) -> None:
            parts = [node["Node Type"]]
            if "Relation Name" in node:
                parts.append(f"on {node['Relation Name']}")
            if "Index Name" in node:
                parts.append(f"using {node['Index Name']}")
            parts.append(f"(rows={node.get('Plan Rows')})")
            lines.append("  " * depth + " ".join(parts))
            for child in node.get("Plans", []):
                walk(child, depth + 1)

        walk(self.plan["Plan"], 0)
        return "\n".join(lines)


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


@dataclass
class Capture:
    """The statements captured while a `capturing` block ran."""

    names: dict[str, str]
    planned: list[Planned] = field(default_factory=list)


_BIND = re.compile(r"(?<![:\w]):(\w+)")


def _normal(sql: str) -> str:
    return " ".join(sql.split())


def _as_executed(sql: str) -> str:
    """A text() constant as psycopg2 receives it: `:name` binds become `%(name)s`."""
    return _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))


def constant_names(*modules: ModuleType) -> dict[str, str]:
    """Module-level SQL strings by normalised text -> 'module.NAME', to name what was run."""
    names: dict[str, str] = {}
    for module in modules:
        short = module.__name__.removeprefix("registry.")
        for attr, value in vars(module).items():
            if not attr.lstrip("_").isupper():
                continue
            if isinstance(value, str):
                names.setdefault(_normal(_as_executed(value)), f"{short}.{attr}")
    return names


def _name_of(sql: str, names: dict[str, str], label: str, number: int) -> str:
    normal = _normal(sql)
    if normal in names:
        return names[normal]
    for known, name in names.items():
        # statements split out of a multi-statement script, or formatted from a template
        if len(normal) > 40 and normal in known:
            return f"{name} (part)"
    return f"{label} #{number}"


@contextmanager
def capturing(engine: Engine, label: str, names: dict[str, str]) -> Iterator[Capture]:
    """Plan every explainable statement `engine` runs inside the block, before it runs."""
    capture = Capture(names)

    def before(
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if executemany or not _EXPLAINABLE.match(statement):
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as explain:
            explain.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = explain.fetchone()[0][0]
        number = len(capture.planned) + 1
        capture.planned.append(Planned(_name_of(statement, names, label, number), statement, plan))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield capture
    finally:
        event.remove(engine, "before_cursor_execute", before)


def partition_parents(engine: Engine) -> tuple[dict[str, str], frozenset[str]]:
    """Partition name -> parent table name, and the partitions that hold no page at all."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, p.relname, c.relpages = 0 FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
                "WHERE c.relkind = 'r'"
            )
        ).all()
    return {child: parent for child, parent, _ in rows}, frozenset(c for c, _, e in rows if e)
