"""The set-based SQL of the ingest path: one statement per step, over a staging table.

Fixed sequences of steps are sent together (registry.core.db.execute_script), one round trip each.

The stage tables are created once per database connection and emptied at every commit
(ON COMMIT DELETE ROWS): creating and dropping them per batch cost more than a one-record
batch's whole resolution.
"""

from registry.core.locks import LockSpace, lock_sql
from registry.persons.golden import refresh_sql
from registry.records.fields import (
    ENROLMENT_FIELDS,
    GOLDEN_FIELDS,
    NATIONAL_ID_COLUMNS,
    RETRACTED,
    SOURCE_ID,
    STORED,
)

#: The record's fields as the stage holds them (registry.records.fields), typed and listed;
#: the national ID's digest and mask arrive as text (hex) and are decoded into the stage.
_STAGED = ("ord", SOURCE_ID.name, RETRACTED.name, *(c for c, _ in NATIONAL_ID_COLUMNS))
_STAGED_TYPES = ("integer", SOURCE_ID.sql_type, RETRACTED.sql_type, "text", "text")
_FIELD_COLUMNS = ", ".join(f"{f.name} {f.sql_type}" for f in STORED)
_NID_COLUMNS = ", ".join(f"{c} {t}" for c, t in NATIONAL_ID_COLUMNS)
_STAGED_COLUMNS = ", ".join(f"{c} {t}" for c, t in zip(_STAGED, _STAGED_TYPES, strict=True))
_FIELD_NAMES = ", ".join(f.name for f in STORED)
_GOLDEN = ", ".join(GOLDEN_FIELDS)

CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
    ord integer PRIMARY KEY,
    {SOURCE_ID.name} {SOURCE_ID.sql_type} NOT NULL,
    {RETRACTED.name} {RETRACTED.sql_type} NOT NULL,
    {_NID_COLUMNS},
    {_FIELD_COLUMNS},
    payload jsonb NOT NULL,
    payload_hash bytea NOT NULL,
    new_person_id uuid NOT NULL DEFAULT registry_uuid7(),
    existing_id bigint,
    existing_person uuid,
    existing_method text,
    existing_hash bytea,
    existing_retracted boolean,
    action text,
    person_id uuid,
    method text,
    record_id bigint,
    version integer,
    score double precision,
    explanation jsonb,
    model_id integer,
    review boolean NOT NULL DEFAULT false
) ON COMMIT DELETE ROWS
"""

#: Blocking keys of the batch's records (computed in Python), and review items to queue.
CREATE_SIDE_STAGES = """
CREATE TEMP TABLE IF NOT EXISTS key_stage (ord integer NOT NULL, key text NOT NULL)
    ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS review_stage (
    ord integer NOT NULL,
    person_id uuid NOT NULL,
    candidate_record_id bigint,
    candidate_ord integer,
    reason text NOT NULL,
    score double precision NOT NULL,
    explanation jsonb NOT NULL
) ON COMMIT DELETE ROWS
"""

FILL_KEYS = """
INSERT INTO key_stage (ord, key)
SELECT ord, key FROM jsonb_to_recordset(CAST(:key_rows AS jsonb)) AS x(ord integer, key text)
"""

#: One JSON parameter carries the whole batch; PostgreSQL unpacks it into typed rows.
FILL_STAGE = f"""
INSERT INTO ingest_stage ({", ".join(_STAGED)}, {_FIELD_NAMES}, payload, payload_hash)
SELECT ord, source_id, retracted, decode(nid_digest, 'hex'), nid_masked, {_FIELD_NAMES},
       payload, decode(payload_hash, 'hex')
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
    {_STAGED_COLUMNS},
    {_FIELD_COLUMNS}, payload jsonb, payload_hash text)
"""

#: Temp tables have no statistics until analysed; without them the joins plan badly.
ANALYZE_STAGES = "ANALYZE ingest_stage, key_stage"

INSERT_ISSUES = """
INSERT INTO feed_error (feed_batch_id, programme_id, source_id, severity, field, code, message)
SELECT :feed_batch_id, :programme_id, source_id, severity, field, code, message
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
    source_id text, severity text, field text, code text, message text)
"""

LOCK_PROGRAMME = lock_sql(LockSpace.INGEST, ":programme_id")


MATCH_EXISTING = """
UPDATE ingest_stage s
SET existing_id = r.id, existing_person = r.person_id, existing_method = r.link_method,
    existing_hash = r.payload_hash, existing_retracted = r.retracted
