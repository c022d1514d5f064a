"""The matching engine: pure functions, no HTTP and no database session."""
