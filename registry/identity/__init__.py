"""National identifiers: format checks and keyed digests."""
