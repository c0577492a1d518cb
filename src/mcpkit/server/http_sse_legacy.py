"""The 2024-11-05 "HTTP with SSE" transport, server side: one GET stream plus a POST endpoint.

Layer: server (the HTTP binding of the server). `http.py` routes `GET <sse_path>` and
`POST <messages_path>` here, after its Host/Origin checks and (for POSTs) its body limit;
the sessions are `http_sessions.py`'s machinery (a `memory_pair` connection to
`Server.serve` run in the hub, random ids, the session cap), so nothing here duplicates it.

How a session goes (spec 2024-11-05 basic/transports, "HTTP with SSE"):

1. `GET /sse` creates a session and answers with an SSE stream whose first event is
   `endpoint` (the server MUST send it): the URI to POST messages to, an absolute path on
   this origin, `/messages/?session_id=<random token>` (the token is the session's only
   credential, so it comes from `secrets`).
2. Each POST carries one JSON-RPC message; it is handed to the session and answered
   `202 Accepted` at once. Its answer, like everything else the server sends (responses,
   its own requests, notifications), goes out in order as a `message` event on the GET
   stream; an idle stream gets a `: ping` comment every `keepalive` seconds.
3. The GET stream closing ends the session: its server task is cancelled, its id forgotten.

The legacy era only is served (a modern request gets -32022); which legacy version is
`initialize`'s business (the protocol layer's): a client offering 2024-11-05 gets 2024-11-05.
The transport has no event ids, so there is no resumption: a dropped stream is a dropped
session, as the spec's sequence diagram has it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from urllib.parse import parse_qs

import anyio

from mcpkit.auth.caller import current_access, principal_of
from mcpkit.protocol.errors import INTERNAL_ERROR, INVALID_REQUEST, BrokenError, TransportError
from mcpkit.server.http_responses import (
    Receive,
    Scope,
    Send,
    error_body,
    finish_unless_disconnected,
    send_empty,
    send_json,
    sse_event,
    sse_ping,
    start_sse,
)
from mcpkit.server.http_sessions import ServedSession, SessionManager

__all__ = ["SESSION_PARAM", "SSEEndpoint", "SSESession"]

_OUT_BUFFER: Final = 256  # frames waiting for the GET stream before the server waits

SESSION_PARAM: Final = "session_id"
_END: Final = {"type": "http.response.body", "body": b"", "more_body": False}


class SSESession(ServedSession):
    """One old-transport session. It lives exactly as long as its GET stream, whose handler
    drains `outbound` (one stream: nothing to route). Legacy era only: the transport
    predates the modern one, whose clients speak Streamable HTTP."""

    modern = False

    def __init__(self, session_id: str, clock: Callable[[], float]) -> None:
        super().__init__(session_id, clock)
        self._out, self.outbound = anyio.create_memory_object_stream[bytes](_OUT_BUFFER)

    async def _deliver(self, frame: bytes) -> None:
        """Everything goes on the one GET stream, in order (its handler drains `outbound`)."""
        try:
            await self._out.send(frame)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise BrokenError("the SSE stream of this session has ended") from None

    def _end_streams(self) -> None:
        self._out.close()
        self.outbound.close()

    @property
    def busy(self) -> bool:
        return True  # its stream is open for its whole life, so it is never idle


class SSEEndpoint:
    """Answers the GET stream and the message POSTs of the HTTP+SSE transport."""

    def __init__(
        self, sessions: SessionManager[SSESession], *, messages_path: str, keepalive: float
    ) -> None:
        self.sessions = sessions
        self.messages_path = messages_path
        self.keepalive = keepalive

    async def get(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Open a session and stream it until either side hangs up, then end it."""
        session = await self.sessions.create()
        if session is None:
            busy = "too many sessions; try again later"
            await send_json(send, 503, error_body(INTERNAL_ERROR, busy))
            return
        session.principal = principal_of(current_access.get())
        try:
            await start_sse(send)
            endpoint = self.endpoint_uri(scope, session.id)
            await send(sse_event(endpoint.encode(), event="endpoint"))
            await finish_unless_disconnected(receive, self._forward(session, send))
            await send(_END)
        finally:
            with anyio.CancelScope(shield=True):
                await self.sessions.end(session.id)

    def endpoint_uri(self, scope: Scope, session_id: str) -> str:
        """Where the client POSTs: a path on this origin (behind a mount: under its root)."""
        root = str(scope.get("root_path", "")).rstrip("/")
        return f"{root}{self.messages_path}?{SESSION_PARAM}={session_id}"

    async def _forward(self, session: SSESession, send: Send) -> None:
        """Write what the server sends as `message` events until the session ends."""
        try:
            while True:
                frame: bytes | None = None
                with anyio.move_on_after(self.keepalive):
                    frame = await session.outbound.receive()
                await send(sse_ping() if frame is None else sse_event(frame))
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return  # the session ended (closed, reaped, or the server shut down)

    async def session_of(self, scope: Scope, send: Send) -> SSESession | None:
        """The session a message POST names, or None after answering 400/404."""
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        values = query.get(SESSION_PARAM)
        if not values:
            reason = f"missing {SESSION_PARAM} query parameter (POST to the endpoint event's URI)"
            await send_json(send, 400, error_body(INVALID_REQUEST, reason))
            return None
        session = self.sessions.get(values[0])
        if session is not None and session.principal != principal_of(current_access.get()):
            session = None  # another caller's session is, to this caller, no session at all
        if session is None:
            reason = "unknown or ended session: open a new one with a GET of the SSE endpoint"
            await send_json(send, 404, error_body(INVALID_REQUEST, reason))
        return session

    async def post(self, session: SSESession, body: bytes, send: Send) -> None:
        """Hand one message to the session; its answer comes on the GET stream."""
        try:
            session.spawn_feed(body)  # its answer comes on the GET stream
        except TransportError:
            await send_json(send, 404, error_body(INVALID_REQUEST, "session ended"))
            return
        await send_empty(send, 202)
