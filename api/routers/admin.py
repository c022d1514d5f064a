"""Administration: programmes, users and feed clients (role admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from api.authz import ANY_PERSON_ROLE, ANY_ROLE, allow
from api.deps import AuditDep, PrincipalDep, SessionDep, SettingsDep
from api.params import ProgrammeCodePath
from registry.access.service import (
    UserAccount,
    change_password,
    create_client,
    create_user,
    disable_user,
    enable_user,
    rotate_client_secret,
)
from registry.audit.service import record_event
from registry.programmes.models import Programme
from registry.programmes.schemas import ProgrammeChange, ProgrammeState
from registry.programmes.service import (
    create_programme,
    list_programmes,
    programme_history,
    update_programme,
)

router = APIRouter(prefix="/api/v1", tags=["administration"])


class ProgrammeIn(BaseModel):
    code: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    agency: str | None = Field(default=None, max_length=200)
    benefit_codes: list[str] = Field(min_length=1, max_length=100)
    trust_rank: int = Field(default=0, ge=0, le=100)


class ProgrammePatch(BaseModel):
    """The fields to change; those left out stay as they are (agency "" or null clears it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    agency: str | None = Field(default=None, max_length=200)
    benefit_codes: list[Annotated[str, Field(max_length=32)]] | None = Field(
        default=None, min_length=1, max_length=100
    )
    trust_rank: int | None = Field(default=None, ge=0, le=100)


class ProgrammeOut(BaseModel):
    code: str
    name: str
    agency: str | None
    benefit_codes: list[str]
    trust_rank: int


def _programme_out(programme: Programme) -> ProgrammeOut:
    return ProgrammeOut(
        code=programme.code,
        name=programme.name,
        agency=programme.agency,
        benefit_codes=list(programme.benefit_codes),
        trust_rank=programme.trust_rank,
    )


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=100)
    password: str = Field(min_length=1, max_length=1024)
    roles: list[str] = Field(min_length=1, max_length=6)
    regions: list[str] = Field(default_factory=list, max_length=200)
    programmes: list[str] = Field(default_factory=list, max_length=200)


class UserOut(BaseModel):
    username: str
    roles: list[str]
    regions: list[str]
    programmes: list[str]


class PasswordChangeIn(BaseModel):
    """A user's own password change; any other field (``roles``, ``regions`` …) is refused."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ClientIn(BaseModel):
    programme: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class ClientOut(BaseModel):
    client_id: str
    client_secret: str
    programme: str
    name: str


UsernamePath = Path(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
ClientIdPath = Path(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


def _user_out(user: UserAccount) -> UserOut:
    return UserOut(
        username=user.username, roles=user.roles, regions=user.regions, programmes=user.programmes
    )


@router.post(
    "/programmes", status_code=201, response_model=ProgrammeOut, dependencies=[allow("admin")]
)
def post_programme(
    body: ProgrammeIn, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> ProgrammeOut:
    """Register a programme and the benefit codes it grants."""
    principal.require("admin")
    record_event(session, audit, "programme.create", detail={"programme": body.code})
    programme = create_programme(
        session,
        code=body.code,
        name=body.name,
        agency=body.agency,
        benefit_codes_allowed=body.benefit_codes,
        trust_rank=body.trust_rank,
        created_by=principal.subject,
    )
    return _programme_out(programme)


@router.patch("/programmes/{code}", response_model=ProgrammeOut, dependencies=[allow("admin")])
def patch_programme(
    code: ProgrammeCodePath,
    body: ProgrammePatch,
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> ProgrammeOut:
    """Change a programme's name, agency, benefit codes or trust rank (kept in its history)."""
    principal.require("admin")
    sent = body.model_fields_set
    change = ProgrammeChange(
        name=body.name,
        agency=(body.agency or "") if "agency" in sent else None,
        benefit_codes=body.benefit_codes,
        trust_rank=body.trust_rank,
    )
    programme = update_programme(session, code, change, changed_by=principal.subject)
    record_event(
        session,
        audit,
        "programme.update",
        detail={"programme": code, "fields": sorted(sent)},
    )
    return _programme_out(programme)


