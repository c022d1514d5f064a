"""Administration: programmes, users and feed clients (role admin)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import AuditDep, PrincipalDep, SessionDep
from registry.access.service import create_client, create_user
from registry.audit.service import record_event
from registry.programmes.models import Programme
from registry.programmes.service import create_programme, list_programmes

router = APIRouter(prefix="/api/v1", tags=["administration"])


class ProgrammeIn(BaseModel):
    code: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    agency: str | None = Field(default=None, max_length=200)
    benefit_codes: list[str] = Field(min_length=1, max_length=100)
    trust_rank: int = Field(default=0, ge=0, le=100)


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


class ClientIn(BaseModel):
    programme: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class ClientOut(BaseModel):
    client_id: str
    client_secret: str
    programme: str
    name: str


@router.post("/programmes", status_code=201, response_model=ProgrammeOut)
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
    )
    return _programme_out(programme)


@router.get("/programmes", response_model=list[ProgrammeOut])
def get_programmes(session: SessionDep, principal: PrincipalDep) -> list[ProgrammeOut]:
    """Programmes the caller may see: all, or a feed client's own."""
    programmes = list_programmes(session)
    if principal.is_client:
        programmes = [p for p in programmes if p.code in principal.programmes]
    return [_programme_out(p) for p in programmes]


@router.post("/users", status_code=201, response_model=UserOut)
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
    return UserOut(
        username=user.username, roles=user.roles, regions=user.regions, programmes=user.programmes
    )


@router.post("/clients", status_code=201, response_model=ClientOut)
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
