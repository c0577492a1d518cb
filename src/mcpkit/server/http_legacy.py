"""The legacy (2024-11-05 .. 2025-11-25) side of the MCP HTTP endpoint: sessions over HTTP.

Layer: server (the HTTP binding of the server). Called by `http.py` for POSTs it has
classified as legacy and for GET/DELETE with `Mcp-Session-Id`; the sessions themselves and
the routing of what the server sends are in `http_sessions.py`.

Spec 2025-11-25 basic/transports, "Streamable HTTP": `initialize` answers with the new
session's id in `Mcp-Session-Id`; later requests without it get 400, with an unknown one 404;
`MCP-Protocol-Version` must be the negotiated version (absent: assume 2025-03-26 and serve);
a POSTed notification or response gets 202; a disconnect is not a cancellation.

Resumability (`http_streams.py`): an SSE POST opens with a priming event (an id, empty data,
`retry:`), every event carries an id, and `GET` + `Last-Event-ID` resumes the stream that id
belongs to: a POST stream until its response, the GET stream for good. `poll` lets the
server close a POST stream right after priming (SSE polling, SEP-1699), so the client gets
everything on the resumed stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from mcpkit.auth.caller import current_access, principal_of
from mcpkit.protocol.context import PROGRESS_TOKEN
from mcpkit.protocol.errors import INTERNAL_ERROR, INVALID_REQUEST, TransportError
from mcpkit.server.http_responses import (
    Receive,
    Send,
    error_body,
    send_empty,
    send_json,
    sse_ping,
    sse_priming,
    start_sse,
)
from mcpkit.server.http_sessions import LegacySession, PostStream, SessionManager
from mcpkit.server.http_streams import EventLog, follow_until_disconnect

__all__ = ["LegacyEndpoint"]

SESSION_HEADER: Final = "mcp-session-id"
_END: Final = {"type": "http.response.body", "body": b"", "more_body": False}


def _session_header(session: LegacySession) -> list[tuple[bytes, bytes]]:
    return [(SESSION_HEADER.encode(), session.id.encode())]


def _never(message: dict[str, Any]) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class SSEOptions:
    """`retry_ms`: the `retry:` sent with priming events; `keepalive`: idle seconds before a
    `: ping` comment; `poll(request)`: close that request's POST stream after priming."""

    retry_ms: int = 1000
    keepalive: float = 15.0
    poll: Callable[[dict[str, Any]], bool] = _never


