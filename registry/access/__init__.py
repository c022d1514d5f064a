"""Registry domain: access."""
