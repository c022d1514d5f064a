"""The registry domain: models, services, settings, database and CLI."""
