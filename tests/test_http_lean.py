"""The lean HTTP/1.1 wire (`transports/http_lean.py`) and the choice of wire (`http_wire`).

Every test talks to a real server on 127.0.0.1: uvicorn for well-formed HTTP (with TLS from a
certificate made here), and a raw asyncio TCP server for what uvicorn would never send
(malformed heads, bodies that end when the connection does, a connection dropped mid-body).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from mcpkit.transports.http_lean import LeanWire
from mcpkit.transports.http_wire import HttpxWire, WireConnectError, WireError, open_wire
from tests.http_harness import free_port, raw_server, read_head, scripted, serve_app

pytestmark = pytest.mark.anyio
TIMEOUT = 10


def wire() -> LeanWire:
    return LeanWire(connect_timeout=TIMEOUT)


async def echo(request: Request) -> Response:
    """Says what it got: method, path, a few headers, the body, and the client's port."""
    body = await request.body()
    client = request.client
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "body": body.decode(),
            "authorization": request.headers.get("authorization"),
            "host": request.headers.get("host"),
            "length": request.headers.get("content-length"),
            "port": client.port if client else None,
        }
    )


async def test_a_post_and_its_json_answer_then_the_connection_is_reused() -> None:
    lean = wire()
    async with serve_app(scripted(echo), lifespan="off") as base:
        ports = []
        for number in range(3):
            sent = f'{{"n": {number}}}'
            response = await lean.open("POST", f"{base}/x?y=1", {"A": "b"}, sent.encode())
            assert response.status == 200 and response.reason == "OK"
            assert response.headers["content-type"] == "application/json"
            seen = httpx.Response(200, content=await response.read()).json()
            await response.aclose()
            assert seen["method"] == "POST" and seen["path"] == "/x" and seen["query"] == "y=1"
            assert seen["body"] == sent and seen["length"] == str(len(sent))
            assert seen["host"] == base.removeprefix("http://")
            ports.append(seen["port"])
        assert len(set(ports)) == 1  # one kept-alive connection for all three
    await lean.aclose()


async def test_a_response_left_unread_closes_its_connection_instead_of_reusing_it() -> None:
    async def big(request: Request) -> Response:
        if request.url.path == "/port":
            return await echo(request)
        return PlainTextResponse("x" * 200_000)

    lean = wire()
    async with serve_app(scripted(big), lifespan="off") as base:
        first = await lean.open("GET", f"{base}/port", {})
        port = httpx.Response(200, content=await first.read()).json()["port"]
        await first.aclose()
        unread = await lean.open("GET", f"{base}/big", {})
        await unread.aclose()  # body not read: the next request must not find it
        again = await lean.open("GET", f"{base}/port", {})
        assert httpx.Response(200, content=await again.read()).json()["port"] != port
        await again.aclose()
    await lean.aclose()


async def test_a_chunked_stream_arrives_piece_by_piece_and_megabytes_flow_through() -> None:
    gate = anyio.Event()

    async def stream(request: Request) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            yield b"first\n"
            await gate.wait()
            for _ in range(40):
                yield b"y" * 100_000  # 4 MB: more than the wire buffers before pausing

        return StreamingResponse(pieces(), media_type="text/event-stream")

    lean = wire()
    async with serve_app(scripted(stream), lifespan="off") as base:
        with anyio.fail_after(TIMEOUT):
            response = await lean.open("GET", base, {})
            assert response.headers["transfer-encoding"] == "chunked"
            chunks = response.chunks()
            assert await chunks.__anext__() == b"first\n"  # before the rest exists
            gate.set()
            total = 0
            async for chunk in chunks:
                total += len(chunk)
                await anyio.lowlevel.checkpoint()  # a slow reader: the socket pauses and resumes
            assert total == 4_000_000
            await response.aclose()
    await lean.aclose()


