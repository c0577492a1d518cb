"""mcpkit.server."""
