"""A registry of realistic shape and size for plan checks, built set-based in PostgreSQL.

Names, birth dates and places come from the demo generator (Zipf-distributed names, so
blocks have a realistic skew) as a few thousand *profiles*, each with its blocking keys from
`linkage.blocking`; persons reuse them, so a batch of new records finds real candidates. All
bulk rows are made by `generate_series` statements, never row by row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text

from linkage.blocking import blocking_keys
from registry.core.db import transaction
from registry.demo.population import PersonTruth, demo_programmes, generate_persons
from registry.overview.summary import refresh_summary
from registry.programmes.service import create_programme

#: How many months of audit events and record versions the population spans.
HISTORY_MONTHS = 24


@dataclass(frozen=True)
class Population:
    """What the scenarios need to know about the built registry."""

    persons: int
    profiles: list[PersonTruth]
    programme_codes: list[str]
    benefit_codes: dict[str, tuple[str, ...]]

    def person_id(self, i: int) -> str:
        """The id of person number i (1-based), as the population made it."""
        return str(_person_uuid(i))

    def profile_of(self, i: int) -> PersonTruth:
        return self.profiles[i % len(self.profiles)]

    @staticmethod
    def national_id(i: int) -> str | None:
        """Persons whose number is not a multiple of 5 hold a national ID."""
        return None if i % 5 == 0 else f"N{i:08d}"

    def programme_of(self, i: int) -> str:
        """Every person's first record is in programme (i % 4); every third has a second."""
        return self.programme_codes[i % len(self.programme_codes)]


def _person_uuid(i: int) -> Any:
    import uuid

    return uuid.UUID(hashlib.md5(f"person{i}".encode()).hexdigest())


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys, so SQL can compute the keyed digest."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _profiles_json(profiles: list[PersonTruth]) -> str:
    rows = []
    for no, p in enumerate(profiles):
        fields = {
            "given_name": p.given_name,
            "family_name": p.family_name,
            "birth_date": p.birth_date,
            "region": p.region,
            "municipality": p.municipality,
            "mother_name": p.mother_name,
        }
        rows.append(
            {
                "no": no,
                **{k: str(v) for k, v in fields.items()},
                "sex": p.sex,
                "target_group": p.target_group,
                "keys": blocking_keys(fields),
            }
        )
    return json.dumps(rows, ensure_ascii=False)


#: The person number of a source record (its source_id is 'S<person>-<k>').
PERSON_NO = "CAST(split_part(substr(r.source_id, 2), '-', 1) AS integer)"

