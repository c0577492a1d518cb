"""Newline-delimited framing for the stdio transport, as a sans-I/O state machine.

Layer: protocol (sans-I/O). It turns an arbitrary chunking of a byte stream into whole lines.
It must not do I/O, touch clocks, import anyio, or parse JSON: the transport feeds it bytes
and the protocol layer decides what a line means.

Guarantees:

* Linear time: each fed chunk is searched for `\\n` once; the buffer is never re-scanned.
* Bounded memory: at most `max_size + 1` bytes of an unfinished line are held. A longer
  line is dropped as it streams past (only its length is counted) and is reported as one
  `FrameTooLarge` in its place, so a peer sending a 1 GB line cannot exhaust memory.
* Chunking does not matter: feeding a stream in any pieces yields the same items as feeding
  it at once (the `FrameTooLarge` for a line carries its full length, counted at its end).
* Any bytes are accepted; nothing here raises for bad input.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_FRAME", "FrameItem", "LineFramer"]

from mcpkit.protocol.errors import FrameTooLarge

DEFAULT_MAX_FRAME = 16 * 1024 * 1024
"""The default frame size limit (16 MiB): generous for real messages, small enough to hold."""

FrameItem = bytes | FrameTooLarge
"""What the framer yields: a frame's bytes, or the error standing in for an oversize line."""


class LineFramer:
    """Split a byte stream into lines: `\\n` ends a line, one trailing `\\r` is dropped.

    Blank and whitespace-only lines are skipped: they carry no message, and some peers emit
    them as keep-alives. A line longer than `max_size` (after dropping the `\\r`) becomes a
    single `FrameTooLarge` so the connection can report it and carry on.
    """

    def __init__(self, max_size: int = DEFAULT_MAX_FRAME) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._buf = bytearray()
        # While skipping an oversize line: how many of its bytes went by (else None).
        self._skipped: int | None = None

    def feed(self, data: bytes) -> list[FrameItem]:
        """Take the next chunk of the stream; return the items completed by it, in order."""
        if (
            not self._buf
            and self._skipped is None
            and data[-1:] == b"\n"
            and len(data) <= self.max_size
        ):  # the usual chunk: whole lines, none of them too long (the chunk is not)
            if data.find(b"\n") == len(data) - 1:  # one line (splitting costs twice this)
                line = data[:-1].removesuffix(b"\r")
                return [line] if line.strip() else []
            lines = data.split(b"\n")
            if data.find(b"\r") >= 0:  # (`in` first tries b"\r" as an int: an error per call)
                lines = [line.removesuffix(b"\r") for line in lines]
            # (kept: the lines `bytes.strip` leaves something of, i.e. all but blank ones)
            return [*filter(bytes.strip, lines)]
        out: list[FrameItem] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                self._hold(data, start)
                return out
            self._finish(data, start, end, out)
            start = end + 1

    def end(self) -> list[FrameItem]:
        """The stream ended: a final unterminated line still counts. Resets the framer."""
        out: list[FrameItem] = []
        if self._skipped is not None:
            out.append(FrameTooLarge(self._skipped, self.max_size))
        elif self._buf:
            if self._too_large(len(self._buf), self._buf[-1]):
                out.append(FrameTooLarge(len(self._buf), self.max_size))
            else:
                self._emit(bytes(self._buf), out)
        self._buf.clear()
        self._skipped = None
        return out

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line currently held (for tests and diagnostics)."""
        return len(self._buf)

    def _hold(self, data: bytes, start: int) -> None:
        """Keep the unterminated tail `data[start:]`, or just count it once it is oversize.

        One byte over the limit is allowed while holding: it may be a `\\r` that the coming
        `\\n` turns into a line terminator.
        """
        size = len(data) - start
        if self._skipped is not None:
            self._skipped += size
        elif len(self._buf) + size > self.max_size + 1:
            self._skipped = len(self._buf) + size
            self._buf.clear()
        elif size:
            self._buf += data[start:]

    def _finish(self, data: bytes, start: int, end: int, out: list[FrameItem]) -> None:
        """Complete the line that `data[end]` (a newline) terminates."""
        if self._skipped is not None:
            out.append(FrameTooLarge(self._skipped + end - start, self.max_size))
            self._skipped = None
            return
        size = len(self._buf) + end - start
        if size > self.max_size:
            last = data[end - 1] if end > start else self._buf[-1]
            if self._too_large(size, last):
                out.append(FrameTooLarge(size, self.max_size))
                self._buf.clear()
                return
        if self._buf:
            self._buf += data[start:end]
            line = bytes(self._buf)
            self._buf.clear()
        else:
            line = bytes(data[start:end])
        self._emit(line, out)

    def _too_large(self, size: int, last: int) -> bool:
        """Whether a line of `size` raw bytes ending in byte `last` exceeds the limit."""
        content = size - 1 if last == 0x0D else size
        return content > self.max_size

    @staticmethod
    def _emit(line: bytes, out: list[FrameItem]) -> None:
        """Append `line` minus one trailing `\\r`, unless it is blank."""
        if line.endswith(b"\r"):
            line = line[:-1]
        if line and not line.isspace():
            out.append(line)
