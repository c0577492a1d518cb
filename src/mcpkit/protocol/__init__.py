"""The sans-I/O protocol core: wire types, codec, method table, eras, lifecycle, sealing, errors.

Layer: protocol, the bottom of mcpkit. Nothing here touches sockets, pipes, clocks or the event
loop, and importing it loads no anyio, httpx, starlette or uvicorn (a test proves it): bytes go
into a `connection.Connection`, events come out, and whatever runs the I/O sends the bytes it
returns. Start with `connection.py`; `errors.py` draws the exception tree.
"""
