"""Registry domain: data-subject rights (access, rectification, pseudonymised export)."""
