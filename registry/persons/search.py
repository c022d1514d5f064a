"""Person search: exact by national ID (its keyed digest), or by name and birth date.

By national ID: the ID is validated with the deployment's scheme and digested with its key;
the digest is looked up in person_identifier. The raw ID goes no further than this module.

By name and birth date: the query is turned into the blocking keys ingest writes
(linkage.blocking), for the query as typed and for its variants (given and family name
swapped; day and month swapped; with no birth date, every birth year of the sorted-names key),
so a typo, a swap, a transliteration (Søren/Soeren: the keys are phonetic) or a missing field
still finds the person's records. The source records sharing most keys (in the caller's scope
and the filters, *before* anything is ranked or cut) are scored by the linkage engine against
the query (its record path, without frames: a search scores a handful of records); a person
ranks by their best record, with that record's per-field explanation, made only for the
persons shown.

Scope (registry.persons.scope) is part of the candidate query: a person outside the caller's
regions is never read, scored or counted, so no answer differs by their existence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from linkage import (
    FIELD_NORMALISERS,
    FSModel,
    blocking_keys,
    record_explanations,
    score_record_pairs,
)
from registry.access.principal import Principal
from registry.core.errors import InvalidInput
from registry.identity.national_id import SCHEMES, digest
from registry.persons.golden import PERSON_FIELDS
from registry.persons.schemas import FieldExplanation, PersonMatch, PersonSearchResult
from registry.persons.scope import in_scope_sql, scope_params
from registry.records.fields import EARLIEST_BIRTH

SEARCHERS = ("oversight", "steward")
#: Persons answered at most per search.
MAX_LIMIT = 50
#: Source records scored per search at most: those sharing the most blocking keys.
MAX_SCORED = 200
#: A person is listed when their best record's match weight (log2 odds, prior included)
#: reaches this: 0 means at least as likely the person as not.
MIN_SCORE = 0.0
#: Name fields are compared with the engine's string comparator; longer text is no name.
MAX_NAME = 200


@dataclass(frozen=True)
class NameQuery:
    """What a name search asks: names, birth date and, to sharpen the score, sex and place."""

    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    municipality: str | None = None

    def searched_fields(self) -> list[str]:
        """The names of the fields given (what the audit trail records: never the values)."""
        return [name for name, value in vars(self).items() if value is not None]


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing of a search: persons with a record in a region / a programme; the limit."""

    region: str | None = None
    programme: str | None = None
    limit: int = 10


def national_id_digest(national_id: str, scheme: str, key: bytes) -> bytes:
    """The keyed digest of a national ID valid under the scheme; a 422 otherwise.

    The error names the field and the rule, never the value.
    """
    check = SCHEMES[scheme](national_id.strip())
    if not check.ok:
        raise InvalidInput(
            f"national_id: {check.message}",
            errors=[{"field": "national_id", "message": check.message, "code": check.code}],
        )
    return digest(national_id, key)


def parse_birth_date(value: str) -> date:
    """A birth date YYYY-MM-DD; a month above 12 with a day up to 12 is read as swapped."""
    parts = value.strip().split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise InvalidInput("birth_date must be a date YYYY-MM-DD", errors=[_date_error()])
    year, month, day = (int(p) for p in parts)
    for m, d in ((month, day), (day, month)):
        try:
            born = date(year, m, d)
        except ValueError:
            continue
        if not EARLIEST_BIRTH <= born <= date.today():
            raise InvalidInput(
                "birth_date is not plausible",
                errors=[{"field": "birth_date", "message": "not a plausible birth date"}],
            )
        return born
    raise InvalidInput("birth_date must be a date YYYY-MM-DD", errors=[_date_error()])


def _date_error() -> dict[str, str]:
    return {"field": "birth_date", "message": "must be a date YYYY-MM-DD"}


def check_name_query(query: NameQuery) -> None:
    """A name search needs a name and either a birth date or the other name."""
    for name in ("given_name", "family_name", "municipality"):
        value = getattr(query, name)
        if value is not None and (not value.strip() or len(value) > MAX_NAME):
            raise InvalidInput(
                f"{name} must be a non-empty text of at most {MAX_NAME} characters",
                errors=[{"field": name, "message": f"1-{MAX_NAME} characters"}],
            )
    names = [n for n in (query.given_name, query.family_name) if n]
    if not names or (len(names) == 1 and query.birth_date is None):
        raise InvalidInput(
            "a name search needs given_name or family_name, and birth_date or both names",
            errors=[{"field": "family_name", "message": "a name and a birth date, or both names"}],
        )


