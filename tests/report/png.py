"""A minimal PNG decoder (8-bit RGB/RGBA, non-interlaced) so tests can inspect screenshots
without Pillow: chunks, zlib, and the five scanline filters of the PNG specification."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def decode(data: bytes) -> np.ndarray:
    """Height x width x channels array of a PNG as Chromium writes screenshots."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    out = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1).astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 1:
            row = line.copy()
            for c in range(bpp):
                row[c::bpp] = np.cumsum(line[c::bpp]) % 256
        elif kind == 2:
            row = (line + previous) % 256
        else:
            row = _sequential(line.tolist(), previous.tolist(), bpp, kind)
        out[y] = row
        previous = np.asarray(row, dtype=np.int32)
    return out.reshape(height, width, bpp)


def _sequential(line: list[int], above: list[int], bpp: int, kind: int) -> np.ndarray:
    row = [0] * len(line)
    for i, x in enumerate(line):
        left = row[i - bpp] if i >= bpp else 0
        up = above[i]
        if kind == 3:
            row[i] = (x + (left + up) // 2) & 0xFF
        else:
            corner = above[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            row[i] = (x + pred) & 0xFF
    return np.asarray(row, dtype=np.int32)
