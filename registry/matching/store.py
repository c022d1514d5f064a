"""Stored linkage models: the active one for ingest, and new versions from training."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkage import FSModel, default_model
from registry.matching.models import LinkageModel

#: Parsed models by (id, created_at): stored models never change, so parse each once.
_PARSED: dict[tuple[int, datetime], FSModel] = {}


def active_model(session: Session) -> tuple[int | None, FSModel]:
    """The active model and its id; the built-in default (id None) before the first training."""
    row = session.execute(
        select(LinkageModel.id, LinkageModel.created_at).where(LinkageModel.active)
    ).first()
    if row is None:
        return None, _default()
    return row.id, _load(session, row.id, row.created_at)


def model_by_id(session: Session, model_id: int) -> FSModel:
    """A stored model by id."""
    created_at = session.execute(
        select(LinkageModel.created_at).where(LinkageModel.id == model_id)
    ).scalar_one()
    return _load(session, model_id, created_at)


def save_model(
    session: Session, model: FSModel, *, pairs_used: int, created_by: str, activate: bool = True
) -> int:
    """Store a model as a new version, optionally making it the active one."""
    if activate:
        session.execute(update(LinkageModel).where(LinkageModel.active).values(active=False))
        session.flush()
    row = LinkageModel(
        params=model.to_dict(), pairs_used=pairs_used, created_by=created_by, active=activate
    )
    session.add(row)
    session.flush()
    return row.id


def _load(session: Session, model_id: int, created_at: datetime) -> FSModel:
    key = (model_id, created_at)
    if key not in _PARSED:
        params: dict[str, Any] = session.execute(
            select(LinkageModel.params).where(LinkageModel.id == model_id)
        ).scalar_one()
        _PARSED[key] = FSModel.from_dict(params)
    return _PARSED[key]


@lru_cache(maxsize=1)
def _default() -> FSModel:
    return default_model()
