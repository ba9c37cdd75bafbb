"""Voice packs on disk: a private folder of cleaned takes and the manifest (pack.json) that names them.

A pack lives in paths.packs_dir()/NAME:
    pack.json       {"format": 1, "consent": ..., "loudness": ..., "wanted": [...], "takes": {text: {...}}}
    takes/*.wav     one take a phrase: mono 16-bit at the internal rate, cleaned, exactly what sessions play
    phrases.txt     the phrase list `voicecoach pack phrases` writes, for recording elsewhere

Takes are found by their phrase text (whitespace evened out), so a cue word or a counted number recorded
once serves every script that says it. The manifest holds no name, user or path of the computer's: only
what the person typed (consent) and the day each take was made.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import wave
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from voicecoach import paths
from voicecoach.errors import VoicecoachError, shown
from voicecoach.files import private_dir, write_text
from voicecoach.units import RATE, samples_to_ms

FORMAT = 1
MANIFEST = "pack.json"
TAKES = "takes"
PHRASE_LIST = "phrases.txt"
LOUDNESS_LUFS = -23.0     # every take of a pack is brought to this (EBU R128's level; mastering lifts the session)
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MAX_MANIFEST_BYTES = 8 << 20
MAX_TAKE_BYTES = 64 << 20     # 20 minutes at the internal rate: far more than any phrase


def phrase_key(text: str) -> str:
    """The phrase as a pack files it: its words with the spacing evened out."""
    return " ".join(text.split())


def check_name(name: str) -> str:
    """A pack name as given, when it is one: lower-case letters, digits, '.', '_' and '-'."""
    if not NAME.fullmatch(name or "") or name in (".", ".."):
        raise VoicecoachError(f"{shown(name)} cannot name a voice pack; use lower-case letters, digits and "
                              "'-' (for example my-voice)")
    return name


def folder_of(name: str) -> Path:
    """The folder of the pack called `name` (which may not exist yet)."""
    return paths.packs_dir() / check_name(name)


@dataclass(frozen=True)
class Take:
    """One recorded phrase: its file in the pack, the file's SHA-256, the day it was made, who agreed to its use."""
    text: str
    file: str           # relative to the pack folder: takes/<stem>-<hash>.wav
    sha256: str
    recorded: str       # YYYY-MM-DD
    ms: int
    consent: str = ""

    def to_dict(self) -> dict:
        return {"file": self.file, "sha256": self.sha256, "recorded": self.recorded, "ms": self.ms,
                "consent": self.consent}


@dataclass(frozen=True)
class Pack:
    name: str
    folder: Path
    consent: str = ""                       # who agreed to this voice being used, in their words
    takes: dict = field(default_factory=dict)       # phrase_key(text) -> Take
    wanted: tuple[str, ...] = ()            # the phrases `pack phrases` / `record` asked for, in order
    loudness: float = LOUDNESS_LUFS

    def take(self, text: str) -> Take | None:
        """The take of `text`, if the pack holds one."""
        return self.takes.get(phrase_key(text))

    def missing(self, texts=None) -> list[str]:
        """The phrases of `texts` (default: the wanted ones) the pack has no take of, in order."""
        return [t for t in dict.fromkeys(phrase_key(t) for t in (self.wanted if texts is None else texts))
                if t not in self.takes]

    def digest(self) -> str:
        """A SHA-256 of every take's phrase and content: it changes when any take does."""
        ident = sorted((text, t.sha256) for text, t in self.takes.items())
        return hashlib.sha256(json.dumps([FORMAT, RATE, ident], ensure_ascii=False).encode()).hexdigest()

    def to_json(self) -> str:
        data = {"format": FORMAT, "consent": self.consent, "loudness": self.loudness, "rate_hz": RATE,
                "wanted": list(self.wanted),
                "takes": {text: t.to_dict() for text, t in sorted(self.takes.items())}}
        return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _regular_bytes(path: Path, cap: int, what: str) -> bytes | None:
    """The bytes of the regular file `path`, None when it is missing; anything else is one line naming it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as e:
        if os.path.islink(path):
            raise VoicecoachError(f"{path}: is a link, not a regular file; a {what} must be a plain file: "
                                  "remove it and record or import it again") from None
        raise VoicecoachError(f"{path}: cannot be read ({e.strerror}); a {what} must be a plain file you can read") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            # A FIFO or a device would block a read for ever.
            raise VoicecoachError(f"{path}: is not a regular file (a folder, device or pipe); a {what} must be a "
                                  "plain file: remove it and record or import it again")
        if st.st_size > cap:
            raise VoicecoachError(f"{path}: is {st.st_size} bytes, too large for a {what}; remove it and record "
                                  "or import it again")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(cap + 1)
    except OSError as e:
        raise VoicecoachError(f"{path}: cannot be read ({e.strerror})") from None
    finally:
        os.close(fd)


def _text(value, what: str, path: Path) -> str:
    if not isinstance(value, str):
        raise VoicecoachError(f"{path}: {what} is not text; the pack's manifest is damaged: import the pack again "
                              "or record it anew")
    return value


def load(name: str, folder: Path | None = None) -> Pack:
    """The pack called `name` (in `folder`, default its own); a missing or damaged manifest is one line naming it."""
    where = folder if folder is not None else folder_of(name)
    path = where / MANIFEST
    if not where.is_dir():
        raise VoicecoachError(f"there is no voice pack {shown(name)} (looked in {where}); make one with "
                              f"`voicecoach record SCRIPT --pack {name}` or `voicecoach pack import {name} FOLDER`")
    blob = _regular_bytes(path, MAX_MANIFEST_BYTES, "pack manifest")
    if blob is None:
        return Pack(name, where)         # a folder with nothing recorded yet
    damaged = (f"{path}: is not a voice pack manifest voicecoach can read (damaged?); "
               "import the pack again, or remove the folder and record it anew")
    try:
        data = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VoicecoachError(damaged) from None
    if not isinstance(data, dict) or not isinstance(data.get("takes"), dict):
        raise VoicecoachError(damaged)
    if data.get("format") != FORMAT:
        raise VoicecoachError(f"{path}: is a pack of format {shown(data.get('format'))}, and this voicecoach reads "
                              f"format {FORMAT}; update voicecoach")
    takes = {}
    for text, entry in data["takes"].items():
        if not isinstance(entry, dict):
            raise VoicecoachError(damaged)
        file = _text(entry.get("file"), "a take's file", path)
        # A take's file is in takes/ of the pack, never a path out of it.
        if not re.fullmatch(rf"{TAKES}/[A-Za-z0-9._-]+\.wav", file) or ".." in file:
            raise VoicecoachError(f"{path}: names the take file {shown(file)}, which is not in its {TAKES}/ folder; "
                                  "import the pack again")
        ms = entry.get("ms", 0)
        takes[phrase_key(text)] = Take(phrase_key(text), file, _text(entry.get("sha256"), "a checksum", path),
                                       _text(entry.get("recorded", ""), "a date", path),
                                       int(ms) if isinstance(ms, int) else 0,
                                       _text(entry.get("consent", ""), "the consent", path))
    wanted = data.get("wanted", [])
    loud = data.get("loudness", LOUDNESS_LUFS)
    return Pack(name, where, _text(data.get("consent", ""), "the consent", path), takes,
                tuple(phrase_key(_text(t, "a phrase", path)) for t in (wanted if isinstance(wanted, list) else [])),
                float(loud) if isinstance(loud, (int, float)) else LOUDNESS_LUFS)


def save(pack: Pack) -> Pack:
    """Write the pack's manifest whole or not at all, in its private (0700) folder."""
    private_dir(pack.folder)
    write_text(pack.folder / MANIFEST, pack.to_json())
    os.chmod(pack.folder / MANIFEST, 0o600)
    return pack


