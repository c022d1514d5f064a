"""Registry domain: codelists."""