class LegacyEndpoint:
    """Answers legacy POSTs, GETs and DELETEs against a `SessionManager`."""

    def __init__(
        self,
        sessions: SessionManager[LegacySession],
        *,
        json_response: bool,
        sse: SSEOptions | None = None,
    ) -> None:
        self.sessions = sessions
        self.json_response = json_response
        self.sse = sse or SSEOptions()

    def post(
        self,
        message: dict[str, Any],
        body: bytes,
        headers: dict[str, str],
        send: Send,
    ) -> Awaitable[None]:
        """Answer a POST (await what this returns: the chosen answer's own coroutine)."""
        if message.get("method") == "initialize" and "id" in message:
            return self._initialize(message, body, send)
        session = self._session(headers)
        if not isinstance(session, LegacySession):
            return send_json(send, *session)
        if "method" in message and "id" in message:
            wants_sse = "text/event-stream" in headers.get("accept", "")
            # JSON mode still streams a request that asked for progress: its notifications
            # belong on its own stream, and the GET stream would race the JSON answer
            sse = wants_sse and (not self.json_response or _progress_token(message) is not None)
            return self._request(session, message, body, sse, send)
        return self._accept(session, body, send)

    async def _accept(self, session: LegacySession, body: bytes, send: Send) -> None:
        """A notification, or the client's answer to a server→client request: 202."""
        try:
            await session.feed(body)
        except TransportError:
            await send_json(send, 404, error_body(INVALID_REQUEST, "session ended"))
            return
        await send_empty(send, 202, _session_header(session))

    async def get(self, headers: dict[str, str], receive: Receive, send: Send) -> None:
        """The standalone SSE stream, or the resumption of a stream (`Last-Event-ID`)."""
        session = self._session(headers)
        if not isinstance(session, LegacySession):
            await send_json(send, *session)
            return
        if "text/event-stream" not in headers.get("accept", ""):
            reason = "GET needs Accept: text/event-stream"
            await send_json(send, 406, error_body(INVALID_REQUEST, reason))
            return
        last_id = headers.get("last-event-id", "").strip()
        log = await self._resumed(session, last_id) if last_id else session.get_log
        if log is None:
            reason = f"Last-Event-ID {last_id!r} names no stream this session can resume"
            await send_json(send, 404, error_body(INVALID_REQUEST, reason))
        elif log is session.get_log:
            await self._get_stream(session, last_id or None, receive, send)
        else:
            await start_sse(send, _session_header(session))
            await self._follow(session, log, last_id, (receive, send))

    async def _resumed(self, session: LegacySession, last_id: str) -> EventLog | None:
        replay = await session.store.replay_after(last_id)
        return None if replay is None else session.log_of(replay.stream_id)

    async def _get_stream(
        self, session: LegacySession, last_id: str | None, receive: Receive, send: Send
    ) -> None:
        cursor = await session.open_get()
        if cursor is None:
            reason = "this session already has a GET stream open"
            await send_json(send, 409, error_body(INVALID_REQUEST, reason))
            return
        try:
            await start_sse(send, _session_header(session))
            await send(sse_priming(cursor, self.sse.retry_ms))
            await self._follow(session, session.get_log, last_id or cursor, (receive, send))
        finally:
            session.close_get()

    async def _follow(
        self,
        session: LegacySession,
        log: EventLog,
        cursor: str,
        streams: tuple[Receive, Send],
    ) -> None:
        """Write the log from `cursor` until it ends or the client leaves, then end (a GET:
        the client's leaving is watched for at once, so that a client reconnecting right
        after finds the stream released)."""
        receive, send = streams
        delivered = session.delivered_on_get if log is session.get_log else None
        keepalive = self.sse.keepalive
        await follow_until_disconnect(
            session.store, log, cursor, receive, send, keepalive=keepalive, delivered=delivered
        )
        await send(_END)

    async def delete(self, headers: dict[str, str], send: Send) -> None:
        """End the session (spec: the client SHOULD, when it is done)."""
        session_id = headers.get(SESSION_HEADER, "").strip()
        if await self.sessions.end(session_id):
            await send_empty(send, 200)
        else:
            await send_json(send, 404, error_body(INVALID_REQUEST, "unknown or expired session"))

    def _session(self, headers: dict[str, str]) -> LegacySession | tuple[int, bytes]:
        """The session this request names, or the status and body to refuse it with (400,
        404). (Not a coroutine: the usual case has nothing to wait for.)"""
        session_id = headers.get(SESSION_HEADER)
        if session_id is None:
            reason = "missing Mcp-Session-Id header (send initialize first)"
            return 400, error_body(INVALID_REQUEST, reason)
        session = self.sessions.get(session_id.strip())
        if session is None or session.principal != principal_of(current_access.get()):
            # another caller's session is, to this caller, no session at all
            return 404, error_body(INVALID_REQUEST, "unknown or expired session")
        version = headers.get("mcp-protocol-version")
        if version is not None and version.strip() != session.version:
            reason = f"MCP-Protocol-Version {version!r} is not this session's {session.version!r}"
            return 400, error_body(INVALID_REQUEST, reason)
        return session

    async def _initialize(self, message: dict[str, Any], body: bytes, send: Send) -> None:
        """Start a session; its id goes out only if `initialize` succeeded. Always JSON:
        the session header must be decided before the response starts."""
        session = await self.sessions.create()
        if session is None:
            busy = "too many sessions; try again later"
            await send_json(send, 503, error_body(INTERNAL_ERROR, busy, message["id"]))
            return
        session.principal = principal_of(current_access.get())
        post = PostStream(message["id"], sse=False)
        await session.open_post(post)
        try:
            await session.feed(body)
            response = await _response(post)
        except TransportError:
            response = None
        finally:
            session.close_post(post)
        if response is None or _is_error(response):
            await self.sessions.end(session.id)
            response = response or error_body(INTERNAL_ERROR, "initialize failed", message["id"])
            await send_json(send, 200, response)
            return
        await send_json(send, 200, response, _session_header(session))

    async def _request(
        self,
        session: LegacySession,
        message: dict[str, Any],
        body: bytes,
        sse: bool,
        send: Send,
    ) -> None:
        if session.ended:
            await send_json(send, 404, error_body(INVALID_REQUEST, "session ended"))
            return
        if sse:
            await self._stream(session, message, body, send)
            return
        try:  # a JSON POST: served right here, in this request's task; its answer is ours
            response = await session.answer(body)
        except TransportError:
            await send_json(send, 404, error_body(INVALID_REQUEST, "session ended"))
            return
        if response is None:  # cancelled by the client: no answer is due, the POST ends
            await send_empty(send, 202, _session_header(session))
        else:
            await send_json(send, 200, response, _session_header(session))

    async def _stream(
        self, session: LegacySession, message: dict[str, Any], body: bytes, send: Send
    ) -> None:
        """An SSE POST, served right here as a JSON one is: the priming event, then what
        the server sends about the request and at last its response, each stored (the
        stream is resumable) and written on. Under SSE polling the response ends after
        priming and the client resumes the stream with a GET. Either way the request is
        served to its end, read or not (a disconnect is not a cancellation); a cancelled
        one ends its stream without a response."""
        post = PostStream(message["id"], sse=True, progress_token=_progress_token(message))
        primed = await session.open_post(post)
        assert primed is not None
        await start_sse(send, _session_header(session))
        await send(sse_priming(primed, self.sse.retry_ms))
        if self.sse.poll(message):
            await send(_END)
        else:
            post.writer = send
        loop = asyncio.get_running_loop()
        pinging: list[asyncio.Task[None]] = []  # a long request's keep-alive comments
        timer = loop.call_later(
            self.sse.keepalive, lambda: pinging.append(loop.create_task(self._ping(session, post)))
        )
        try:
            reply = await session.answer(body)
        except TransportError:  # the session ended, and the stream with it
            reply = None
        finally:
            timer.cancel()
            for task in pinging:
                task.cancel()
        if reply is not None:
            await session.emit(post, reply)
        session.close_post(post)
        await session.write(post, _END, last=True)

    async def _ping(self, session: LegacySession, post: PostStream) -> None:
        while True:
            await session.write(post, sse_ping())
            await asyncio.sleep(self.sse.keepalive)


def _progress_token(message: dict[str, Any]) -> Any:
    """The request's `_meta.progressToken`, or None when it asked for no progress."""
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta.get(PROGRESS_TOKEN) if isinstance(meta, dict) else None


async def _response(post: PostStream) -> bytes | None:
    """Wait for the POST's response (None if the session ended first)."""
    return await post.response


def _is_error(frame: bytes) -> bool:
    try:
        message = json.loads(frame)
    except ValueError:
        return True
    return not isinstance(message, dict) or "error" in message
