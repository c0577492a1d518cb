"""Where an OAuth client keeps what it registered and the tokens it got.

Layer: auth. Two kinds of record, both JSON objects under string keys:

- a **registration** per authorization server, keyed by its `issuer` (spec 2026-07-28
  client-registration §Authorization Server Binding: credentials MUST NOT be used with
  another server, so a server that changes issuer means registering again);
- **tokens** per issuer *and* resource (an access token is issued for one MCP server,
  RFC 8707), with the expiry as an absolute time so a restarted client knows.

`MemoryTokenStore` forgets at exit; `FileTokenStore` keeps one JSON file, readable by its
owner only (0600), written atomically, so the CLI can reuse tokens across runs.
"""

from __future__ import annotations

__all__ = ["FileTokenStore", "MemoryTokenStore", "TokenStore", "registration_key", "tokens_key"]

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol, final, runtime_checkable

import anyio


def registration_key(issuer: str) -> str:
    return f"client {issuer}"


def tokens_key(issuer: str, resource: str) -> str:
    return f"tokens {issuer} {resource}"


@runtime_checkable
class TokenStore(Protocol):
    """Records by key (see the module docstring); `save(key, None)` deletes."""

    async def load(self, key: str) -> dict[str, Any] | None: ...

    async def save(self, key: str, record: dict[str, Any] | None) -> None: ...


@final
class MemoryTokenStore:
    """A `TokenStore` in memory."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    async def load(self, key: str) -> dict[str, Any] | None:
        record = self.records.get(key)
        return dict(record) if record is not None else None

    async def save(self, key: str, record: dict[str, Any] | None) -> None:
        if record is None:
            self.records.pop(key, None)
        else:
            self.records[key] = dict(record)


@final
class FileTokenStore:
    """A `TokenStore` in one JSON file, mode 0600 (its directory is made 0700 if new)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = anyio.Lock()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}  # a damaged file: start over rather than refuse to work
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=1, sort_keys=True)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    async def load(self, key: str) -> dict[str, Any] | None:
        async with self._lock:
            record = self._read().get(key)
        return record if isinstance(record, dict) else None

    async def save(self, key: str, record: dict[str, Any] | None) -> None:
        async with self._lock:
            data = self._read()
            if record is None:
                data.pop(key, None)
            else:
                data[key] = record
            self._write(data)