def take_path(pack: Pack, take: Take) -> Path:
    return pack.folder / take.file


def read_take(pack: Pack, take: Take) -> np.ndarray:
    """The samples of a take, checked: a missing, damaged, changed or not-regular file is one line naming it."""
    path = take_path(pack, take)
    blob = _regular_bytes(path, MAX_TAKE_BYTES, "take")
    redo = f"record it again (`voicecoach record --pack {pack.name} ...`) or import it again"
    if blob is None:
        raise VoicecoachError(f"{path}: the take of {shown(take.text[:50])} is missing; {redo}")
    if hashlib.sha256(blob).hexdigest() != take.sha256:
        raise VoicecoachError(f"{path}: the take of {shown(take.text[:50])} is damaged or was changed since it was "
                              f"made (its checksum does not match {MANIFEST}); {redo}")
    return decode_take(blob, path)


def decode_take(blob: bytes, path: Path) -> np.ndarray:
    """The samples of a take file's bytes: mono 16-bit WAV at the internal rate, else one line naming `path`."""
    import io
    try:
        with wave.open(io.BytesIO(blob), "rb") as w:
            shape = (w.getnchannels(), w.getsampwidth(), w.getframerate())
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError, ValueError):
        raise VoicecoachError(f"{path}: is not a WAV file voicecoach can read (damaged, or not audio); "
                              "record or import this phrase again") from None
    if shape != (1, 2, RATE):
        raise VoicecoachError(f"{path}: is not a take of voicecoach's (mono 16-bit at {RATE} Hz); import the phrase "
                              "with `voicecoach pack import`, which converts it")
    return np.frombuffer(frames, dtype="<i2").astype(np.int16)


def encode_take(samples: np.ndarray) -> bytes:
    """A take's file: mono 16-bit WAV at the internal rate."""
    import io
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return out.getvalue()


def slug(text: str) -> str:
    """A file stem for a phrase: its words, lower-case, joined by '-' (short phrases read as themselves)."""
    words = re.findall(r"[a-z0-9]+", phrase_key(text).lower())
    stem = "-".join(words)[:40].rstrip("-") or "phrase"
    if len("-".join(words)) > 40 or not words:
        stem += "-" + hashlib.sha256(phrase_key(text).encode()).hexdigest()[:6]
    return stem


def with_take(pack: Pack, take: Take) -> Pack:
    """`pack` holding `take` (in place of any earlier take of its phrase)."""
    return replace(pack, takes={**pack.takes, take.text: take})


def names() -> list[str]:
    """The packs in the packs folder, by name."""
    root = paths.packs_dir()
    try:
        found = os.listdir(root)
    except OSError:
        return []
    return sorted(n for n in found if NAME.fullmatch(n) and (root / n).is_dir() and not (root / n).is_symlink())


def ms_of(samples: np.ndarray) -> int:
    return samples_to_ms(len(samples))
