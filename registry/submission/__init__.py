"""Submission: the one way a batch enters the registry (ingest, audit, commit, after-commit)."""
