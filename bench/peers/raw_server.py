"""A raw MCP echo server with no SDK: the floor the client-side benchmark runs against.

    python bench/peers/raw_server.py                      stdio (a blocking line loop)
    python bench/peers/raw_server.py --http --port N      Streamable HTTP, JSON bodies, no sessions

It answers what a well-behaved dual-era server answers for the workload (`initialize`,
`server/discover`, `tools/list`, `tools/call` echo/add, `ping`) and nothing else: no
validation, no sessions, no tasks. Whatever a client costs on top of this is its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

LEGACY = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN = "2026-07-28"
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
SERVER_INFO = {"name": "raw-bench", "version": "1"}
OBJECT = "object"
TOOLS = [
    {
        "name": "echo",
        "description": "Echo the text back.",
        "inputSchema": {
            "type": OBJECT,
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    },
    {
        "name": "add",
        "description": "Add two integers.",
        "inputSchema": {
            "type": OBJECT,
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
        "outputSchema": {
            "type": OBJECT,
            "properties": {"result": {"type": "integer"}},
            "required": ["result"],
        },
    },
]
CACHE = {"ttlMs": 0, "cacheScope": "public"}

encode = msgspec.json.encode
decode = msgspec.json.decode


def _call(params: dict[str, Any]) -> dict[str, Any]:
    arguments = params.get("arguments") or {}
    if params.get("name") == "add":
        total = arguments["a"] + arguments["b"]
        text = [{"type": "text", "text": str(total)}]
        return {"content": text, "structuredContent": {"result": total}}
    return {"content": [{"type": "text", "text": arguments.get("text", "")}]}


def _result(method: str, params: dict[str, Any], modern: bool) -> dict[str, Any] | None:
    if method == "tools/call":
        return _call(params)
    if method == "tools/list":
        return {"tools": TOOLS, **CACHE} if modern else {"tools": TOOLS}
    if method == "ping":
        return {}
    if method == "server/discover":
        caps = {"tools": {"listChanged": False}}
        return {"supportedVersions": [MODERN], "capabilities": caps, **CACHE}
    if method == "initialize" and not modern:
        wanted = params.get("protocolVersion")
        return {
            "protocolVersion": wanted if wanted in LEGACY else LEGACY[-1],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": SERVER_INFO,
        }
    return None


def answer(message: Any) -> dict[str, Any] | None:
    """The response to one message; None for notifications and responses."""
    if not isinstance(message, dict) or "method" not in message or "id" not in message:
        return None
    params = message.get("params") or {}
    meta = params.get("_meta")
    modern = isinstance(meta, dict) and VERSION_KEY in meta
    result = _result(message["method"], params, modern)
    if result is None:
        error = {"code": -32601, "message": f"method not found: {message['method']}"}
        return {"jsonrpc": "2.0", "id": message["id"], "error": error}
    if modern:
        result = {**result, "resultType": "complete", "_meta": {SERVER_INFO_KEY: SERVER_INFO}}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def serve_stdio() -> None:
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        response = answer(decode(line))
        if response is not None:
            out.write(encode(response) + b"\n")
            out.flush()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The HTTP endpoint (any path): one JSON-RPC message per POST, a JSON answer or 202."""
    if scope["type"] == "lifespan":
        while True:
            kind = (await receive())["type"]  # lifespan.startup, then lifespan.shutdown
            await send({"type": kind + ".complete"})
            if kind == "lifespan.shutdown":
                return
    chunks = []
    more = True
    while more:
        event = await receive()
        chunks.append(event.get("body", b""))
        more = event.get("more_body", False)
    response = answer(decode(b"".join(chunks))) if scope["method"] == "POST" else None
    body = b"" if response is None else encode(response)
    status = 200 if response is not None else 202 if scope["method"] == "POST" else 405
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description="A raw MCP echo server (no SDK).")
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if not args.http:
        serve_stdio()
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from serving import serve

    serve(app, args.port)


if __name__ == "__main__":
    main()
