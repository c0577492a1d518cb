"""mcpkit.cli."""
