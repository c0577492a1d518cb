"""State that outlives a request: protocols and their in-memory implementations.

Layer: stores; may import only `mcpkit.protocol`. The HTTP server (and later tasks and the
client's tokens) talk to these protocols, so a deployment can swap in SQLite or Redis.
"""

from mcpkit.stores.events import EventStore, MemoryEventStore

__all__ = ["EventStore", "MemoryEventStore"]
