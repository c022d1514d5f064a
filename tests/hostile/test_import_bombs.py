"""Memory exhaustion through file imports, and mappings that broke the server (items 8 and 11).

Each bomb goes through the reader in a child process capped in address space (its peak
resident memory must stay small) and through the upload endpoint (a 422 naming the rule).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.factories import bearer
from tests.hostile import bombs
from tests.hostile.conftest import Hostile, stored

URL = "/api/v1/programmes/SEL85/imports"
#: How much a refused bomb may grow the reader's peak resident memory.
BOUND_MB = 200
FIVE_ROWS = "Sagsnr;CPR\r\n" + "".join(f"K-{n};{n:09d}\r\n" for n in range(1, 6))
CSV_MAPPING: dict[str, Any] = {**bombs.MAPPING, "csv": {"delimiter": ";"}}


def upload(client: TestClient, token: str, data: bytes, mapping: Any) -> Any:
    return client.post(
        URL,
        files={"file": ("udtraek", data, "application/octet-stream")},
        data={"mapping": mapping if isinstance(mapping, str) else json.dumps(mapping)},
        headers=bearer(token),
    )


def refusal(answer: Any) -> str:
    assert answer.status_code == 422, answer.text[:500]
    body = answer.json()
    assert body["error"] == "ValidationError"
    return str(body["detail"]) + json.dumps(body.get("errors"))


@pytest.fixture(scope="module")
def strings_bomb() -> bytes:
    return bombs.shared_strings_bomb()


@pytest.fixture(scope="module")
def empty_rows_xlsx() -> bytes:
    return bombs.empty_rows_xlsx()


def test_shared_strings_bomb_is_refused_in_bounded_memory(
    tmp_path: Path, strings_bomb: bytes
) -> None:
    assert len(strings_bomb) < 2 << 20  # about 1 MB sent
    answer = bombs.read_in_child(tmp_path, strings_bomb, bombs.MAPPING)
    assert answer["refused"] and "xl/sharedStrings.xml" in answer["refused"]
    assert answer["grew_mb"] < BOUND_MB, answer


def test_shared_strings_bomb_upload_is_422(
    client: TestClient, hostile: Hostile, engine: Engine, strings_bomb: bytes
) -> None:
    detail = refusal(upload(client, hostile.feed, strings_bomb, bombs.MAPPING))
    assert "sharedStrings.xml" in detail and "MiB" in detail
    assert stored(engine)["feed_batch"] == 0


def test_three_million_empty_xlsx_rows_are_refused_in_bounded_memory(
    tmp_path: Path, empty_rows_xlsx: bytes
) -> None:
    assert len(empty_rows_xlsx) < 8_000_000
    answer = bombs.read_in_child(tmp_path, empty_rows_xlsx, bombs.MAPPING)
    assert answer["refused"] and "1,048,576 rows" in answer["refused"], answer
    assert answer["grew_mb"] < BOUND_MB, answer


def test_three_million_empty_xlsx_rows_upload_is_422(
    client: TestClient, hostile: Hostile, engine: Engine, empty_rows_xlsx: bytes
) -> None:
    detail = refusal(upload(client, hostile.feed, empty_rows_xlsx, bombs.MAPPING))
    assert "1,048,576 rows" in detail and "blank rows count" in detail
    assert stored(engine)["feed_batch"] == 0


def test_three_million_empty_csv_rows_are_refused(
    tmp_path: Path, client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    data = bombs.empty_rows_csv()
    answer = bombs.read_in_child(tmp_path, data, CSV_MAPPING)
    assert answer["refused"] and "2,000,000 rows" in answer["refused"], answer
    assert answer["grew_mb"] < BOUND_MB, answer
    detail = refusal(upload(client, hostile.feed, data, CSV_MAPPING))
    assert "2,000,000 rows" in detail and "blank rows count" in detail
    assert stored(engine)["feed_batch"] == 0


ZFILL_BOMB = {
    "columns": {"Sagsnr": "source_id", "CPR": {"field": "national_id", "zfill": 200_000_000}},
    "csv": {"delimiter": ";"},
}


def test_zfill_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    answer = bombs.read_in_child(tmp_path, FIVE_ROWS.encode(), ZFILL_BOMB)
    assert answer["refused"] and answer["rows"] == 0, answer
    assert [e["field"] for e in answer["errors"]] == ["columns.CPR.zfill"]
    assert "at most 32" in answer["errors"][0]["message"]
    assert answer["grew_mb"] < BOUND_MB, answer


def test_zfill_bomb_upload_is_422_naming_the_field(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    data = FIVE_ROWS.encode()
    assert len(data) + len(json.dumps(ZFILL_BOMB)) < 600  # a few hundred bytes sent
    detail = refusal(upload(client, hostile.feed, data, ZFILL_BOMB))
    assert "columns.CPR.zfill" in detail and "at most 32" in detail
    assert stored(engine)["feed_batch"] == 0


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("zlib_codec", FIVE_ROWS.encode()),
        ("rot13", FIVE_ROWS.encode()),
        ("base64_codec", FIVE_ROWS.encode()),
        ("hex", FIVE_ROWS.encode()),
        ("utf-7", FIVE_ROWS.encode()),
        ("punycode", FIVE_ROWS.encode()),
        ("unicode_escape", FIVE_ROWS.encode()),
        ("utf-16", FIVE_ROWS.encode("utf-16-le")),  # no byte-order mark
        ("utf-16", FIVE_ROWS.encode("utf-16")[:-1]),  # a BOM, then half a character
        ("utf-16-le", FIVE_ROWS.encode("utf-16-le")[:-1]),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_non_text_codecs_and_broken_utf16_are_422_naming_the_encoding(
    client: TestClient, hostile: Hostile, engine: Engine, encoding: str, data: bytes
) -> None:
    mapping = {**bombs.MAPPING, "csv": {"delimiter": ";", "encoding": encoding}}
    detail = refusal(upload(client, hostile.feed, data, mapping))
    assert "encoding" in detail or "UTF-16" in detail
    assert stored(engine)["feed_batch"] == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "cp865", "latin-1"])
def test_text_encodings_still_import(client: TestClient, hostile: Hostile, encoding: str) -> None:
    data = FIVE_ROWS.encode(encoding)
    if encoding != "utf-16":  # a byte-order mark the named byte order does not need
        data = "\ufeff".encode(encoding) + data if encoding.startswith("utf") else data
    mapping = {**bombs.MAPPING, "csv": {"delimiter": ";", "encoding": encoding}}
    answer = upload(client, hostile.feed, data, mapping)
    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["rows_read"] == 5


def test_fifty_thousand_deep_mapping_is_422_naming_the_mapping(
    client: TestClient, hostile: Hostile, engine: Engine
) -> None:
    body = upload(client, hostile.feed, FIVE_ROWS.encode(), bombs.deep_json()).json()
    assert body["error"] == "ValidationError"
    assert body["errors"][0]["field"] == "mapping"
    assert "nested deeper than" in body["errors"][0]["message"]
    assert stored(engine)["feed_batch"] == 0
