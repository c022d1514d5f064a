"""The bounds of one file import, in one place: past any of them the import is a 422 naming it.

Every reader and every mapping value is bounded so an import runs in bounded memory (and
time) whatever it is sent. The values fit real MIS exports with room to spare; `ImportLimits`
is a parameter of the readers so tests can shrink them.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1 << 20


@dataclass(frozen=True)
class ImportLimits:
    """Named bounds of a mapping, a CSV file and an XLSX workbook."""

    # --- the mapping (JSON) ---
    #: Characters of a mapping document (the upload's form field and the CLI's file).
    mapping_chars: int = 100_000
    #: Nesting of objects and arrays in a mapping (a real one nests 4 deep).
    mapping_depth: int = 8
    #: zfill width: a national ID's leading zeros, not a way to make a 200 MB string.
    zfill: int = 32
    #: Characters of a column name, sheet name, code, translation or date format.
    name_chars: int = 256
    #: Characters of a constant or the description.
    text_chars: int = 2_000
    #: Code translations of one column, and date formats of one column.
    codes: int = 10_000
    date_formats: int = 10
    #: Problems listed in one refusal of a mapping.
    problems: int = 100

    # --- every file ---
    #: Rows of a CSV file, counted with the header and blank rows.
    csv_rows: int = 2_000_000
    #: Rows of a sheet, counted by row number (blank and missing rows included): Excel's limit.
    xlsx_rows: int = 1_048_576
    #: Columns of a row (header included); a value further right is refused.
    columns: int = 1_024
    #: Characters of one cell: Excel's own limit.
    cell_chars: int = 32_767
    #: Characters of one CSV record (all its lines, quoted line breaks included).
    record_chars: int = 1 * MiB
    #: Rejection reasons kept for the answer and the rejects file (first by row); the rest are
    #: counted in `reasons_omitted`.
    reasons: int = 10_000

    # --- XLSX (a ZIP of XML parts) ---
    #: Parts in the archive, and the size of its central directory.
    xlsx_parts: int = 1_000
    xlsx_directory_bytes: int = 1 * MiB
    #: Uncompressed bytes of a worksheet (streamed), the shared strings (held as a table),
    #: any other part (parsed whole by openpyxl), and of all parts together.
    xlsx_sheet_bytes: int = 512 * MiB
    xlsx_strings_bytes: int = 64 * MiB
    xlsx_part_bytes: int = 8 * MiB
    xlsx_total_bytes: int = 1024 * MiB
    #: Uncompressed / compressed size of a part over 1 MiB (XML of real sheets: 5-30).
    xlsx_ratio: int = 200
    #: Shared strings in the table (500,000: a 500,000-row export with a unique text ID each).
    xlsx_strings: int = 500_000
    #: XML elements of a part parsed whole, of what precedes a sheet's data, of one cell
    #: (rich text runs) and attributes of one element.
    xlsx_part_elements: int = 100_000
    xlsx_cell_elements: int = 1_000
    xlsx_attributes: int = 64


LIMITS = ImportLimits()


def count(number: int) -> str:
    """A limit as the 422 shows it: 1,048,576."""
    return f"{number:,}"


def size(number: int) -> str:
    """A byte limit as the 422 shows it: 64 MiB."""
    return f"{number / MiB:g} MiB" if number >= MiB else f"{number:,} bytes"
