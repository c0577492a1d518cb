"""The one uvicorn configuration every Python HTTP server of the benchmark runs under.

mcpkit's bench server and the official SDK's peer differ only in their ASGI app: uvloop and
httptools when installed (as with `uvicorn[standard]`), access log off, log level warning.
`BENCH_UVICORN_LOOP` (auto|asyncio|uvloop) and `BENCH_UVICORN_HTTP` (auto|h11|httptools)
override the choice for both, the same variables the shared harness's peers read.
"""

from __future__ import annotations

import os
from typing import Any


def serve(app: Any, port: int, host: str = "127.0.0.1") -> None:
    """Serve an ASGI app on host:port until SIGTERM/SIGINT (blocking)."""
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        loop=os.environ.get("BENCH_UVICORN_LOOP", "auto"),
        http=os.environ.get("BENCH_UVICORN_HTTP", "auto"),
        log_level=os.environ.get("BENCH_UVICORN_LOG", "warning"),
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
