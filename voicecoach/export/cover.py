"""Cover art: the square picture a phone's player, lock screen and podcast app show, drawn by code as a PNG."""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

import numpy as np

COVER = "cover.png"           # its name in a program folder, where file managers and players look for one
SIZE = 1400                   # pixels a side: the smallest podcast artwork Apple's directory takes (1400 to 3000)
MIME = "image/png"

# Soft, calm colours (top and bottom of the gradient, then the rings). The discreet one is a plain grey
# gradient with nothing drawn on it, which says nothing about what the files hold.
_OPEN = ((46, 94, 110), (20, 46, 66), (236, 222, 196))
_DISCREET = ((120, 126, 134), (78, 84, 92), None)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(pixels: np.ndarray) -> bytes:
    """An RGB image (height x width x 3, uint8) as PNG bytes: the same pixels always give the same bytes."""
    height, width, _ = pixels.shape
    # Filter 0 on every row: the gradient's rows are each one colour, and "Up" or "Sub" filtering made the
    # rings compress worse (88 KB and 94 KB against 66 KB).
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)      # 8 bits, RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
            + _chunk(b"IEND", b""))


def _picture(top, bottom, ring, size: int) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    fade = (y / (size - 1))[..., None]
    image = np.asarray(top, np.float32) * (1 - fade) + np.asarray(bottom, np.float32) * fade
    if ring is not None:
        # Three concentric rings, like a breath widening; anti-aliased over about one pixel.
        r = np.hypot(x - (size - 1) / 2, y - (size - 1) / 2)
        cover = np.zeros_like(r)
        for radius, width, strength in ((0.16, 0.012, 0.95), (0.26, 0.008, 0.6), (0.36, 0.005, 0.35)):
            edge = np.clip(width * size - np.abs(r - radius * size) + 0.5, 0, 1) * strength
            cover = np.maximum(cover, edge)
        image = image * (1 - cover[..., None]) + np.asarray(ring, np.float32) * cover[..., None]
    return np.round(image).astype(np.uint8)


@lru_cache(maxsize=4)
def cover_png(*, discreet: bool, size: int = SIZE) -> bytes:
    """The cover picture as PNG bytes; the discreet one is a neutral grey with nothing on it."""
    top, bottom, ring = _DISCREET if discreet else _OPEN
    return png(_picture(top, bottom, ring, size))
