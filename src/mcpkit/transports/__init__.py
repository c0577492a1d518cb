"""I/O adapters that move frames (one JSON-RPC message each, as bytes) between peers.

Layer: transports, above protocol. Transports know nothing of JSON-RPC semantics: they move
bytes and report failures with the TransportError family of `mcpkit.protocol.errors`.
"""

from mcpkit.transports.base import Transport

__all__ = ["Transport"]
