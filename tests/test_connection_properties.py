"""Property tests of the protocol core (hypothesis, no event loop)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.protocol.connection import Connection
from mcpkit.protocol.errors import FrameTooLarge
from mcpkit.protocol.events import (
    ErrorReceived,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
)
from mcpkit.protocol.framing import LineFramer
from tests.protocol_pair import Pair

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
methods = st.sampled_from(
    [
        "initialize",
        "ping",
        "tools/call",
        "tools/list",
        "server/discover",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/initialized",
        "sampling/createMessage",
        "x/custom",
    ]
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
        "id": st.one_of(st.integers(), st.text(max_size=4), st.none(), st.floats()),
        "method": methods,
        "params": json_values,
        "result": json_values,
        "error": json_values,
    },
)


def _connections() -> list[Connection]:
    fresh_server = Connection(is_client=False)
    pair = Pair()
    pair.initialize()
    return [fresh_server, Connection(is_client=True), pair.server, pair.client]


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=64), max_size=8))
def test_arbitrary_bytes_give_events_never_exceptions(chunks: list[bytes]) -> None:
    framer = LineFramer(max_size=128)
    for conn in _connections():
        for chunk in chunks:
            for frame in framer.feed(chunk + b"\n"):
                events = (
                    conn.receive_error(frame)
                    if isinstance(frame, FrameTooLarge)
                    else conn.receive(frame)
                )
                assert isinstance(events, list)


@settings(max_examples=400, deadline=None)
@given(message=st.one_of(envelopes, st.lists(envelopes, max_size=3), json_values))
def test_arbitrary_json_gives_events_never_exceptions(message: Any) -> None:
    frame = json.dumps(message).encode()
    for conn in _connections():
        for event in conn.receive(frame):
            if isinstance(event, ProtocolViolation) and event.reply is not None:
                reply = json.loads(event.reply)
                assert "error" in reply or isinstance(reply, list)


operations = st.lists(
    st.tuples(
        st.sampled_from(["send", "answer", "fail", "cancel", "late", "drop"]), st.integers(0, 20)
    ),
    max_size=40,
)


class Interleaving:
    """Drives a client/server pair through one random sequence, counting how requests end."""

    def __init__(self) -> None:
        self.pair = Pair()
        self.pair.initialize()
        self.sent: list[int] = []
        self.served: dict[int, RequestReceived] = {}
        self.endings: Counter[int] = Counter()

    def deliver(self, frame: bytes | None) -> None:
        for event in self.pair.client.receive(frame) if frame is not None else []:
            if isinstance(event, ResponseReceived | ErrorReceived):
                self.endings[int(event.id)] += 1

    def send(self) -> None:
        rid, event = self.pair.request("ping")
        self.sent.append(rid)
        self.served[rid] = event

    def answer(self, rid: int, ok: bool) -> None:
        handled = self.served[rid]
        if handled.id not in self.pair.server.requests.incoming:
            return
        if ok:
            self.deliver(self.pair.server.send_result(handled.id, {}))
        else:
            self.deliver(self.pair.server.send_error(handled.id, RuntimeError("x")))

    def cancel(self, rid: int) -> None:
        frame = self.pair.client.cancel(rid)
        if frame is not None:
            self.endings[rid] += 1
            self.pair.server.receive(frame)

    def drop(self, rid: int) -> None:
        if rid in self.pair.client.requests.outgoing:
            self.pair.client.abandon(rid)  # a timeout: ends it without telling the peer
            self.endings[rid] += 1

    def apply(self, op: str, n: int) -> None:
        if op == "send":
            self.send()
            return
        if not self.sent:
            return
        rid = self.sent[n % len(self.sent)]
        if op in ("answer", "fail"):
            self.answer(rid, op == "answer")
        elif op == "cancel":
            self.cancel(rid)
        elif op == "late":
            self.deliver(b'{"jsonrpc":"2.0","id":%d,"result":{}}' % rid)
        else:
            self.drop(rid)

    def close(self) -> None:
        for ended in self.pair.client.close():
            assert isinstance(ended, ErrorReceived)
            self.endings[int(ended.id)] += 1


@settings(max_examples=300, deadline=None)
@given(ops=operations, close_at_end=st.booleans())
def test_every_request_ends_exactly_once(ops: list[tuple[str, int]], close_at_end: bool) -> None:
    run = Interleaving()
    for op, n in ops:
        run.apply(op, n)
    if close_at_end:
        run.close()
    assert len(set(run.sent)) == len(run.sent), "request ids must be unique"
    still_open = set(run.pair.client.requests.outgoing)
    for rid in run.sent:
        assert run.endings[rid] + (rid in still_open) == 1, (rid, run.endings[rid])
