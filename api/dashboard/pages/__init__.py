"""One module per dashboard page (or group of pages), each with its own router."""
