"""The `registry` command, one module per command group; `main` assembles them."""
