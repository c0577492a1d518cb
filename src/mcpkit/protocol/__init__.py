"""mcpkit.protocol."""
