"""Code lists as data: a list (name, kind, owner), its versions, and each version's entries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.base import Base

#: What a list holds; a status map maps a programme's own status words to the registry's.
KINDS = ("benefit", "target_group", "region", "municipality", "status_map")


class CodeList(Base):
    """A named list of one kind, owned by the registry (owner None) or one programme (its code)."""

    __tablename__ = "code_list"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('benefit', 'target_group', 'region', 'municipality', 'status_map')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CodeListVersion(Base):
    """One load of a list: loading it again makes the next version; old versions stay."""

    __tablename__ = "code_list_version"
    __table_args__ = (UniqueConstraint("code_list_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_list_id: Mapped[int] = mapped_column(ForeignKey("code_list.id"))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    loaded_by: Mapped[str] = mapped_column(String(200))
    entry_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CodeListEntry(Base):
    """A code of one version: description, attributes, and the dates it is valid (inclusive)."""

    __tablename__ = "code_list_entry"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("code_list_version.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
