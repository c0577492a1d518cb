"""Legacy Streamable HTTP resumability: priming events, event ids, `Last-Event-ID`, SSE
polling and keep-alives, over real uvicorn + httpx; and `MemoryEventStore`'s bounds."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

from mcpkit.stores import EventStore, MemoryEventStore
from tests.test_http_server import ACCEPT_BOTH, LEGACY, Endpoint, legacy, open_session, serving

pytestmark = pytest.mark.anyio


def events(text: str) -> list[dict[str, str]]:
    """The SSE events of `text`: each field's value (`data` lines joined), comments as `:`."""
    found: list[dict[str, str]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event: dict[str, str] = {}
        for line in filter(None, block.split("\n")):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            event[name or ":"] = event[name] + "\n" + value if name in event else value
        if event:
            found.append(event)
    return found


async def read_events(response: httpx.Response, until_id: Any) -> list[dict[str, str]]:
    """Read SSE events until the JSON-RPC response with `until_id` (bounded)."""
    text = ""
    with anyio.fail_after(5):
        async for chunk in response.aiter_text():
            text += chunk
            done = [e for e in events(text) if e.get("data") and _id(e) == until_id]
            if done and text.endswith("\n\n"):
                break
    return events(text)


def _id(event: dict[str, str]) -> Any:
    return json.loads(event["data"]).get("id")


def heads(session_id: str, **more: str) -> dict[str, str]:
    named = {k.replace("_", "-"): v for k, v in more.items()}
    return {"mcp-session-id": session_id, "mcp-protocol-version": LEGACY, **named}


def call(rid: int, name: str, arguments: dict[str, Any]) -> bytes:
    return json.dumps(legacy("tools/call", rid, {"name": name, "arguments": arguments})).encode()


async def test_post_stream_is_primed_and_every_event_has_a_unique_id() -> None:
    async with serving(retry_ms=1234) as ep:
        sid = await open_session(ep)
        body = json.dumps(
            legacy(
                "tools/call", 3, {"name": "chatty", "arguments": {}, "_meta": {"progressToken": 1}}
            )
        )
        response = await ep.client.post(
            "/mcp", content=body, headers=heads(sid, accept=ACCEPT_BOTH)
        )
        found = events(response.text)
        assert found[0]["id"] and found[0]["retry"] == "1234" and found[0]["data"] == ""
        assert all("id" in e for e in found)
        ids = [e["id"] for e in found]
        assert len(set(ids)) == len(ids) > 3
        seqs = [int(i.rpartition(":")[2]) for i in ids]
        assert seqs == sorted(seqs) and len({i.rpartition(":")[0] for i in ids}) == 1
        assert _id(found[-1]) == 3


async def resume(ep: Endpoint, sid: str, last_id: str, until_id: Any) -> list[dict[str, str]]:
    get_heads = heads(sid, accept="text/event-stream", last_event_id=last_id)
    async with ep.client.stream("GET", "/mcp", headers=get_heads) as resumed:
        assert resumed.status_code == 200
        return await read_events(resumed, until_id)


async def test_broken_post_stream_resumes_with_last_event_id() -> None:
    async with serving() as ep:
        sid = await open_session(ep)
        post_heads = heads(sid, accept=ACCEPT_BOTH)
        message = legacy(
            "tools/call",
            5,
            {
                "name": "ticking",
                "arguments": {"ticks": 3, "interval": 0.1},
                "_meta": {"progressToken": 1},
            },
        )
        body = json.dumps(message).encode()
        async with ep.client.stream("POST", "/mcp", content=body, headers=post_heads) as post:
            text = ""
            with anyio.fail_after(5):
                async for chunk in post.aiter_text():
                    text += chunk
                    if any(e.get("data") for e in events(text)) and text.endswith("\n\n"):
                        break  # a progress event arrived: break the stream mid-call
        last_id = events(text)[-1]["id"]
        replayed = await resume(ep, sid, last_id, 5)
        frames = [json.loads(e["data"]) for e in replayed if e.get("data")]
        assert frames[-1]["result"]["content"][0]["text"] == "ticked"
        seq = int(last_id.rpartition(":")[2])
        assert all(int(e["id"].rpartition(":")[2]) > seq for e in replayed)
        assert {e["id"] for e in replayed}.isdisjoint({e["id"] for e in events(text)})


async def test_sse_polling_closes_after_priming_and_delivers_on_resume() -> None:
    def poll(message: dict[str, Any]) -> bool:
        return bool(message.get("params", {}).get("name") == "slow")

    async with serving(sse_poll=poll, retry_ms=50) as ep:
        sid = await open_session(ep)
        response = await ep.client.post(
            "/mcp",
            content=call(6, "slow", {"seconds": 0.2}),
            headers=heads(sid, accept=ACCEPT_BOTH),
        )
        (priming,) = events(response.text)
        assert priming["retry"] == "50" and priming["data"] == ""
        replayed = await resume(ep, sid, priming["id"], 6)
        assert json.loads(replayed[-1]["data"])["result"]["content"][0]["text"] == "slept"
        again = await resume(ep, sid, priming["id"], 6)  # the stream can be replayed again
        assert again == replayed


async def test_get_stream_replays_after_reconnect() -> None:
    async with serving() as ep:
        sid = await open_session(ep)
        get_heads = heads(sid, accept="text/event-stream")
        async with ep.client.stream("GET", "/mcp", headers=get_heads) as stream:
            ep.app.server.add_tool(lambda: "x", name="first_tool")
            seen = await read_events(stream, None)
        first = next(e for e in seen if e.get("data"))
        ep.app.server.add_tool(lambda: "y", name="second_tool")  # while no GET is open
        ep.app.server.add_tool(lambda: "z", name="third_tool")
        replayed = await resume(ep, sid, first["id"], None)
        data = [e for e in replayed if e.get("data")]
        assert data and first["id"] not in {e["id"] for e in data}
        assert json.loads(data[0]["data"])["method"] == "notifications/tools/list_changed"


async def test_what_the_server_sent_before_the_first_get_is_delivered_when_it_opens() -> None:
    """A client that opens its GET stream a moment after `initialized` (a race every fast
    client runs) still gets the requests and notifications the server sent meanwhile."""
    async with serving() as ep:
        sid = await open_session(ep)
        ep.app.server.add_tool(lambda: "x", name="early_tool")  # no GET stream yet
        get_heads = heads(sid, accept="text/event-stream")
        async with ep.client.stream("GET", "/mcp", headers=get_heads) as stream:
            seen = await read_events(stream, None)
        data = [json.loads(e["data"]) for e in seen if e.get("data")]
        assert data[0]["method"] == "notifications/tools/list_changed"


async def test_unknown_last_event_id_is_404_and_other_sessions_ids_are_refused() -> None:
    async with serving() as ep:
        sid, other = await open_session(ep), await open_session(ep)
        response = await ep.client.post(
            "/mcp", content=call(2, "add", {"a": 1, "b": 2}), headers=heads(sid, accept=ACCEPT_BOTH)
        )
        theirs = events(response.text)[0]["id"]
        for session, last in ((sid, "nope:1"), (other, theirs)):
            get = await ep.client.get(
                "/mcp", headers=heads(session, accept="text/event-stream", last_event_id=last)
            )
            assert get.status_code == 404


async def test_idle_get_stream_gets_keepalive_comments() -> None:
    async with serving(sse_keepalive=0.05) as ep:
        sid = await open_session(ep)
        async with ep.client.stream(
            "GET", "/mcp", headers=heads(sid, accept="text/event-stream")
        ) as s:
            assert s.headers["x-accel-buffering"] == "no"
            text = ""
            with anyio.fail_after(5):
                async for chunk in s.aiter_text():
                    text += chunk
                    if ": ping" in text:
                        break


async def test_a_long_post_stream_gets_keepalive_comments_then_its_answer() -> None:
    """A POST's SSE stream idle for longer than the keep-alive gets `: ping` comments while
    its request runs (proxies close silent streams), then the response, then its end."""
    async with serving(sse_keepalive=0.05) as ep:
        sid = await open_session(ep)
        response = await ep.client.post(
            "/mcp",
            content=call(8, "slow", {"seconds": 0.3}),
            headers=heads(sid, accept=ACCEPT_BOTH),
        )
        found = events(response.text)
        pings = [e for e in found if ":" in e]
        assert len(pings) >= 2 and found[0]["data"] == "" and ":" not in found[-1]
        assert json.loads(found[-1]["data"])["result"]["content"][0]["text"] == "slept"
        assert not ep.app.sessions.sessions[sid].busy


async def test_memory_store_bounds_and_ids() -> None:
    store = MemoryEventStore(max_events=3, max_streams=2)
    assert isinstance(store, EventStore)
    ids = [await store.store("a", f"m{i}".encode()) for i in range(5)]
    assert len(set(ids)) == 5 and ids[0] == "a:0"
    replay = await store.replay_after(ids[3])
    assert replay is not None and replay.stream_id == "a" and replay.events == [(ids[4], b"m4")]
    gap = await store.replay_after(ids[0])  # m1 was dropped: what is kept comes back
    assert gap is not None and [m for _, m in gap.events] == [b"m2", b"m3", b"m4"]
    assert await store.replay_after("a:99") is None and await store.replay_after("junk") is None
    b_id = await store.store("b", b"x")
    await store.store("c", b"y")  # the third stream evicts the least recently written ("a")
    assert len(store) == 2 and await store.replay_after(ids[4]) is None
    assert await store.replay_after(b_id) is not None
    with pytest.raises(ValueError, match="must not contain"):
        await store.store("x:y", b"")
    with pytest.raises(ValueError, match="at least 1"):
        MemoryEventStore(max_events=0)


async def test_a_follower_cancelled_mid_wait_leaves_the_others_waiting() -> None:
    """Followers of one log share its `changed` future; each waits through its own, so one
    whose client left (cancelled) cannot cancel it under the others, and a wait times out
    to False (the keep-alive)."""
    from mcpkit.server.http_streams import EventLog, changed_within

    log, store = EventLog(), MemoryEventStore()
    changed = log.changed
    woken: list[bool] = []

    async def wait(limit: float) -> None:
        woken.append(await changed_within(changed, limit))

    async with anyio.create_task_group() as tg:
        leaving = anyio.CancelScope()

        async def leaves() -> None:
            with leaving:
                await changed_within(changed, 10)

        tg.start_soon(leaves)
        tg.start_soon(wait, 10)
        await anyio.sleep(0.01)
        leaving.cancel()
        await anyio.sleep(0.01)
        assert not changed.cancelled()
        await log.append(store, b"{}")
    assert woken == [True]
    assert await changed_within(log.changed, 0.01) is False
