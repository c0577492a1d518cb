"""The everything server's resources: static text, a binary image, a template, a resource
to subscribe to, and completion of the template's variable.

Layer: applications (servers/everything); public API only (`mcpkit.server`). URIs and texts
are the conformance suite's (REQUIREMENTS §3). A URI nothing serves is the framework's
business: -32602 with `data.uri` in the modern era, -32002 in a legacy session.
"""

from __future__ import annotations

from typing import Any, Final

from mcpkit.server import Server
from mcpkit.servers.everything.media import PNG

__all__ = ["TEMPLATE", "register"]

TEMPLATE: Final = "test://template/{id}/data"
WATCHED: Final = "test://watched-resource"
_KNOWN_IDS: Final = ("123", "456", "789")


def static_text() -> str:
    """A static text resource."""
    return "This is the content of the static text resource."


def static_binary() -> bytes:
    """A static binary resource (a small PNG image)."""
    return PNG


def template_data(id: str) -> dict[str, Any]:  # the template's variable
    """JSON data for any ID."""
    return {"id": id, "templateTest": True, "data": f"Data for ID: {id}"}


def watched_resource() -> str:
    """A resource clients may subscribe to (resources/subscribe)."""
    return "This is the content of the watched resource."


def complete_id(argument: str, value: str, context: dict[str, str]) -> list[str]:
    """Suggested IDs for the template, by prefix."""
    return [known for known in _KNOWN_IDS if known.startswith(value)]


def register(server: Server) -> None:
    """Add the resources, the template and its completion to `server`."""
    server.add_resource(
        static_text, "test://static-text", name="static_text", mime_type="text/plain"
    )
    server.add_resource(
        static_binary, "test://static-binary", name="static_binary", mime_type="image/png"
    )
    server.add_resource(watched_resource, WATCHED, name="watched_resource", mime_type="text/plain")
    server.add_resource(template_data, TEMPLATE, name="template_data", mime_type="application/json")
    server.completion(resource=TEMPLATE)(complete_id)
