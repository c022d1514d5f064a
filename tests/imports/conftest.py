"""A Danish-style MIS export, its column mapping, and what the registry should make of it."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, text

from registry.demo.population import PersonTruth, generate_persons
from tests.factories import make_programme

HEADER = [
    "Sagsnr",
    "CPR",
    "Fornavn",
    "Efternavn",
    "Fødselsdato",
    "Køn",
    "Region",
    "Kommune",
    "Mor",
    "Ydelse",
    "Startdato",
    "Slutdato",
    "Beløb",
    "Bemærkning",
]

MAPPING: dict[str, Any] = {
    "programme": "SEL85",
    "columns": {
        "Sagsnr": "source_id",
        "CPR": {"field": "national_id", "zfill": 10},
        "Fornavn": "given_name",
        "Efternavn": "family_name",
        "Fødselsdato": {"field": "birth_date", "date_format": "%d-%m-%Y"},
        "Køn": {"field": "sex", "codes": {"1": "M", "2": "F"}},
        "Region": "region",
        "Kommune": "municipality",
        "Mor": "mother_name",
        "Ydelse": {
            "field": "enrolment.benefit_code",
            "codes": {"BST": "1.12.0.2", "STU": "1.12.0.1"},
        },
        "Startdato": {"field": "enrolment.start_date", "date_format": "%d.%m.%Y"},
        "Slutdato": {"field": "enrolment.end_date", "date_format": "%d.%m.%Y"},
        "Beløb": {"field": "enrolment.amount", "decimal": ","},
    },
    "constants": {"enrolment.status": "active", "enrolment.target_group": "1.2.2"},
    "csv": {"delimiter": ";"},
}

#: The rows the export holds wrong, by row number (header = row 1), and why.
BAD_ROWS = {
    4: ("birth_date", "invalid_date", "Fødselsdato"),
    6: ("enrolment.benefit_code", "untranslated_code", "Ydelse"),
    8: ("enrolment.end_date", "end_before_start", "Slutdato"),
}
GOOD_ROWS = (2, 3, 5, 9)


@dataclass
class Export:
    persons: list[PersonTruth]
    rows: list[list[Any]]  # by position; None = a blank row


def _row(person: PersonTruth, number: int) -> list[Any]:
    return [
        f"K-{number:04d}",
        person.national_id,
        person.given_name,
        person.family_name,
        person.birth_date.strftime("%d-%m-%Y"),
        "1" if person.sex == "M" else "2",
        person.region,
        person.municipality,
        person.mother_name,
        "BST" if number % 2 else "STU",
        "01.02.2023",
        "",
        "2.033,68",
        "ingen bemærkning",
    ]


@pytest.fixture
def export() -> Export:
    """Rows 2-9 of an export: three bad rows (4, 6, 8), a blank row (7), four good ones."""
    pool = [p for p in generate_persons(200, seed=3) if p.national_id]
    # the first good row carries a CPR with a leading zero (XLSX drops it; zfill restores it)
    zero = next(p for p in pool if (p.national_id or "").startswith("0"))
    persons = [zero, *[p for p in pool if p is not zero][:7]]
    rows: list[list[Any]] = []
    for number, person in zip(range(2, 10), persons, strict=True):
        if number == 7:
            rows.append([None] * len(HEADER))
            continue
        row = _row(person, number)
        if number == 4:
            row[4] = "31-02-1980"
        if number == 6:
            row[9] = "XYZ"
        if number == 8:
            row[11] = "01.01.2020"
        if number == 9:
            row[1] = ""  # no national ID: linked by name, birth date and place
        rows.append(row)
    return Export(persons, rows)


def csv_bytes(export: Export, encoding: str = "utf-8-sig") -> bytes:
    """The export as a semicolon CSV, as many Danish MIS systems write it."""
    lines = [";".join(HEADER)]
    for row in export.rows:
        lines.append(";".join("" if v is None else str(v) for v in row))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(export: Export) -> bytes:
    """The export as a workbook, with typed cells: numbers, real dates, a second sheet."""
    book = Workbook()
    info = book.active
    assert info is not None
    info.title = "Info"
    info.append(["Udtræk fra fagsystemet"])
    sheet = book.create_sheet("Ark1")
    sheet.append(HEADER)
    for row in export.rows:
        if row[0] is None:
            sheet.append([])
            continue
        cells = list(row)
        cells[1] = int(cells[1]) if cells[1] else None  # CPR as a number: leading zero lost
        if cells[4] != "31-02-1980":
            cells[4] = datetime.strptime(cells[4], "%d-%m-%Y")  # a real date cell
        cells[5] = int(cells[5])
        cells[6] = int(cells[6])
        cells[12] = 2033.68
        cells[11] = cells[11] or None
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def mapping_json(**changes: Any) -> str:
    document = json.loads(json.dumps(MAPPING))
    document.update(changes)
    return json.dumps(document, ensure_ascii=False)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in (
                "source_record",
                "source_record_version",
                "enrolment",
                "feed_batch",
                "person",
            )
        }


@pytest.fixture
def sel85(engine: Engine) -> str:
    make_programme(engine, "SEL85", ["1.12.0.1", "1.12.0.2"])
    return "SEL85"
