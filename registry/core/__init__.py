"""Infrastructure every domain package stands on: settings, database, errors, logging, upkeep."""