#: Every statement below is one set-based INSERT; :n persons, :p profiles.
_STATEMENTS = [
    """
CREATE TEMP TABLE plan_profile ON COMMIT DROP AS
SELECT * FROM jsonb_to_recordset(CAST(:profiles AS jsonb)) AS x(
    no integer, given_name text, family_name text, birth_date date, sex text, region text,
    municipality text, mother_name text, target_group text, keys text[])
""",
    "ALTER TABLE plan_profile ADD PRIMARY KEY (no)",
    """
CREATE TEMP TABLE plan_programme ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY code) - 1 AS slot, id, benefit_codes FROM programme
""",
    """
INSERT INTO person (id, given_name, family_name, birth_date, sex, region, municipality,
                    mother_name, created_at, updated_at)
SELECT CAST(md5('person' || i) AS uuid), f.given_name, f.family_name, f.birth_date, f.sex,
       f.region, f.municipality, f.mother_name, now() - i * interval '5 minutes', now()
FROM generate_series(1, :n) AS i JOIN plan_profile f ON f.no = i % :p
""",
    """
INSERT INTO person_identifier (scheme, digest, person_id, created_at)
SELECT 'generic',
       sha256(CAST(:opad AS bytea) || sha256(CAST(:ipad AS bytea)
              || convert_to('N' || lpad(CAST(i AS text), 8, '0'), 'UTF8'))),
       CAST(md5('person' || i) AS uuid), now()
FROM generate_series(1, :n) AS i WHERE i % 5 <> 0
""",
    """
INSERT INTO source_record (programme_id, source_id, person_id, link_method, link_score, version,
    payload_hash, national_id_digest, national_id_masked, given_name, family_name, birth_date,
    sex, region, municipality, mother_name, retracted, created_at, updated_at)
SELECT g.id, 'S' || i || '-' || k, CAST(md5('person' || i) AS uuid),
       CASE WHEN i % 5 = 0 THEN 'probabilistic' ELSE 'national_id' END,
       CASE WHEN i % 5 = 0 THEN 14.5 END, 1 + (i % 3),
       sha256(convert_to('S' || i || '-' || k, 'UTF8')), pi.digest,
       CASE WHEN i % 5 <> 0 THEN '*******' || right(CAST(i AS text), 2) END,
       f.given_name, f.family_name, f.birth_date, f.sex, f.region, f.municipality,
       f.mother_name, i % 97 = 0, now() - i * interval '5 minutes', now()
FROM generate_series(1, :n) AS i
CROSS JOIN LATERAL (VALUES (1), (2)) AS kk(k)
JOIN plan_profile f ON f.no = i % :p
JOIN plan_programme g ON g.slot = (i + k - 1) % 4
LEFT JOIN person_identifier pi ON pi.person_id = CAST(md5('person' || i) AS uuid)
WHERE k = 1 OR i % 3 = 0
""",
    f"""
INSERT INTO enrolment (source_record_id, source_version, programme_id, person_id, benefit_code,
    target_group, status, start_date, end_date, amount, region, recorded_at, superseded_at)
SELECT r.id, v.version, r.programme_id, r.person_id,
       g.benefit_codes[1 + (r.id % cardinality(g.benefit_codes))], f.target_group, 'active',
       date '2015-01-01' + CAST((r.id * 37 + v.version * 11) % 4000 AS integer),
       CASE WHEN r.id % 5 < 3 THEN NULL
            ELSE date '2015-01-01' + CAST((r.id * 37 + v.version * 11) % 4000 AS integer)
                 + CAST(r.id % 900 AS integer) END,
       100 + r.id % 5000, r.region, now() - (4 - v.version) * interval '90 days',
       CASE WHEN v.version < r.version THEN now() - (3 - v.version) * interval '90 days' END
FROM source_record r
JOIN plan_programme g ON g.id = r.programme_id
JOIN plan_profile f ON f.no = {PERSON_NO} % :p
CROSS JOIN LATERAL generate_series(1, r.version) AS v(version)
""",
    """
INSERT INTO feed_batch (programme_id, batch_id, content_hash, submitted_by, received, accepted,
                        received_at)
SELECT g.id, 'bulk-' || b, sha256(convert_to('bulk-' || g.id || '-' || b, 'UTF8')), 'plans',
       1000, 1000, now() - (60 - b) * interval '11 days'
FROM plan_programme g CROSS JOIN generate_series(1, 60) AS b
""",
    """
INSERT INTO source_record_version (source_record_id, version, feed_batch_id, payload,
                                   payload_hash, retracted, received_at)
SELECT r.id, v.version, b.id, jsonb_build_object('source_id', r.source_id), r.payload_hash,
       false, now() - CAST((r.id * 7919) % (:months * 30) AS integer) * interval '1 day'
                    + v.version * interval '1 hour'
FROM source_record r CROSS JOIN LATERAL generate_series(1, r.version) AS v(version)
JOIN feed_batch b ON b.programme_id = r.programme_id AND b.batch_id = 'bulk-1'
""",
    f"""
INSERT INTO blocking_key (key, source_record_id)
SELECT k.key, r.id
FROM source_record r
JOIN plan_profile f ON f.no = {PERSON_NO} % :p
CROSS JOIN LATERAL unnest(f.keys) AS k(key)
WHERE NOT r.retracted
""",
    """
INSERT INTO match_candidate (source_record_id, candidate_person_id, candidate_record_id, reason,
    score, weights, status, decided_by, decided_at, created_at)
SELECT r.id, c.person_id, c.id, 'uncertain', 9.5, '{}',
       CASE WHEN r.id % 60 = 0 THEN 'pending' WHEN r.id % 60 = 20 THEN 'match'
            ELSE 'non_match' END,
       CASE WHEN r.id % 60 <> 0 THEN 'user:steward' END,
       CASE WHEN r.id % 60 <> 0 THEN now() END,
       now() - CAST(r.id % 400 AS integer) * interval '1 day'
FROM source_record r JOIN source_record c ON c.id = r.id + 1
WHERE r.id % 20 = 0 AND c.person_id <> r.person_id
""",
    """
INSERT INTO link_event (kind, person_id, other_person_id, source_record_ids, actor, occurred_at)
SELECT 'merge', CAST(md5('person' || i) AS uuid), CAST(md5('person' || (i + 1)) AS uuid),
       ARRAY[CAST(i AS bigint)], 'user:steward', now() - i * interval '1 hour'
FROM generate_series(1, :n, 50) AS i
""",
    """
INSERT INTO feed_error (feed_batch_id, programme_id, source_id, severity, field, code, message,
                        created_at)
SELECT b.id, b.programme_id, 'S' || e, 'error', 'enrolment.benefit_code', 'invalid_code', 'bad',
       b.received_at
FROM feed_batch b CROSS JOIN generate_series(1, 80) AS e
""",
    """
INSERT INTO audit_event (occurred_at, actor, roles, action, outcome, person_ids, record_ids,
                         purpose, request_id, detail, prev_hash, hash)
SELECT now() - (:events - e) * (CAST(:months * 30 AS double precision) * interval '1 day'
                                / :events),
       'user:' || (e % 50), ARRAY['steward'],
       (ARRAY['person.read', 'record.read', 'feed.batch', 'overview.coverage'])[1 + e % 4], 'ok',
       ARRAY[CAST(CAST(md5('person' || (1 + e % :n)) AS uuid) AS text)],
       ARRAY['SEL85:S' || (1 + e % :n) || '-1'], 'casework', md5(CAST(e AS text)), '{}',
       sha256(convert_to(CAST(e - 1 AS text), 'UTF8')),
       sha256(convert_to(CAST(e AS text), 'UTF8'))
FROM generate_series(1, :events) AS e
""",
]


