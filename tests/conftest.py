"""Fixtures every test may use: the schema referee and the anyio backend.

Layer: tests. `frame_validator` is a fresh `FrameValidator` per test (one conversation each;
the parsed schemas and compiled validators are cached across tests). `validating(transport,
side)` wraps a transport so every frame through it is schema-checked, and fails the test at
teardown if a bad frame was swallowed by the code under test. `anyio_backend` makes
`@pytest.mark.anyio` tests run on asyncio only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcpkit.testing import SCHEMA_DIR_ENV, FrameValidator, Side, ValidatingTransport
from mcpkit.transports.base import Transport

SPEC_DIR = Path(__file__).parent / "spec"

Validating = Callable[[Transport, Side], ValidatingTransport]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def frame_validator() -> FrameValidator:
    return FrameValidator(Path(os.environ.get(SCHEMA_DIR_ENV) or SPEC_DIR))


@pytest.fixture
def validating(frame_validator: FrameValidator) -> Iterator[Validating]:
    made: list[ValidatingTransport] = []

    def wrap(transport: Transport, side: Side) -> ValidatingTransport:
        made.append(ValidatingTransport(transport, frame_validator, side=side))
        return made[-1]

    yield wrap
    failures = [failure for transport in made for failure in transport.failures]
    if failures:
        pytest.fail(f"{len(failures)} bad frame(s), first:\n{failures[0]}", pytrace=False)
