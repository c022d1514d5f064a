"""Code lists: load a list (a new version each time), list them, read one version of one."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from registry.codelists.entries import check_entries, check_header
from registry.codelists.models import CodeList, CodeListEntry, CodeListVersion
from registry.codelists.schemas import CodeEntry, CodeListSummary, CodeListView
from registry.core.errors import Conflict, NotFound

#: Longest note of where a version came from (a file name, "api").
MAX_SOURCE = 200


def load_list(
    session: Session,
    *,
    name: str,
    kind: str,
    owner: str | None,
    entries: Any,
    statuses: frozenset[str],
    source: str,
    loaded_by: str,
) -> CodeListSummary:
    """Load a list: a new list, or the next version of an existing one (same kind and owner).

    `statuses` is the registry's status vocabulary, which a status map's words map to.
    """
    header = check_header(name, kind, owner)
    checked = check_entries(entries, header.kind, statuses)
    code_list = session.scalars(
        select(CodeList).where(CodeList.name == header.name).with_for_update()
    ).one_or_none()
    if code_list is None:
        code_list = CodeList(name=header.name, kind=header.kind, owner=header.owner)
        session.add(code_list)
        session.flush()
    elif (code_list.kind, code_list.owner) != (header.kind, header.owner):
        message = (
            f"list {header.name!r} is a {code_list.kind} list owned by "
            f"{code_list.owner or 'the registry'}; a new version keeps its kind and owner"
        )
        raise Conflict(
            message, errors=[{"field": "name", "rule": "list_kind_owner", "message": message}]
        )
    latest = session.scalar(
        select(func.max(CodeListVersion.version)).where(
            CodeListVersion.code_list_id == code_list.id
        )
    )
    version = CodeListVersion(
        code_list_id=code_list.id,
        version=(latest or 0) + 1,
        source=source[:MAX_SOURCE],
        loaded_by=loaded_by,
        entry_count=len(checked),
    )
    session.add(version)
    session.flush()
    session.execute(
        text(
            "INSERT INTO code_list_entry (version_id, code, description, attributes, valid_from, "
            "valid_to) VALUES (:v, :c, :d, CAST(:a AS jsonb), :f, :t)"
        ),
        [
            {
                "v": version.id,
                "c": e.code,
                "d": e.description,
                "a": json.dumps(e.attributes, ensure_ascii=False),
                "f": e.valid_from,
                "t": e.valid_to,
            }
            for e in checked
        ],
    )
    session.refresh(version)
    return _summary(code_list, version)


def _summary(code_list: CodeList, version: CodeListVersion) -> CodeListSummary:
    return CodeListSummary(
        name=code_list.name,
        kind=code_list.kind,
        owner=code_list.owner,
        version=version.version,
        entries=version.entry_count,
        source=version.source,
        loaded_by=version.loaded_by,
        loaded_at=version.loaded_at,
    )


def list_lists(session: Session, owners: set[str] | None = None) -> list[CodeListSummary]:
    """Every list with its current version, by name; `owners`: the registry's and these only."""
    latest = (
        select(CodeListVersion.code_list_id, func.max(CodeListVersion.version).label("v"))
        .group_by(CodeListVersion.code_list_id)
        .subquery()
    )
    rows = session.execute(
        select(CodeList, CodeListVersion)
        .join(latest, latest.c.code_list_id == CodeList.id)
        .join(
            CodeListVersion,
            (CodeListVersion.code_list_id == CodeList.id) & (CodeListVersion.version == latest.c.v),
        )
        .order_by(CodeList.name)
    ).all()
    return [
        _summary(code_list, version)
        for code_list, version in rows
        if owners is None or code_list.owner is None or code_list.owner in owners
    ]


def read_list(
    session: Session,
    name: str,
    *,
    version: int | None = None,
    as_of: date | None = None,
    owners: set[str] | None = None,
) -> CodeListView:
    """One version of a list (the current one unless given), its entries valid on `as_of`."""
    code_list = session.scalars(select(CodeList).where(CodeList.name == name)).one_or_none()
    if code_list is None or (
        owners is not None and code_list.owner is not None and code_list.owner not in owners
    ):
        raise NotFound(f"code list {name!r} does not exist")
    latest = session.scalar(
        select(func.max(CodeListVersion.version)).where(
            CodeListVersion.code_list_id == code_list.id
        )
    )
    wanted = version or latest
    held = session.scalars(
        select(CodeListVersion).where(
            CodeListVersion.code_list_id == code_list.id, CodeListVersion.version == wanted
        )
    ).one_or_none()
    if held is None or latest is None:
        raise NotFound(f"code list {name!r} has no version {wanted}")
    query = select(CodeListEntry).where(CodeListEntry.version_id == held.id)
    if as_of is not None:
        query = query.where(
            (CodeListEntry.valid_from.is_(None) | (CodeListEntry.valid_from <= as_of))
            & (CodeListEntry.valid_to.is_(None) | (CodeListEntry.valid_to >= as_of))
        )
    entries = session.scalars(
        query.order_by(CodeListEntry.code, CodeListEntry.valid_from.nulls_first())
    ).all()
    return CodeListView(
        name=code_list.name,
        kind=code_list.kind,
        owner=code_list.owner,
        version=held.version,
        latest_version=latest,
        source=held.source,
        loaded_by=held.loaded_by,
        loaded_at=held.loaded_at,
        as_of=as_of,
        entries=[
            CodeEntry(e.code, e.description, dict(e.attributes), e.valid_from, e.valid_to)
            for e in entries
        ],
    )
