"""Registry domain: demo."""
