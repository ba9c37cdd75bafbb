"""The content-addressed phrase cache: one self-checking WAV per (voice, text)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import VoicecoachError
from .speech import RATE, Voice

FORMAT = 1  # bump when the stored audio changes meaning (rate, trimming), to orphan old entries
_CHECK_CHUNK = b"vcsm"


def phrase_key(voice: Voice, text: str) -> str:
    """The entry name: a SHA-256 of everything that decides the phrase's sound."""
    ident = {"format": FORMAT, "rate_hz": RATE, **voice.identity(), "text": text}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def encode_entry(samples: np.ndarray) -> bytes:
    """A mono 16-bit WAV at RATE with a chunk holding the SHA-256 of its samples."""
    data = np.asarray(samples, dtype="<i2").tobytes()
    digest = hashlib.sha256(data).digest()
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + _CHECK_CHUNK + struct.pack("<I", len(digest)) + digest
            + b"data" + struct.pack("<I", len(data)) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def decode_entry(blob) -> np.ndarray | None:
    """The samples of an entry, or None if it is truncated, corrupt or of another format."""
    view = memoryview(blob)  # chunks are views, not copies
    if len(view) < 12 or view[:4] != b"RIFF" or view[8:12] != b"WAVE":
        return None
    if struct.unpack_from("<I", view, 4)[0] != len(view) - 8:
        return None
    pos, digest, data, fmt = 12, None, None, None
    while pos + 8 <= len(view):
        cid, size = view[pos:pos + 4], struct.unpack_from("<I", view, pos + 4)[0]
        chunk = view[pos + 8: pos + 8 + size]
        if len(chunk) != size:
            return None
        if cid == b"fmt ":
            fmt = chunk
        elif cid == _CHECK_CHUNK:
            digest = chunk
        elif cid == b"data":
            data = chunk
        pos += 8 + size + (size & 1)
    if fmt is None or data is None or digest is None or len(fmt) < 8:
        return None
    if struct.unpack_from("<HHI", fmt)[:3] != (1, 1, RATE) or hashlib.sha256(data).digest() != digest:
        return None
    samples = np.frombuffer(data, dtype="<i2")
    # From a writable buffer (as get reads it) the samples share its memory; from bytes they need a copy.
    return samples if samples.flags.writeable and samples.dtype == np.int16 else samples.astype(np.int16)


@dataclass(frozen=True)
class Cache:
    """A folder of phrase entries; safe for several processes at once."""
    root: Path

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> np.ndarray | None:
        """The cached samples, or None when missing; a corrupt entry is removed and reported missing."""
        path = self.path(key)
        try:
            # Read straight into a writable array that the samples then share: no copy.
            blob = np.fromfile(path, dtype=np.uint8)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise VoicecoachError(f"{path}: cannot read the audio cache ({e.strerror})") from None
        samples = decode_entry(blob)
        if samples is None:
            try:
                path.unlink()
            except OSError:
                pass
        return samples

    def put(self, key: str, samples: np.ndarray) -> None:
        """Store an entry atomically: write a temporary file beside it, then rename."""
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}-", suffix=".tmp")
            try:
                # No fsync (it made each put about 7 times slower): the rename keeps a
                # half-written entry from ever being seen, and after a power cut an entry
                # the disk lost fails its SHA-256 check and is rendered again.
                with os.fdopen(fd, "wb") as f:
                    f.write(encode_entry(samples))
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as e:
            raise VoicecoachError(f"{path.parent}: cannot write to the audio cache ({e.strerror}); "
                                  "free some space or choose another folder with --cache-dir") from None
