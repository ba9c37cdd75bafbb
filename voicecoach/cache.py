"""The content-addressed cache: one self-checking WAV per (voice, text) or mastered sound, and small JSON records."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import struct
import tempfile
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from voicecoach import paths
from voicecoach.errors import VoicecoachError
from voicecoach.files import FILE_SIZE_LIMIT, make_dir, private_dir
from voicecoach.speech.engines import engine
from voicecoach.speech.voice import Voice
from voicecoach.units import RATE

FORMAT = 1  # bump when the stored audio changes meaning (rate, trimming), to orphan old entries
_CHECK_CHUNK = b"vcsm"
HEADER_BYTES = 12 + (8 + 16) + (8 + 32) + 8    # RIFF, fmt, the checksum chunk, the data chunk's header

# The folder says it is a cache (https://bford.info/cachedir/: backup tools skip a folder holding this tag),
# and whose: a tag of another program's is not ours. The cache touches nothing in a folder it cannot tell
# is its own, and in its own folder only names it writes itself.
MARKER = "CACHEDIR.TAG"
_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
_OURS = b"created by voicecoach"
MARKER_TEXT = (_SIGNATURE + b"\n# This file is a cache directory tag created by voicecoach for its audio cache.\n"
               b"# For information about cache directory tags, see: https://bford.info/cachedir/\n")
_SHARD = re.compile(r"[0-9a-f]{2}")
_ENTRY = re.compile(r"([0-9a-f]{2})[0-9a-f]{62}\.(?:wav|json)")        # Cache.path and Cache.note_path
_TEMP = re.compile(r"\.([0-9a-f]{2})[0-9a-f]{6}-[a-z0-9_]+\.tmp")     # Cache._write's mkstemp names
_MARKER_TEMP = re.compile(r"\.CACHEDIR\.TAG-[a-z0-9_]+\.tmp")

# Nothing larger is read whole. A WAV counts its size in 32 bits, so no entry can be larger than this;
# the largest voicecoach writes is a decoded background file, 29 MB. Notes are a few kilobytes.
MAX_ENTRY_BYTES = 8 + 0xFFFFFFFF
MAX_NOTE_BYTES = 16 << 20
_MAX_MARKER_BYTES = 4096


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


def decode_note(blob) -> dict | None:
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
    # Set once the folder is known to be ours: a warm render reads hundreds of entries and checks once.
    _ours: set = field(default_factory=set, init=False, repr=False, compare=False)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> np.ndarray | None:
        """The cached samples, or None when missing; a corrupt entry (or not a file) is removed and reported missing."""
        return _load(self.path(key), decode_entry, MAX_ENTRY_BYTES) if self._claim(create=False) else None

    def samples(self, key: str) -> int | None:
        """How many samples an entry holds, from its size alone (no read), or None when it is missing."""
        if not self._claim(create=False):
            return None
        try:
            st = os.lstat(self.path(key))
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size < HEADER_BYTES:
            return None
        return (st.st_size - HEADER_BYTES) // 2

    def put(self, key: str, samples: np.ndarray) -> None:
        """Store an entry atomically: write a temporary file beside it, then rename."""
        self._write(self.path(key), key, encode_entry(samples))

    def note_path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get_note(self, key: str) -> dict | None:
        """A small JSON record (a decision worth keeping, such as a session's mastering), or None."""
        return _load(self.note_path(key), decode_note, MAX_NOTE_BYTES) if self._claim(create=False) else None

    def put_note(self, key: str, data: dict) -> None:
        """Store a JSON record atomically, with its own checksum like every entry."""
        self._write(self.note_path(key), key, encode_note(data))

    @cached_property
    def _private(self) -> bool:
        # Whether its folders are made private (in the user's cache folder): asked once, not for each of the
        # up to 256 shard folders a cold export makes (0.8 ms each, 50 ms of a cold 10-minute export).
        return paths.in_user_dirs(self.root)

    def _write(self, path: Path, key: str, blob: bytes) -> None:
        self._claim(create=True)
        try:
            if not path.parent.is_dir():
                if self._private:
                    private_dir(path.parent)        # 0700, as make_dir makes it in the user cache folder
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}-", suffix=".tmp")
            try:
                # No fsync (it made each put about 7 times slower): the rename keeps a
                # half-written entry from ever being seen, and after a power cut an entry
                # the disk lost fails its SHA-256 check and is made again.
                with os.fdopen(fd, "wb") as f:
                    f.write(blob)
                _replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as e:
            raise _unwritable(path.parent, e) from None

    def _claim(self, create: bool) -> bool:
        """Whether the folder is there and is ours; `create` makes it. Refuses a folder that holds other things."""
        if self._ours:
            return True
        root = self.root
        if create:
            try:
                make_dir(root)
            except OSError as e:
                raise _unwritable(root, e) from None
        elif not root.is_dir():
            return False        # nothing there yet: every entry is missing
        if not _tagged(root):
            if not _adoptable(root):
                raise VoicecoachError(
                    f"{root}: not a voicecoach audio cache (it holds other files and no {MARKER} of "
                    "voicecoach's), so nothing in it was read or changed; choose an empty or new folder "
                    "with --cache-dir")
            _tag(root)
        self._ours.add(True)
        return True

    # ------------------------------------------------------------ upkeep

    def entries(self) -> list[Path]:
        """Every entry, in name order: names of the cache's own making only, whatever else the folder holds."""
        found = []
        for shard in _shards(self.root):
            found += [shard / name for name in _names(shard)
                      if (m := _ENTRY.fullmatch(name)) and m.group(1) == shard.name]
        return sorted(found)

    def info(self) -> "CacheInfo":
        """How many entries the cache holds and their size on disk."""
        sizes = [_size(p) for p in self.entries()]
        return CacheInfo(self.root, len(sizes), sum(sizes))

    def verify(self) -> "Upkeep":
        """Re-check every entry's checksum, removing the ones that fail, things that are not files, stale temporaries."""
        return self._upkeep(lambda p: not _valid(p))

    def prune(self, days: float) -> "Upkeep":
        """Remove entries not used for `days` days (and stale temporary files)."""
        if days < 0:
            raise VoicecoachError(f"--days must be 0 or more, not {days:g}")
        cutoff = time.time() - days * 86400
        return self._upkeep(lambda p: _mtime(p) < cutoff)

    def _upkeep(self, drop) -> "Upkeep":
        if not self._claim(create=False):
            return Upkeep(0, [], [], [])
        entries, removed, strays = self.entries(), [], []
        for p in entries:
            kind = _not_a_file(p)
            if kind is not None:
                strays.append(Stray(p, kind, _remove(p)))
            elif drop(p) and _remove(p):
                removed.append(p)
        return Upkeep(len(entries), removed, self._sweep(), strays)

    def _sweep(self) -> list[Path]:
        # Temporary files are left only by killed writers; a live writer's is at most seconds old.
        cutoff = time.time() - STALE_TEMP_S
        found = [self.root / name for name in _names(self.root) if _MARKER_TEMP.fullmatch(name)]
        for shard in _shards(self.root):
            found += [shard / name for name in _names(shard)
                      if (m := _TEMP.fullmatch(name)) and m.group(1) == shard.name]
        return [p for p in sorted(found) if _mtime(p) < cutoff and _remove(p)]


