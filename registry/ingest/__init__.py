"""Registry domain: ingest."""
