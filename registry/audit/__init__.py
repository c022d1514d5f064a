"""Registry domain: audit."""
