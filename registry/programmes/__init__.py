"""Registry domain: programmes."""