STALE_TEMP_S = 3600
USED_RESOLUTION_S = 86400   # an entry's "last used" time is kept to the day: one write a day at most


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    count: int
    bytes: int


@dataclass(frozen=True)
class Stray:
    """Something that is not a regular file under an entry's name (a FIFO, a link, a folder), and whether it went."""
    path: Path
    kind: str
    removed: bool


@dataclass(frozen=True)
class Upkeep:
    checked: int
    removed: list
    temporaries: list
    strays: list


class _NotAFile(Exception):
    pass


def _unwritable(folder: Path, e: OSError) -> VoicecoachError:
    if e.errno == errno.EFBIG:
        # A limit on one file's size: freeing space would not help.
        return VoicecoachError(f"{folder}: cannot write to the audio cache: {FILE_SIZE_LIMIT}")
    why = e.strerror or str(e)
    return VoicecoachError(f"{folder}: cannot write to the audio cache ({why}); "
                           "free some space or choose another folder with --cache-dir")


def _replace(tmp: str, path: Path) -> None:
    """os.replace, also over an empty folder under the entry's name; a folder with files in it is refused."""
    try:
        os.replace(tmp, path)
    except IsADirectoryError:
        try:
            os.rmdir(path)
        except OSError:
            raise VoicecoachError(f"{path}: a folder with files in it stands where an audio cache entry belongs; "
                                  "remove it, or choose another folder with --cache-dir") from None
        os.replace(tmp, path)


