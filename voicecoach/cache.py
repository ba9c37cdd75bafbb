"""The content-addressed cache: one self-checking WAV per (voice, text) or mastered sound, and small JSON records."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.errors import VoicecoachError
from voicecoach.files import make_dir
from voicecoach.speech.engines import engine
from voicecoach.speech.voice import Voice
from voicecoach.units import RATE

FORMAT = 1  # bump when the stored audio changes meaning (rate, trimming), to orphan old entries
_CHECK_CHUNK = b"vcsm"
HEADER_BYTES = 12 + (8 + 16) + (8 + 32) + 8    # RIFF, fmt, the checksum chunk, the data chunk's header


def phrase_key(voice: Voice, text: str) -> str:
    """The entry name: a SHA-256 of everything that decides the phrase's sound."""
    ident = {"format": FORMAT, "rate_hz": RATE, **voice.identity(), "text": text}
    revision = engine(voice.engine).revision
    if revision != 1:   # the first revision adds nothing: entries made before engines had revisions still count
        ident["engine_revision"] = revision
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


def encode_note(data: dict) -> bytes:
    """A JSON record holding the SHA-256 of its own canonical text."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return json.dumps({"sha256": hashlib.sha256(text.encode()).hexdigest(), "data": data},
                      sort_keys=True, ensure_ascii=False).encode()


def decode_note(blob: bytes) -> dict | None:
    """The data of a JSON record, or None if it is truncated or does not match its checksum."""
    try:
        record = json.loads(bytes(blob))
        text = json.dumps(record["data"], sort_keys=True, ensure_ascii=False)
        ok = hashlib.sha256(text.encode()).hexdigest() == record["sha256"]
    except (ValueError, TypeError, KeyError):
        return None
    return record["data"] if ok and isinstance(record["data"], dict) else None


@dataclass(frozen=True)
class Cache:
    """A folder of phrase entries; safe for several processes at once."""
    root: Path

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> np.ndarray | None:
        """The cached samples, or None when missing; a corrupt entry is removed and reported missing."""
        return _load(self.path(key), decode_entry)

    def samples(self, key: str) -> int | None:
        """How many samples an entry holds, from its size alone (no read), or None when it is missing."""
        try:
            size = self.path(key).stat().st_size
        except OSError:
            return None
        return (size - HEADER_BYTES) // 2 if size >= HEADER_BYTES else None

    def put(self, key: str, samples: np.ndarray) -> None:
        """Store an entry atomically: write a temporary file beside it, then rename."""
        self._write(self.path(key), key, encode_entry(samples))

    def note_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get_note(self, key: str) -> dict | None:
        """A small JSON record (a decision worth keeping, such as a session's mastering), or None."""
        return _load(self.note_path(key), decode_note)

    def put_note(self, key: str, data: dict) -> None:
        """Store a JSON record atomically, with its own checksum like every entry."""
        self._write(self.note_path(key), key, encode_note(data))

    def _write(self, path: Path, key: str, blob: bytes) -> None:
        try:
            if not path.parent.is_dir():
                make_dir(path.parent)      # private (0700) in the user cache folder
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}-", suffix=".tmp")
            try:
                # No fsync (it made each put about 7 times slower): the rename keeps a
                # half-written entry from ever being seen, and after a power cut an entry
                # the disk lost fails its SHA-256 check and is made again.
                with os.fdopen(fd, "wb") as f:
                    f.write(blob)
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

    # ------------------------------------------------------------ upkeep

    def entries(self) -> list[Path]:
        """Every entry file, in name order."""
        if not self.root.is_dir():
            return []
        return sorted([*self.root.glob("??/*.wav"), *self.root.glob("??/*.json")])

    def info(self) -> "CacheInfo":
        """How many entries the cache holds and their size on disk."""
        sizes = [_size(p) for p in self.entries()]
        return CacheInfo(self.root, len(sizes), sum(sizes))

    def verify(self) -> "Upkeep":
        """Re-check every entry's checksum, removing the ones that fail and stale temporary files."""
        entries = self.entries()
        removed = [p for p in entries if not _valid(p) and _remove(p)]
        return Upkeep(len(entries), removed, self._sweep())

    def prune(self, days: float) -> "Upkeep":
        """Remove entries not used for `days` days (and stale temporary files)."""
        if days < 0:
            raise VoicecoachError(f"--days must be 0 or more, not {days:g}")
        cutoff = time.time() - days * 86400
        entries = self.entries()
        removed = [p for p in entries if _mtime(p) < cutoff and _remove(p)]
        return Upkeep(len(entries), removed, self._sweep())

    def _sweep(self) -> list[Path]:
        # Temporary files are left only by killed writers; a live writer's is at most seconds old.
        cutoff = time.time() - STALE_TEMP_S
        return [p for p in self.root.glob("??/.*.tmp") if _mtime(p) < cutoff and _remove(p)]


STALE_TEMP_S = 3600
USED_RESOLUTION_S = 86400   # an entry's "last used" time is kept to the day: one write a day at most


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    count: int
    bytes: int


@dataclass(frozen=True)
class Upkeep:
    checked: int
    removed: list
    temporaries: list


def _load(path: Path, decode):
    """decode(the file's bytes), or None when it is missing; a file that fails to decode is removed."""
    try:
        # Read straight into a writable array that decoded samples can then share: no copy.
        blob = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise VoicecoachError(f"{path}: cannot read the audio cache ({e.strerror})") from None
    found = decode(blob)
    if found is None:
        try:
            path.unlink()
        except OSError:
            pass
    else:
        _mark_used(path)
    return found


def _mark_used(path: Path) -> None:
    # The modification time doubles as "last used", which prune reads; touching it
    # at most once a day keeps warm renders free of writes.
    try:
        now = time.time()
        if now - path.stat().st_mtime > USED_RESOLUTION_S:
            os.utime(path, (now, now))
    except OSError:
        pass  # a read-only cache still works; it just cannot be pruned by use


def _valid(path: Path) -> bool:
    blob = _read(path)
    return (decode_note(blob) if path.suffix == ".json" else decode_entry(blob)) is not None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as e:
        raise VoicecoachError(f"{path}: cannot remove it from the audio cache ({e.strerror})") from None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")
