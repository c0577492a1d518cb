"""mcpkit.client."""
