"""System switches: a programme moving to a new MIS re-keys its records (admin, own feed)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.authz import allow
from api.deps import AuditDep, PrincipalDep, SessionDep
from api.params import ProgrammeCodePath
from registry.access.principal import Principal
from registry.core.errors import Forbidden
from registry.programmes.models import Programme
from registry.programmes.service import get_programme
from registry.programmes.switch import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    SwitchAnswer,
    declare_switch,
    list_switches,
    pairs_from_csv,
    pairs_from_json,
)

router = APIRouter(prefix="/api/v1/programmes/{code}", tags=["switches"])


def may_switch(principal: PrincipalDep, code: ProgrammeCodePath) -> None:
    """403 for another programme's feed client, before the body is even validated."""
    if "admin" not in principal.roles and not principal.may_write_programme(code):
        raise Forbidden(f"this client may not switch programme {code!r}")


SWITCHERS = [allow("admin", "feed", scope="programme"), Depends(may_switch)]


class KeyIn(BaseModel):
    """One row of the map: the record's id in the old MIS and in the new one."""

    old_source_id: str = Field(max_length=1_000, examples=["SEL85-0000001"])
    new_source_id: str = Field(max_length=1_000, examples=["NEWMIS-77-0001"])


class SwitchIn(BaseModel):
    """A declared switch: its date and the re-keying map (all-or-nothing)."""

    switch_date: date = Field(description="The day the new MIS took over (YYYY-MM-DD).")
    keys: list[KeyIn] = Field(max_length=MAX_ROWS, description=f"At most {MAX_ROWS} rows.")


def _switchable(session: Session, principal: Principal, code: str) -> Programme:
    """An admin switches any programme; a feed client only its own."""
    may_switch(principal, code)
    return get_programme(session, code)


@router.post("/switches", status_code=201, response_model=SwitchAnswer, dependencies=SWITCHERS)
def post_switch(
    body: SwitchIn,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    code: ProgrammeCodePath,
) -> SwitchAnswer:
    """Declare a system switch: re-key the programme's records from old to new source ids.

    Every row is checked first (unknown old id, duplicate old or new id, new id already a
    record, an id mapped to itself); any problem refuses the whole map with 422 naming each
    row, field and rule. Records keep their versions, episodes and link under the new id.
    """
    programme = _switchable(session, principal, code)
    pairs = pairs_from_json([(k.old_source_id, k.new_source_id) for k in body.keys])
    return declare_switch(
        session,
        programme,
        switch_date=body.switch_date,
        pairs=pairs,
        declared_by=principal.subject,
        audit=audit,
    )


@router.post("/switches/file", status_code=201, response_model=SwitchAnswer, dependencies=SWITCHERS)
def post_switch_file(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    code: ProgrammeCodePath,
    file: Annotated[
        UploadFile,
        File(description="CSV, header old_source_id,new_source_id (comma, semicolon or tab)."),
    ],
    switch_date: Annotated[date, Form(description="The day the new MIS took over.")],
) -> SwitchAnswer:
    """Declare a system switch with the re-keying map as a CSV file (rows named by line)."""
    programme = _switchable(session, principal, code)
    data = file.file.read(MAX_FILE_BYTES + 1)
    return declare_switch(
        session,
        programme,
        switch_date=switch_date,
        pairs=pairs_from_csv(data),
        declared_by=principal.subject,
        audit=audit,
        channel="csv",
        file_bytes=data,
    )


@router.get("/switches", response_model=list[SwitchAnswer], dependencies=SWITCHERS)
def get_switches(
    session: SessionDep, principal: PrincipalDep, code: ProgrammeCodePath
) -> list[SwitchAnswer]:
    """The programme's declared switches, oldest first."""
    return list_switches(session, _switchable(session, principal, code))