async def test_redirects_keep_a_post_on_307_turn_it_into_a_get_on_303_and_can_be_refused() -> None:
    async def handler(request: Request) -> Response:
        if request.url.path == "/temporary":
            return RedirectResponse("/target", status_code=307)
        if request.url.path == "/see-other":
            return RedirectResponse("/target", status_code=303)
        return await echo(request)

    lean = wire()
    async with serve_app(scripted(handler), lifespan="off") as base:
        kept = await lean.open("POST", f"{base}/temporary", {"Authorization": "Bearer t"}, b"{}")
        seen = httpx.Response(200, content=await kept.read()).json()
        assert (seen["method"], seen["body"], seen["authorization"]) == ("POST", "{}", "Bearer t")
        assert kept.url == f"{base}/target"
        turned = await lean.open("POST", f"{base}/see-other", {}, b"{}")
        seen = httpx.Response(200, content=await turned.read()).json()
        assert (seen["method"], seen["body"]) == ("GET", "")
        refused = await lean.open("POST", f"{base}/temporary", {}, b"{}", follow_redirects=False)
        assert refused.status == 307 and refused.headers["location"] == "/target"
        for response in (kept, turned, refused):
            await response.aclose()
    await lean.aclose()


async def test_a_redirect_to_another_origin_does_not_carry_the_authorization_header() -> None:
    lean = wire()
    async with serve_app(scripted(echo), lifespan="off") as other:

        async def away(request: Request) -> Response:
            return RedirectResponse(f"{other}/landed", status_code=307)

        async with serve_app(scripted(away), lifespan="off") as base:
            response = await lean.open("POST", base, {"Authorization": "Bearer secret"}, b"{}")
            seen = httpx.Response(200, content=await response.read()).json()
            assert seen["path"] == "/landed" and seen["authorization"] is None
            await response.aclose()
    await lean.aclose()


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "nul\0"])
async def test_a_header_value_that_would_split_the_request_is_refused(value: str) -> None:
    with pytest.raises(WireError, match="'X-Test' holds a line break or NUL"):
        await wire().open("GET", "http://127.0.0.1:9/", {"X-Test": value})
    with pytest.raises(WireError, match="request line"):
        await wire().open("GET", "http://127.0.0.1:9/a\0b", {})


async def test_a_refused_connection_is_a_connect_error() -> None:
    with pytest.raises(WireConnectError, match="cannot connect"):
        await wire().open("GET", f"http://127.0.0.1:{free_port()}/", {})


async def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(WireError, match="not an http"):
        await wire().open("GET", "ftp://127.0.0.1/", {})


async def test_a_body_without_length_ends_when_the_server_closes() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        await writer.drain()

    async with raw_server(script) as base:
        response = await wire().open("GET", base, {})
        assert await response.read() == b"all of it"


async def test_a_malformed_response_is_a_wire_error() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTCPCP/1.0 418 I'm a teapot\r\n\r\n")
        await writer.drain()

    async with raw_server(script) as base:
        with pytest.raises(WireError, match="malformed HTTP response"):
            await wire().open("GET", base, {})


async def test_a_connection_dropped_mid_body_is_a_wire_error_for_the_reader() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
        await writer.drain()

    async with raw_server(script) as base:
        response = await wire().open("GET", base, {})
        with pytest.raises(WireError, match="closed before the response ended"):
            await response.read()