FROM source_record r
WHERE r.programme_id = :programme_id AND r.source_id = s.source_id
"""

CLASSIFY = """
UPDATE ingest_stage SET action = CASE
    WHEN retracted AND existing_id IS NULL THEN 'unknown'
    WHEN retracted AND existing_retracted THEN 'unchanged'
    WHEN retracted THEN 'retract'
    WHEN existing_id IS NULL THEN 'create'
    WHEN existing_hash = payload_hash AND NOT existing_retracted THEN 'unchanged'
    ELSE 'update'
END
"""

CLAIM_NATIONAL_IDS = """
INSERT INTO person_identifier (scheme, digest, person_id)
SELECT DISTINCT ON (nid_digest) :scheme, nid_digest,
       COALESCE(person_id, existing_person, new_person_id)
FROM ingest_stage
WHERE action IN ('create', 'update') AND nid_digest IS NOT NULL
ORDER BY nid_digest, ord
ON CONFLICT (scheme, digest) DO NOTHING
"""

#: Run before matching (known IDs) and after claiming (a concurrent claim may have won).
LINK_BY_NATIONAL_ID = """
UPDATE ingest_stage s
SET person_id = i.person_id,
    method = CASE WHEN s.person_id = i.person_id AND s.method IS NOT NULL THEN s.method
                  WHEN i.person_id = s.new_person_id THEN 'new'
                  ELSE 'national_id' END
FROM person_identifier i
WHERE s.action IN ('create', 'update') AND i.scheme = :scheme AND i.digest = s.nid_digest
"""

LINK_WITHOUT_ID = """
UPDATE ingest_stage
SET person_id = COALESCE(existing_person, new_person_id),
    method = COALESCE(existing_method, 'new')
WHERE action IN ('create', 'update') AND person_id IS NULL
"""

KEEP_LINK = """
UPDATE ingest_stage SET person_id = existing_person, method = existing_method
WHERE action IN ('unchanged', 'retract')
"""

#: Every new person the batch resolved to, from its first record (several may share one).
CREATE_PERSONS = f"""
INSERT INTO person (id, {_GOLDEN})
SELECT DISTINCT ON (s.person_id) s.person_id, {", ".join("s." + f for f in GOLDEN_FIELDS)}
FROM ingest_stage s
WHERE s.action IN ('create', 'update')
  AND s.person_id IN (SELECT new_person_id FROM ingest_stage)
ORDER BY s.person_id, s.ord
"""

UPSERT_RECORDS = f"""
WITH upserted AS (
    INSERT INTO source_record AS r (
        programme_id, source_id, person_id, link_method, link_score, version, payload_hash,
        national_id_digest, national_id_masked, {_GOLDEN}, retracted, link_weights,
        link_model_id)
    SELECT :programme_id, source_id, person_id, method, score, 1, payload_hash, nid_digest,
           nid_masked, {_GOLDEN}, false, explanation, model_id
    FROM ingest_stage WHERE action IN ('create', 'update')
    ORDER BY source_id
    ON CONFLICT (programme_id, source_id) DO UPDATE SET
        person_id = EXCLUDED.person_id, link_method = EXCLUDED.link_method,
        link_score = CASE WHEN EXCLUDED.person_id = r.person_id
                           AND EXCLUDED.link_method = r.link_method
                          THEN COALESCE(EXCLUDED.link_score, r.link_score)
                          ELSE EXCLUDED.link_score END,
        link_weights = CASE WHEN EXCLUDED.person_id = r.person_id
                             AND EXCLUDED.link_method = r.link_method
                            THEN COALESCE(EXCLUDED.link_weights, r.link_weights)
                            ELSE EXCLUDED.link_weights END,
        link_model_id = CASE WHEN EXCLUDED.person_id = r.person_id
                              AND EXCLUDED.link_method = r.link_method
                             THEN COALESCE(EXCLUDED.link_model_id, r.link_model_id)
                             ELSE EXCLUDED.link_model_id END,
        version = r.version + 1,
        payload_hash = EXCLUDED.payload_hash, national_id_digest = EXCLUDED.national_id_digest,
        national_id_masked = EXCLUDED.national_id_masked,
        {", ".join(f"{f} = EXCLUDED.{f}" for f in GOLDEN_FIELDS)},
        retracted = false, updated_at = now()
    RETURNING r.id, r.source_id, r.version
)
UPDATE ingest_stage s SET record_id = u.id, version = u.version
FROM upserted u WHERE s.source_id = u.source_id
"""

RETRACT_RECORDS = """
WITH retracted AS (
    UPDATE source_record r SET retracted = true, version = r.version + 1, updated_at = now()
    FROM ingest_stage s
    WHERE s.action = 'retract' AND r.id = s.existing_id
    RETURNING r.id, r.version
)
UPDATE ingest_stage s SET record_id = t.id, version = t.version
FROM retracted t WHERE s.existing_id = t.id AND s.action = 'retract'
"""

INSERT_VERSIONS = """
INSERT INTO source_record_version (source_record_id, version, feed_batch_id, payload,
                                   payload_hash, retracted)