def query_keys(query: NameQuery) -> list[str]:
    """The blocking keys of the query and of its variants (names swapped, day/month swapped).

    Without a birth date, the sorted-names key of every birth year (one index probe each).
    """
    base: dict[str, Any] = {
        "given_name": query.given_name,
        "family_name": query.family_name,
        "municipality": query.municipality,
    }
    dates: list[date | None] = [query.birth_date]
    born = query.birth_date
    if born is not None and born.day <= 12 and born.day != born.month:
        dates.append(born.replace(month=born.day, day=born.month))
    names = [(query.given_name, query.family_name), (query.family_name, query.given_name)]
    keys: set[str] = set()
    for given, family in names:
        for day in dates:
            record = {**base, "given_name": given, "family_name": family}
            record["birth_date"] = day.isoformat() if day else None
            keys.update(blocking_keys(record))
    if born is None and query.given_name and query.family_name:
        for year in range(EARLIEST_BIRTH.year, date.today().year + 1):
            record = {**base, "birth_date": f"{year:04d}-01-01"}
            keys.update(k for k in blocking_keys(record) if k.startswith("nk:"))
    return sorted(keys)


def _filters_sql(person: str, filters: SearchFilters) -> str:
    """SQL conditions (fixed text; values are bind parameters) for the region/programme filter."""
    parts = [in_scope_sql(person)]
    if filters.region is not None:
        parts.append(
            f"(SELECT true FROM source_record fr WHERE fr.person_id = {person} "
            "AND fr.region = :region AND NOT fr.retracted LIMIT 1) IS NOT NULL"
        )
    if filters.programme is not None:
        parts.append(
            f"(SELECT true FROM source_record fp JOIN programme fg ON fg.id = fp.programme_id "
            f"WHERE fp.person_id = {person} AND fg.code = :programme AND NOT fp.retracted "
            "LIMIT 1) IS NOT NULL"
        )
    return " AND ".join(parts)


def _params(principal: Principal, filters: SearchFilters) -> dict[str, Any]:
    return {**scope_params(principal), "region": filters.region, "programme": filters.programme}


_GOLDEN = """
SELECT p.id::text AS person_id, p.given_name, p.family_name, p.birth_date, p.sex, p.region,
       p.municipality,
       ARRAY(SELECT DISTINCT g.code FROM source_record r JOIN programme g ON g.id = r.programme_id
             WHERE r.person_id = p.id AND NOT r.retracted ORDER BY g.code) AS programmes
FROM person p WHERE p.id = ANY(CAST(:ids AS uuid[])) AND p.status = 'active'
"""


def _golden(session: Session, ids: Sequence[str]) -> dict[str, Any]:
    """The listed persons' golden records and programmes, by person id (one statement)."""
    if not ids:
        return {}
    rows = session.execute(text(_GOLDEN), {"ids": list(ids)}).mappings().all()
    return {r["person_id"]: r for r in rows}


