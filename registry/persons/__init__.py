"""Registry domain: persons."""
