"""Tiny media made in code: a PNG image and a WAV sound for the content fixtures.

Layer: applications (servers/everything). Pure byte assembly with `struct` and `zlib`, so
the fixture server ships no binary files and the bytes are real, decodable media (a
client that renders or plays them gets a picture and a short tone, not a stub).
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import Final

__all__ = ["PNG", "WAV", "png", "wav"]

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, and the CRC-32 of type + data."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(width: int = 8, height: int = 8) -> bytes:
    """An RGB PNG of a red-to-blue gradient (8-bit colour, no interlace)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "none" for this scanline
        for x in range(width):
            red = 255 * x // max(width - 1, 1)
            blue = 255 * y // max(height - 1, 1)
            rows += bytes((red, 64, blue))
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows)))
        + _chunk(b"IEND", b"")
    )


def wav(frequency: float = 440.0, seconds: float = 0.05, rate: int = 8000) -> bytes:
    """A mono 16-bit PCM WAV of a sine tone."""
    count = int(rate * seconds)
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * i / rate)))
        for i in range(count)
    )
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)  # PCM, mono, 2 bytes a frame
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


PNG: Final = png()
WAV: Final = wav()
