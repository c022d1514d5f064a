"""File feeds: CSV and XLSX exports of legacy MIS systems, mapped and sent through ingest."""

import os

#: Rows per ingest batch unless told otherwise.
DEFAULT_BATCH_SIZE = 1000
#: Batches in flight at once in the upload endpoint (threads of the serving process).
DEFAULT_WORKERS = 2
MAX_WORKERS = 8


def default_processes() -> int:
    """Worker processes of `registry import` unless told otherwise: one per CPU (at most 8)."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))
