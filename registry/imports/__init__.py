"""File feeds: CSV and XLSX exports of legacy MIS systems, mapped and sent through ingest."""

#: Rows per ingest batch unless told otherwise.
DEFAULT_BATCH_SIZE = 1000
#: Batches in flight at once (each its own transaction; the ingest lock serialises linking).
DEFAULT_WORKERS = 2
MAX_WORKERS = 8