def populate(engine: Engine, national_id_key: bytes, persons: int, profiles: int) -> Population:
    """Programmes, persons, IDs, records, episodes, versions, keys, reviews, audit; analysed."""
    truths = generate_persons(profiles, seed=8)
    programmes = demo_programmes()
    with transaction(engine) as session:
        for spec in programmes:
            create_programme(
                session,
                code=spec.code,
                name=spec.name,
                agency=spec.agency,
                benefit_codes_allowed=list(spec.benefit_codes),
            )
    # partitions for the history (the migration made this month and the next ones)
    now = datetime.now(UTC)
    back = now.year * 12 + now.month - 1 - (HISTORY_MONTHS + 1)
    first = f"{back // 12}-{back % 12 + 1:02d}-01"
    ipad, opad = _hmac_pads(national_id_key)
    params = {
        "n": persons,
        "p": profiles,
        "profiles": _profiles_json(truths),
        "ipad": ipad,
        "opad": opad,
        "months": HISTORY_MONTHS,
        "events": persons * 2,
    }
    with engine.begin() as conn:
        for table in ("audit_event", "source_record_version"):
            conn.execute(
                text("SELECT registry_create_month_partitions(:t, CAST(:f AS date), :m)"),
                {"t": table, "f": first, "m": HISTORY_MONTHS + 14},
            )
        for statement in _STATEMENTS:
            conn.execute(text(statement), params)
    with transaction(engine) as session:
        refresh_summary(session, chunk=None)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    codes = sorted(spec.code for spec in programmes)
    return Population(
        persons=persons,
        profiles=truths,
        programme_codes=codes,
        benefit_codes={spec.code: spec.benefit_codes for spec in programmes},
    )