def _read(path: Path, cap: int) -> tuple[np.ndarray, float] | None:
    """The bytes of the regular file `path` (none past `cap`) and its modification time; None when it is missing.

    Raises _NotAFile for anything else: a FIFO or a device would block a plain open or read for ever."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as e:
        if _not_a_file(path) is not None:   # a symbolic link (ELOOP), a socket (ENXIO)
            raise _NotAFile from None
        raise VoicecoachError(f"{path}: cannot read the audio cache ({e.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _NotAFile
        if st.st_size > cap:
            return np.empty(0, dtype=np.uint8), st.st_mtime    # cannot be an entry: fails its check
        # Read straight into a writable array that decoded samples can then share: no copy.
        blob = np.empty(st.st_size, dtype=np.uint8)
        view, got = blob.data, 0
        while got < len(blob):
            n = os.readv(fd, [view[got:]])
            if n == 0:
                break
            got += n
        return blob[:got], st.st_mtime
    except OSError as e:
        raise VoicecoachError(f"{path}: cannot read the audio cache ({e.strerror})") from None
    finally:
        os.close(fd)


def _load(path: Path, decode, cap: int):
    """decode(the file's bytes), or None when it is missing; a file that fails to decode, or no file, is removed."""
    try:
        read = _read(path, cap)
    except _NotAFile:
        _discard(path)
        return None
    if read is None:
        return None
    blob, mtime = read
    found = decode(blob)
    if found is None:
        _discard(path)
    else:
        _mark_used(path, mtime)
    return found


def _mark_used(path: Path, mtime: float) -> None:
    # The modification time doubles as "last used", which prune reads; touching it
    # at most once a day keeps warm renders free of writes.
    try:
        now = time.time()
        if now - mtime > USED_RESOLUTION_S:
            os.utime(path, (now, now), follow_symlinks=False)
    except OSError:
        pass  # a read-only cache still works; it just cannot be pruned by use


def _valid(path: Path) -> bool:
    try:
        read = _read(path, MAX_NOTE_BYTES if path.suffix == ".json" else MAX_ENTRY_BYTES)
    except _NotAFile:
        return False
    if read is None:
        return True             # gone meanwhile (another process pruned it): nothing to remove
    blob = read[0]
    return (decode_note(blob) if path.suffix == ".json" else decode_entry(blob)) is not None


def _not_a_file(path: Path) -> str | None:
    """What `path` is when it is there and not a regular file ("a FIFO", ...), else None."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _unlink(path: Path) -> None:
    # A folder under an entry's name goes only when empty: what is inside it is not the cache's to judge.
    if stat.S_ISDIR(os.lstat(path).st_mode):
        os.rmdir(path)
    else:
        os.unlink(path)


def _discard(path: Path) -> None:
    try:
        _unlink(path)
    except OSError:
        pass


def _remove(path: Path) -> bool:
    try:
        _unlink(path)
        return True
    except FileNotFoundError:
        return False
    except OSError as e:
        if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise VoicecoachError(f"{path}: cannot remove it from the audio cache ({e.strerror})") from None


def _size(path: Path) -> int:
    try:
        st = os.lstat(path)
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 0


def _mtime(path: Path) -> float:
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return float("inf")


# ------------------------------------------------------------ is the folder ours?

def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _shards(root: Path) -> list[Path]:
    """The entry folders (00 to ff): real folders only, never a link that leads out of the cache."""
    found = []
    for name in _names(root):
        if _SHARD.fullmatch(name) and stat.S_ISDIR(_lmode(root / name)):
            found.append(root / name)
    return sorted(found)


def _lmode(path: Path) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def _tagged(root: Path) -> bool:
    """Whether `root` holds voicecoach's cache tag (a regular file: a FIFO there must not stall the check)."""
    try:
        read = _read(root / MARKER, _MAX_MARKER_BYTES)
    except (_NotAFile, VoicecoachError):
        return False
    return read is not None and bytes(read[0]).startswith(_SIGNATURE) and _OURS in bytes(read[0])


def _adoptable(root: Path) -> bool:
    """Whether an untagged folder is recognisably a cache: empty, one of voicecoach's own, or entries alone."""
    if any(os.path.realpath(root) == os.path.realpath(own) for own in paths.own_cache_dirs()):
        return True
    try:
        names = os.listdir(root)
    except OSError as e:
        raise VoicecoachError(f"{root}: cannot read the audio cache ({e.strerror})") from None
    for name in names:
        if name == MARKER and _tagged(root):        # another process tagged it meanwhile
            continue
        if _MARKER_TEMP.fullmatch(name):            # ... or is tagging it now
            continue
        if not (_SHARD.fullmatch(name) and stat.S_ISDIR(_lmode(root / name))):
            return False
        for inner in _names(root / name):
            m = _ENTRY.fullmatch(inner) or _TEMP.fullmatch(inner)
            if m is None or m.group(1) != name:
                return False
    return True


def _tag(root: Path) -> None:
    """Write the cache tag, whole or not at all; a read-only cache is still read without one."""
    try:
        fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{MARKER}-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MARKER_TEXT)
        os.replace(tmp, root / MARKER)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