SELECT record_id, version, :feed_batch_id, payload, payload_hash, retracted
FROM ingest_stage WHERE action IN ('create', 'update', 'retract')
"""

SUPERSEDE_ENROLMENTS = """
UPDATE enrolment e SET superseded_at = now()
FROM ingest_stage s
WHERE s.action IN ('update', 'retract') AND e.source_record_id = s.record_id
  AND e.superseded_at IS NULL
"""

INSERT_ENROLMENTS = f"""
INSERT INTO enrolment (source_record_id, source_version, programme_id, person_id,
                       {", ".join(ENROLMENT_FIELDS)}, region)
SELECT record_id, version, :programme_id, person_id, {", ".join(ENROLMENT_FIELDS)}, region
FROM ingest_stage WHERE action IN ('create', 'update')
"""

LOCK_TOUCHED_PERSONS = """
SELECT p.id FROM person p
WHERE p.id IN (SELECT person_id FROM ingest_stage
               WHERE action <> 'unchanged' AND method <> 'new'
               UNION SELECT existing_person FROM ingest_stage WHERE action <> 'unchanged')
ORDER BY p.id FOR NO KEY UPDATE
"""

REFRESH_GOLDEN_RECORDS = refresh_sql(
    "SELECT person_id FROM ingest_stage WHERE action <> 'unchanged' AND method <> 'new' "
    "UNION SELECT existing_person FROM ingest_stage WHERE action <> 'unchanged'"
)

OUTCOMES = """
SELECT ord, action, person_id, method, score, review FROM ingest_stage ORDER BY ord
"""

#: Keys follow the record: replaced on update, dropped on retraction.
DELETE_KEYS = """
DELETE FROM blocking_key b USING ingest_stage s
WHERE s.action IN ('update', 'retract') AND b.source_record_id = s.record_id
"""

INSERT_KEYS = """
INSERT INTO blocking_key (key, source_record_id)
SELECT DISTINCT k.key, s.record_id
FROM key_stage k JOIN ingest_stage s ON s.ord = k.ord
WHERE s.action IN ('create', 'update')
ON CONFLICT DO NOTHING
"""

INSERT_REVIEWS = """
INSERT INTO match_candidate (source_record_id, candidate_person_id, candidate_record_id, reason,
                             score, weights, model_id)
SELECT s.record_id, q.person_id, COALESCE(q.candidate_record_id, c.record_id), q.reason, q.score,
       q.explanation, s.model_id
FROM review_stage q
JOIN ingest_stage s ON s.ord = q.ord
JOIN person p ON p.id = q.person_id
LEFT JOIN ingest_stage c ON c.ord = q.candidate_ord
WHERE s.record_id IS NOT NULL
  AND (q.reason = 'uncertain' OR s.person_id <> q.person_id)
ON CONFLICT DO NOTHING
"""

#: Lock the programme and (shared) the identities, then stage the batch (tables once per
#: connection) and its keys.
STAGING = (
    LOCK_PROGRAMME,
    lock_sql(LockSpace.IDENTITY, shared=True),
    CREATE_STAGE,
    CREATE_SIDE_STAGES,
    FILL_STAGE,
    FILL_KEYS,
    ANALYZE_STAGES,
)

#: Before matching: classify, and link what a known national ID resolves.
BEFORE_MATCHING = (MATCH_EXISTING, CLASSIFY, LINK_BY_NATIONAL_ID, KEEP_LINK)

#: After matching: claim new IDs, persist records, versions, episodes, keys and reviews.
AFTER_MATCHING = (
    CLAIM_NATIONAL_IDS,
    LINK_BY_NATIONAL_ID,
    LINK_WITHOUT_ID,
    CREATE_PERSONS,
    UPSERT_RECORDS,
    RETRACT_RECORDS,
    INSERT_VERSIONS,
    SUPERSEDE_ENROLMENTS,
    INSERT_ENROLMENTS,
    DELETE_KEYS,
    INSERT_KEYS,
    INSERT_REVIEWS,
    LOCK_TOUCHED_PERSONS,
    REFRESH_GOLDEN_RECORDS,
)