async def test_an_idle_connection_the_server_closed_is_replaced_and_the_request_sent_once() -> None:
    requests: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await read_head(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()  # then close, without saying so: the client keeps it idle

    lean = wire()
    async with raw_server(script) as base:
        for _ in range(3):
            response = await lean.open("GET", base, {})
            assert await response.read() == b"ok"
            await anyio.sleep(0.05)
    assert len(requests) == 3
    await lean.aclose()


async def test_informational_responses_before_the_answer_are_skipped() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone")
        await writer.drain()

    async with raw_server(script) as base:
        response = await wire().open("GET", base, {})
        assert response.status == 200 and "link" not in response.headers
        assert await response.read() == b"done"


async def test_the_head_has_one_of_each_default_and_repeated_answer_headers_are_joined() -> None:
    heads: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await read_head(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nX-Twice: a\r\nContent-Length: 2\r\nx-twice: b\r\n\r\nok")
        await writer.drain()

    async with raw_server(script) as base:
        response = await wire().open("GET", base, {"user-agent": "mine/1", "Host": "elsewhere"})
        assert response.headers["x-twice"] == "a, b"
        assert await response.read() == b"ok"
    lines = heads[0].decode("latin-1").lower().split("\r\n")
    assert [line for line in lines if line.startswith("user-agent:")] == ["user-agent: mine/1"]
    assert [line for line in lines if line.startswith("host:")] == [
        "host: 127.0.0.1:" + base.rsplit(":", 1)[1]
    ]
    assert lines.count("accept-encoding: identity") == 1


async def test_each_request_carries_its_own_headers_and_length_when_heads_are_kept() -> None:
    """The wire keeps the header blocks it made (a client repeats its headers on every
    call); a header that changes (a new token, a new session) must reach the next request,
    the length must be each body's, and the kept blocks must stay few."""
    heads: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await read_head(reader)
            except asyncio.IncompleteReadError:
                return
            length = [x for x in head.split(b"\r\n") if x.lower().startswith(b"content-length")]
            if length:
                await reader.readexactly(int(length[0].split(b":")[1]))
            heads.append(head)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    lean = wire()
    sent = [
        ("POST", {"Authorization": "Bearer one"}, b"{}"),
        ("POST", {"Authorization": "Bearer one"}, b"[1, 2]"),
        ("POST", {"Authorization": "Bearer two"}, b"{}"),
        ("GET", {"Authorization": "Bearer two"}, None),
        *(("POST", {"Mcp-Session-Id": f"s{n}"}, b"{}") for n in range(100)),
    ]
    async with raw_server(script) as base:
        for method, headers, body in sent:
            response = await lean.open(method, base, headers, body)
            assert await response.read() == b"ok"
        with pytest.raises(WireError, match="line break"):
            await lean.open("POST", base, {"Authorization": "Bearer one\r\nX: y"}, b"{}")
    await lean.aclose()
    assert len(heads) == len(sent)
    for head, (method, headers, body) in zip(heads, sent, strict=True):
        text = head.decode("latin-1")
        assert text.startswith(f"{method} / HTTP/1.1\r\n")
        for name, value in headers.items():
            assert f"\r\n{name}: {value}\r\n" in text
        length = [line for line in text.split("\r\n") if line.startswith("Content-Length")]
        assert length == ([] if body is None else [f"Content-Length: {len(body)}"])
    assert len(lean._heads) <= 64


async def test_a_cancelled_request_closes_its_connection() -> None:
    closed = anyio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await reader.read()  # never answers; returns when the client hangs up
        closed.set()

    async with raw_server(script) as base:
        with anyio.move_on_after(0.1):
            await wire().open("GET", base, {})
        with anyio.fail_after(TIMEOUT):
            await closed.wait()


# ---- TLS ----------------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def test_https_verifies_the_server_and_refuses_one_it_cannot_trust(tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    tls = {"ssl_certfile": str(cert_file), "ssl_keyfile": str(key_file)}
    async with serve_app(scripted(echo), lifespan="off", **tls) as base:
        assert base.startswith("https://")
        trusting = LeanWire(
            connect_timeout=TIMEOUT, ssl_context=ssl.create_default_context(cafile=cert_file)
        )
        response = await trusting.open("POST", base, {}, b"over tls")
        assert httpx.Response(200, content=await response.read()).json()["body"] == "over tls"
        await response.aclose()
        await trusting.aclose()
        with pytest.raises(WireConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await wire().open("GET", base, {})  # certifi's roots do not know this one


# ---- which wire ---------------------------------------------------------------------------


async def test_open_wire_is_lean_unless_a_client_is_given_or_a_proxy_applies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    assert isinstance(open_wire("http://127.0.0.1:1/mcp", 5), LeanWire)
    async with httpx.AsyncClient() as client:
        given = open_wire("http://127.0.0.1:1/mcp", 5, client)
        assert isinstance(given, HttpxWire) and given.client is client
        await given.aclose()
        assert not client.is_closed  # the caller's client is the caller's to close
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    proxied = open_wire("https://mcp.example.com/mcp", 5)
    assert isinstance(proxied, HttpxWire)
    await proxied.aclose()
    assert isinstance(open_wire("https://internal.example/mcp", 5), LeanWire)
    assert isinstance(open_wire("http://mcp.example.com/mcp", 5), LeanWire)  # HTTPS only
