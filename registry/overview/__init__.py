"""Who receives what: coverage and overlaps as of a date, with disclosure control."""