def _match(
    row: Any,
    score: float | None = None,
    probability: float | None = None,
    explanation: list[FieldExplanation] | None = None,
) -> PersonMatch:
    return PersonMatch(
        person_id=row["person_id"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        birth_date=row["birth_date"],
        sex=row["sex"],
        region=row["region"],
        municipality=row["municipality"],
        programmes=list(row["programmes"]),
        score=score,
        probability=probability,
        explanation=explanation or [],
    )


def search_by_national_id(
    session: Session,
    principal: Principal,
    national_id: str,
    *,
    scheme: str,
    key: bytes,
    filters: SearchFilters,
) -> tuple[PersonSearchResult, str]:
    """The person holding the national ID, if in scope and filters; and the ID's digest (hex).

    The digest is what the caller may record; the ID itself is never returned or kept.
    """
    principal.require(*SEARCHERS)
    hashed = national_id_digest(national_id, scheme, key)
    found = session.execute(
        text(
            "SELECT i.person_id::text FROM person_identifier i "
            "JOIN person p ON p.id = i.person_id AND p.status = 'active' "
            f"WHERE i.scheme = :scheme AND i.digest = :digest AND "
            f"{_filters_sql('i.person_id', filters)}"
        ),
        {"scheme": scheme, "digest": hashed, **_params(principal, filters)},
    ).scalars()
    golden = _golden(session, list(found))
    persons = [_match(row) for row in golden.values()][: filters.limit]
    return PersonSearchResult("national_id", filters.limit, persons), hashed.hex()


_CANDIDATES = """
WITH wanted AS (
    SELECT w.key FROM unnest(CAST(:keys AS text[])) AS w(key)
    WHERE NOT EXISTS (SELECT 1 FROM blocking_key_oversized o
                      WHERE o.key = w.key AND o.size > :max_block)
), blocks AS (
    SELECT x.ids FROM wanted w
    CROSS JOIN LATERAL (
        SELECT array_agg(b.source_record_id) AS ids
        FROM (SELECT b.source_record_id FROM blocking_key b WHERE b.key = w.key
              LIMIT :max_block + 1) b
    ) x
    WHERE cardinality(x.ids) <= :max_block
), shared AS (
    SELECT s.record_id, count(*) AS keys
    FROM blocks u CROSS JOIN LATERAL unnest(u.ids) AS s(record_id)
    GROUP BY s.record_id
)
SELECT r.id AS record_id, r.person_id::text AS person_id, {fields}
FROM shared s
JOIN source_record r ON r.id = s.record_id AND NOT r.retracted
WHERE {filters}
ORDER BY s.keys DESC, r.id DESC
LIMIT :max_scored
"""


def _candidates(
    session: Session,
    principal: Principal,
    keys: list[str],
    filters: SearchFilters,
    max_block: int,
) -> list[Mapping[str, Any]]:
    """The in-scope, filtered source records sharing most keys with the query (one statement)."""
    sql = _CANDIDATES.format(
        fields=", ".join(f"r.{f}" for f in PERSON_FIELDS),
        filters=_filters_sql("r.person_id", filters),
    )
    params = {
        "keys": keys,
        "max_block": max_block,
        "max_scored": MAX_SCORED,
        **_params(principal, filters),
    }
    return [dict(row) for row in session.execute(text(sql), params).mappings()]


def _normalised(record: Mapping[str, Any]) -> dict[str, Any]:
    """The person fields as the engine compares them: birth date as ISO text, normalised."""
    out = {f: record.get(f) for f in PERSON_FIELDS}
    born = out.get("birth_date")
    out["birth_date"] = born.isoformat() if isinstance(born, date) else None
    for name, func in FIELD_NORMALISERS.items():
        if name in out:
            value = out[name]
            out[name] = None if value is None or value != value else (func(value) or None)
    return out


def search_by_name(
    session: Session,
    principal: Principal,
    query: NameQuery,
    *,
    model: FSModel,
    max_block: int,
    filters: SearchFilters,
) -> PersonSearchResult:
    """Persons whose records best match the names and birth date, scored and explained."""
    principal.require(*SEARCHERS)
    check_name_query(query)
    rows = _candidates(session, principal, query_keys(query), filters, max_block)
    if not rows:
        return PersonSearchResult("name", filters.limit, [])
    wanted = _normalised(vars(query))
    scored = score_record_pairs([(wanted, _normalised(r)) for r in rows], model)
    scores = scored.score.astype(float)
    best: dict[str, int] = {}
    for i, row in enumerate(rows):
        held = best.get(row["person_id"])
        if scores[i] >= MIN_SCORE and (held is None or scores[i] > scores[held]):
            best[row["person_id"]] = i
    ranked = sorted(best.items(), key=lambda item: (-scores[item[1]], item[0]))
    ranked = ranked[: filters.limit]
    golden = _golden(session, [person for person, _ in ranked])
    shown = [(person, i) for person, i in ranked if person in golden]
    explained = record_explanations(scored, [i for _, i in shown])
    persons = [
        _match(
            golden[person],
            round(float(scores[i]), 3),
            explanation["probability"],
            [
                FieldExplanation(name, part["level"], part["weight"])
                for name, part in explanation["fields"].items()
            ],
        )
        for (person, i), explanation in zip(shown, explained, strict=True)
    ]
    return PersonSearchResult("name", filters.limit, persons)