@router.get(
    "/programmes/{code}/history",
    response_model=list[ProgrammeState],
    dependencies=[allow("admin", "auditor")],
)
def get_programme_history(code: ProgrammeCodePath, session: SessionDep) -> list[ProgrammeState]:
    """The programme as it was after each change, oldest first (version 1: as created)."""
    return programme_history(session, code)


@router.get("/programmes", response_model=list[ProgrammeOut], dependencies=[allow(*ANY_ROLE)])
def get_programmes(session: SessionDep, principal: PrincipalDep) -> list[ProgrammeOut]:
    """Programmes the caller may see: all, or a feed client's own."""
    programmes = list_programmes(session)
    if principal.is_client:
        programmes = [p for p in programmes if p.code in principal.programmes]
    return [_programme_out(p) for p in programmes]


@router.post("/users", status_code=201, response_model=UserOut, dependencies=[allow("admin")])
def post_user(
    body: UserIn, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> UserOut:
    """Create a user with roles and region/programme scopes."""
    principal.require("admin")
    record_event(
        session, audit, "user.create", detail={"username": body.username, "roles": body.roles}
    )
    user = create_user(
        session,
        username=body.username,
        password=body.password,
        roles=body.roles,
        regions=body.regions,
        programmes=body.programmes,
    )
    return _user_out(user)


@router.patch(
    "/users/me",
    status_code=204,
    response_class=Response,
    response_model=None,
    dependencies=[allow(*ANY_PERSON_ROLE)],
)
def patch_own_password(
    body: PasswordChangeIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    audit: AuditDep,
) -> None:
    """Change your own password (the only self-service change); your tokens are revoked."""
    change_password(session, principal.subject, body.current_password, body.new_password, settings)
    record_event(session, audit, "user.password_change")


@router.post("/users/{username}/disable", response_model=UserOut, dependencies=[allow("admin")])
def post_disable_user(
    session: SessionDep,
    principal: PrincipalDep,
    audit: AuditDep,
    username: str = UsernamePath,
) -> UserOut:
    """Disable a user: sign-in refused and every token it holds revoked at once."""
    user = disable_user(session, username, by=principal.subject)
    record_event(session, audit, "user.disable", detail={"username": username, "id": user.id})
    return _user_out(user)


@router.post("/users/{username}/enable", response_model=UserOut, dependencies=[allow("admin")])
def post_enable_user(session: SessionDep, audit: AuditDep, username: str = UsernamePath) -> UserOut:
    """Enable a disabled user again (its old tokens stay revoked)."""
    user = enable_user(session, username)
    record_event(session, audit, "user.enable", detail={"username": username, "id": user.id})
    return _user_out(user)


@router.post("/clients", status_code=201, response_model=ClientOut, dependencies=[allow("admin")])
def post_client(
    body: ClientIn, session: SessionDep, principal: PrincipalDep, audit: AuditDep
) -> ClientOut:
    """Create a feed client bound to one programme; the secret is shown only here."""
    principal.require("admin")
    record_event(session, audit, "client.create", detail={"programme": body.programme})
    issued = create_client(session, programme_code=body.programme, name=body.name)
    return ClientOut(
        client_id=issued.client_id,
        client_secret=issued.client_secret,
        programme=issued.programme,
        name=issued.name,
    )


@router.post("/clients/{client_id}/secret", response_model=ClientOut, dependencies=[allow("admin")])
def post_client_secret(
    session: SessionDep, audit: AuditDep, client_id: str = ClientIdPath
) -> ClientOut:
    """Rotate a feed client's secret: the new one is shown once; old secret and tokens die."""
    issued = rotate_client_secret(session, client_id)
    record_event(
        session,
        audit,
        "client.rotate_secret",
        detail={"client_id": client_id, "programme": issued.programme},
    )
    return ClientOut(
        client_id=issued.client_id,
        client_secret=issued.client_secret,
        programme=issued.programme,
        name=issued.name,
    )
