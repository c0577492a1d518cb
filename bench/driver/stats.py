"""The load loop's bookkeeping, and the few statistics the report needs.

A load makes `n` calls with a fixed number in flight: every answer is checked and, while the
count and the time bound allow, immediately replaced by the next call (from the callback
that received it, so the driver adds no task switch per call).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
now_ns = time.perf_counter_ns


def resolver(future: asyncio.Future[T]) -> Callable[[T], None]:
    """A callback completing `future` with its argument (calls after the first are ignored)."""

    def resolve(value: T) -> None:
        if not future.done():
            future.set_result(value)

    return resolve


def percentile(ordered: list[int], q: float) -> int:
    """Nearest-rank percentile of an already sorted list."""
    k = round(q * (len(ordered) - 1))
    return ordered[min(len(ordered) - 1, max(0, k))]


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


class Tally:
    """Counts one load: calls sent and answered, wrong answers, latencies, the end."""

    def __init__(self, n: int, max_s: float) -> None:
        self.n = n
        self.sent = 0
        self.done = 0
        self.errors = 0
        self.latencies: list[int] = []
        self.deadline = now_ns() + int(max_s * 1e9)
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.started_ns = 0
        self.ended_ns = 0
        self.broken = False

    def take(self) -> int | None:
        """The index of the next call to send, or None when the load is complete."""
        if self.broken or self.sent >= self.n or (self.sent and now_ns() > self.deadline):
            return None
        self.sent += 1
        return self.sent - 1

    def answered(self, sent_ns: int, ok: bool) -> int | None:
        """Record an answer; returns the index of the call to send in its place, if any."""
        self.latencies.append(now_ns() - sent_ns)
        self.done += 1
        self.errors += not ok
        following = self.take()
        if following is None and self.done >= self.sent:
            self._finish()
        return following

    def lost(self, count: int) -> None:
        """`count` calls will never be answered (the server went away)."""
        self.broken = True
        self.done += count
        self.errors += count
        if self.done >= self.sent:
            self._finish()

    def _finish(self) -> None:
        if not self.finished.done():
            self.ended_ns = now_ns()
            self.finished.set_result(None)

    async def run(self, send: Callable[[int], None], window: int, slack_s: float = 30.0) -> None:
        """Send the first `window` calls (`send(index)`) and wait for the load to end; the
        transport's answer callback sends the rest (`answered` says which)."""
        self.started_ns = now_ns()
        for _ in range(window):
            index = self.take()
            if index is None:
                break
            send(index)
        remaining = (self.deadline - now_ns()) / 1e9 + slack_s
        try:
            await asyncio.wait_for(asyncio.shield(self.finished), max(remaining, 1.0))
        except TimeoutError:
            self.lost(self.sent - self.done)
            self._finish()

    def summary(self) -> dict[str, Any]:
        wall = max(self.ended_ns - self.started_ns, 1) / 1e9
        ordered = sorted(self.latencies)
        out: dict[str, Any] = {
            "calls": self.done,
            "errors": self.errors,
            "wall_s": round(wall, 4),
            "calls_per_s": round((self.done - self.errors) / wall, 1),
            "truncated": self.sent < self.n,
        }
        if ordered:
            out["p50_us"] = round(percentile(ordered, 0.50) / 1000, 1)
            out["p99_us"] = round(percentile(ordered, 0.99) / 1000, 1)
        return out
