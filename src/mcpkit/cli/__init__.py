"""The `mcpkit` command line (an application layer: it uses only the public API)."""
