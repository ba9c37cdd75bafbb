"""Cover art: the square picture a phone's player, lock screen and podcast app show, drawn by code as a PNG."""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

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
    # rings compress worse (88 KB and 94 KB against 66 KB). zlib level 6, not 9: 71 KB against 66 KB, in
    # 47 ms against 126 ms, paid by every export.
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)      # 8 bits, RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + _chunk(b"IEND", b""))


def _rings(size: int) -> np.ndarray:
    """How much of the ring colour covers each pixel (0 to 1): three concentric rings, like a breath widening,
    anti-aliased over about one pixel."""
    # The rings are symmetric about the centre, so one quarter is drawn and mirrored (the distances are the
    # same floats either side): 4x less work, and the cover went from 0.29 s to a few tens of ms to draw.
    half = (size + 1) // 2
    y, x = np.mgrid[0:half, 0:half].astype(np.float32)
    r = np.hypot(x - (size - 1) / 2, y - (size - 1) / 2)
    quarter = np.zeros_like(r)
    for radius, width, strength in ((0.16, 0.012, 0.95), (0.26, 0.008, 0.6), (0.36, 0.005, 0.35)):
        edge = np.clip(width * size - np.abs(r - radius * size) + 0.5, 0, 1) * strength
        quarter = np.maximum(quarter, edge)
    top = np.concatenate([quarter, quarter[:, :size - half][:, ::-1]], axis=1)
    return np.concatenate([top, top[:size - half][::-1]], axis=0)


def _picture(top, bottom, ring, size: int) -> np.ndarray:
    fade = (np.arange(size, dtype=np.float32) / (size - 1))[:, None]
    rows = np.asarray(top, np.float32) * (1 - fade) + np.asarray(bottom, np.float32) * fade     # one colour a row
    image = np.broadcast_to(np.round(rows).astype(np.uint8)[:, None, :], (size, size, 3)).copy()
    if ring is not None:
        cover = _rings(size)
        # Blend only the square the rings lie in; elsewhere the gradient stands as it is.
        inside = np.flatnonzero(cover.any(axis=0))
        lo, hi = int(inside[0]), int(inside[-1]) + 1
        c = cover[lo:hi, lo:hi, None]
        image[lo:hi, lo:hi] = np.round(rows[lo:hi, None, :] * (1 - c) + np.asarray(ring, np.float32) * c)
    return image


# Drawn once and shipped (static/): every export used to draw it, 0.13 s of CPU against about 1 s for a whole
# cold 10-minute export. `python -m voicecoach.export.cover [FOLDER]` draws them again; a test checks they are
# these bytes.
SHIPPED = {False: "cover.png", True: "cover-discreet.png"}


@lru_cache(maxsize=4)
def cover_png(*, discreet: bool, size: int = SIZE) -> bytes:
    """The cover picture as PNG bytes; the discreet one is a neutral grey with nothing on it."""
    if size == SIZE:
        try:
            return resources.files(__package__).joinpath("static", SHIPPED[discreet]).read_bytes()
        except OSError:
            pass        # the package lost its copy: drawn, it is the same bytes
    return drawn_png(discreet=discreet, size=size)


def drawn_png(*, discreet: bool, size: int = SIZE) -> bytes:
    """The cover picture drawn now, as PNG bytes."""
    top, bottom, ring = _DISCREET if discreet else _OPEN
    return png(_picture(top, bottom, ring, size))


def draw_shipped(folder: Path) -> list[Path]:
    """Draw the shipped covers into `folder` (the package's static/ when run as a program)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for discreet, name in SHIPPED.items():
        (folder / name).write_bytes(drawn_png(discreet=discreet))
        written.append(folder / name)
    return written


if __name__ == "__main__":
    import sys
    for path in draw_shipped(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("static")):
        sys.stdout.write(f"Drew {path}\n")
