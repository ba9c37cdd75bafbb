"""Keeping takes in a pack, importing a folder of recordings or a shared pack, and sharing a pack as a zip.

Every write is whole or not at all: a take's file is written beside its final name and renamed, and the
manifest that names it is replaced after it; a pack's folder and files are private (0700, 0600).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from voicecoach import paths
from voicecoach.audio import ffmpeg
from voicecoach.errors import VoicecoachError, shown
from voicecoach.files import atomic_path, private_dir, write_text, written
from voicecoach.pack.clean import Cleaned, clean
from voicecoach.pack.phrases import phrase_list, stems
from voicecoach.speech import packs
from voicecoach.units import RATE

# What recorders save: a phone's records .m4a (or .ogg); ffmpeg decodes each of them.
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus")
AUDIO_NAMES = ".wav, .flac, .mp3, .m4a or .ogg"
MAX_IMPORT_S = 120            # a phrase longer than two minutes is surely the wrong file
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_BYTES = 4 << 30


def open_pack(name: str, *, create: bool = False, consent: str | None = None) -> packs.Pack:
    """The pack called `name`; with `create`, a new empty one when there is none (its folder private)."""
    folder = packs.folder_of(name)
    if create and not folder.exists():
        try:
            private_dir(folder)
        except OSError as e:
            raise VoicecoachError(f"{folder}: cannot make the pack's folder ({e.strerror or e})") from None
    pack = packs.load(name)
    if consent is not None and consent.strip() and consent.strip() != pack.consent:
        pack = replace(pack, consent=consent.strip())
    return pack


@contextmanager
def made_for(name: str):
    """Context: a pack folder this command makes is taken away again if the command fails before keeping a take."""
    folder = packs.folder_of(name)
    new = not os.path.lexists(folder)
    try:
        yield
    except BaseException:
        if new and folder.is_dir() and not folder.is_symlink():
            try:
                if not packs.load(name).takes:
                    shutil.rmtree(folder)
            except (OSError, VoicecoachError):
                pass
        raise


def today() -> str:
    return datetime.date.today().isoformat()


def keep(pack: packs.Pack, text: str, samples: np.ndarray, consent: str | None = None) -> packs.Pack:
    """`pack` with `samples` (a cleaned take) kept as the take of `text`, written to disk; the earlier take goes."""
    blob = packs.encode_take(samples)
    return keep_file(pack, text, blob, today(), consent if consent is not None else pack.consent)


def keep_file(pack: packs.Pack, text: str, blob: bytes, recorded: str, consent: str) -> packs.Pack:
    """`pack` with the take file `blob` (already a take: mono 16-bit at RATE) kept for `text`."""
    text = packs.phrase_key(text)
    digest = hashlib.sha256(blob).hexdigest()
    samples = packs.decode_take(blob, pack.folder / packs.TAKES)
    name = f"{packs.TAKES}/{packs.slug(text)}-{digest[:10]}.wav"
    path = pack.folder / name
    private_dir(path.parent)
    with written(path), atomic_path(path, mode=0o600) as tmp:
        tmp.write_bytes(blob)
    earlier = pack.take(text)
    kept = packs.with_take(pack, packs.Take(text, name, digest, recorded, packs.ms_of(samples), consent))
    save(kept)
    if earlier is not None and earlier.file != name:
        try:
            os.unlink(pack.folder / earlier.file)
        except OSError:
            pass            # only space is lost: nothing names it any more
    return kept


def save(pack: packs.Pack) -> packs.Pack:
    """The manifest of `pack` written, whole or not at all."""
    with written(pack.folder / packs.MANIFEST):
        return packs.save(pack)


def want(pack: packs.Pack, texts: Sequence[str]) -> tuple[packs.Pack, Path]:
    """`pack` asking for `texts` as well as what it asked for before; its phrase list written. (pack, list's path)"""
    wanted = tuple(dict.fromkeys([*pack.wanted, *(packs.phrase_key(t) for t in texts)]))
    pack = save(replace(pack, wanted=wanted))
    where = pack.folder / packs.PHRASE_LIST
    write_text(where, phrase_list(pack.name, wanted))
    os.chmod(where, 0o600)
    return pack, where


# ---------------------------------------------------------------- importing recordings

@dataclass(frozen=True)
class Imported:
    kept: tuple[str, ...]                       # phrases imported
    notes: tuple[str, ...]                      # one line each: a file imported with a problem
    failed: tuple[str, ...]                     # one line each: a file that could not be imported
    missing: tuple[str, ...]                    # phrases of the list with no file in the folder
    unknown: tuple[str, ...]                    # audio files named by no phrase of the list


def decode(path: Path) -> np.ndarray:
    """The audio of a recording (WAV, FLAC, MP3, M4A, Ogg) as mono int16 at RATE; anything else is one line naming it."""
    try:
        st = os.lstat(path)
    except OSError as e:
        raise VoicecoachError(f"{path}: cannot be read ({e.strerror or e})") from None
    if stat.S_ISLNK(st.st_mode):
        raise VoicecoachError(f"{path}: is a link, not a recording; copy the recording itself into the folder")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or a device makes ffmpeg (and open) wait for ever.
        raise VoicecoachError(f"{path}: is not a regular file (a folder, device or pipe); give a recording "
                              "saved as a file")
    if st.st_size == 0:
        raise VoicecoachError(f"{path}: is empty; record the phrase again")
    with tempfile.TemporaryFile() as out:
        try:
            ffmpeg.run(["-i", str(path), "-map", "0:a:0", "-t", str(MAX_IMPORT_S), "-ac", "1", "-ar", str(RATE),
                        "-f", "s16le", "pipe:1"], stdout=out)
        except VoicecoachError:
            raise VoicecoachError(f"{path}: is not audio voicecoach can read (damaged, or not WAV, FLAC, MP3, "
                                  "M4A or Ogg); record the phrase again or save it in one of those") from None
        out.seek(0)
        return np.frombuffer(out.read(), dtype="<i2").astype(np.int16)


def read_list(path: Path) -> dict[str, str]:
    """A phrase list's stems and phrases (stem -> phrase), as `pack phrases` writes it."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        stem, text = line.split("\t", 1)
        if stem.strip() and text.strip():
            found[stem.strip()] = packs.phrase_key(text)
    return found


def import_folder(pack: packs.Pack, folder: Path, consent: str,
                  progress: Callable[[str], None] | None = None) -> tuple[packs.Pack, Imported]:
    """Import every recording in `folder` named as the pack's phrase list says (stem.wav, .flac, .mp3, ...)."""
    if not folder.is_dir():
        raise VoicecoachError(f"{folder}: is not a folder; give the folder that holds the recordings")
    by_stem = {stem: text for text, stem in stems(pack.wanted).items()}
    own_list = folder / packs.PHRASE_LIST
    if own_list.is_file():
        try:
            by_stem.update(read_list(own_list))
        except (OSError, UnicodeDecodeError) as e:
            raise VoicecoachError(f"{own_list}: cannot be read as a phrase list ({e})") from None
    if not by_stem:
        raise VoicecoachError(f"the pack {shown(pack.name)} has no phrase list yet, so the files cannot be matched "
                              f"to phrases; run `voicecoach pack phrases {pack.name} SCRIPT` first")
    before = packs.load(pack.name).consent      # kept unless something is imported under the new words
    files: dict[str, list[Path]] = {}
    unknown = []
    for entry in sorted(os.listdir(folder)):
        path = folder / entry
        stem, suffix = os.path.splitext(entry)
        if suffix.lower() not in AUDIO_SUFFIXES:
            continue
        if stem in by_stem:
            files.setdefault(stem, []).append(path)
        else:
            unknown.append(entry)
    kept, notes, failed = [], [], []
    for stem, found in files.items():
        text = by_stem[stem]
        if len(found) > 1:
            failed.append(f"{found[0].parent}: {', '.join(p.name for p in found)} are all for {shown(text[:50])}; "
                          "keep one of them")
            continue
        path = found[0]
        try:
            cleaned = clean(decode(path), RATE, pack.loudness)
        except VoicecoachError as e:
            failed.append(str(e))
            continue
        if not cleaned.usable:
            failed.append(f"{path}: {cleaned.problems[0]}")
            continue
        pack = keep(pack, text, cleaned.samples, consent)
        kept.append(text)
        notes += [f"{path}: {problem} (imported; import a better file to replace it)" for problem in cleaned.problems]
        if progress:
            progress(text)
    pack = save(replace(pack, wanted=tuple(dict.fromkeys([*pack.wanted, *by_stem.values()])),
                        consent=pack.consent if kept else before))
    missing = tuple(t for t in by_stem.values() if not pack.take(t))
    return pack, Imported(tuple(kept), tuple(notes), tuple(failed), missing, tuple(unknown))


# ---------------------------------------------------------------- sharing as a zip

_MEMBER = re.compile(rf"(?:{re.escape(packs.MANIFEST)}|{re.escape(packs.PHRASE_LIST)}|{packs.TAKES}/[A-Za-z0-9._-]+\.wav)")


def _stamp(day: str) -> tuple[int, int, int, int, int, int]:
    try:
        d = datetime.date.fromisoformat(day)
        return (max(1980, d.year), d.month, d.day, 0, 0, 0)
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)


def export_zip(pack: packs.Pack, out: Path) -> int:
    """Write `pack` as a zip a patient can import (`voicecoach pack import NAME FILE.zip`); the number of takes."""
    # Each take is read and checked first: a damaged take is named, never shared.
    blobs = {}
    for take in pack.takes.values():
        packs.read_take(pack, take)
        blobs[take.file] = (packs.take_path(pack, take).read_bytes(), take.recorded)

    def member(z: zipfile.ZipFile, name: str, data: bytes, day: str) -> None:
        # No owner, no clock time, no computer's path: the day of the take and the name inside the pack.
        info = zipfile.ZipInfo(name, date_time=_stamp(day))
        info.external_attr = 0o600 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)

    with written(out), atomic_path(out, mode=0o600) as tmp:      # recordings of a voice: private
        with zipfile.ZipFile(tmp, "w") as z:
            member(z, packs.MANIFEST, pack.to_json().encode("utf-8"), "1980-01-01")
            if pack.wanted:
                member(z, packs.PHRASE_LIST, phrase_list(pack.name, pack.wanted).encode("utf-8"), "1980-01-01")
            for name, (data, day) in sorted(blobs.items()):
                member(z, name, data, day)
    return len(blobs)


def import_zip(pack: packs.Pack, source: Path) -> tuple[packs.Pack, int]:
    """`pack` with every take of the shared pack `source` (a zip `pack export` wrote), sample for sample."""
    try:
        st = os.stat(source)
    except OSError as e:
        raise VoicecoachError(f"{source}: cannot be read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise VoicecoachError(f"{source}: is not a regular file; give the pack's .zip file")
    try:
        with zipfile.ZipFile(source) as z:
            members = z.infolist()
            if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise VoicecoachError(f"{source}: is far larger than a voice pack; it was not imported")
            odd = [m.filename for m in members if not _MEMBER.fullmatch(m.filename) and not m.is_dir()]
            if odd or packs.MANIFEST not in {m.filename for m in members}:
                raise VoicecoachError(f"{source}: is not a voice pack voicecoach wrote ("
                                      f"{'it holds ' + shown(odd[0]) if odd else 'no ' + packs.MANIFEST}); "
                                      "nothing was imported")
            private_dir(paths.packs_dir())
            with tempfile.TemporaryDirectory(dir=paths.packs_dir(), prefix=".import-") as tmp:
                staged = Path(tmp)
                (staged / packs.TAKES).mkdir()
                for m in members:
                    if not m.is_dir():
                        (staged / m.filename).write_bytes(z.read(m))
                shared = packs.load(pack.name, staged)
                for take in shared.takes.values():
                    packs.read_take(shared, take)      # every take checked before any is kept
                for take in shared.takes.values():
                    pack = keep_file(pack, take.text, packs.take_path(shared, take).read_bytes(), take.recorded,
                                     take.consent or shared.consent)
                pack = save(replace(pack, consent=pack.consent or shared.consent,
                                    wanted=tuple(dict.fromkeys([*pack.wanted, *shared.wanted]))))
                return pack, len(shared.takes)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError):
        raise VoicecoachError(f"{source}: is not a zip file voicecoach can read (damaged?); nothing was "
                              "imported") from None
    except VoicecoachError as e:
        # A staged file's name means nothing to a person: say which zip held it.
        message = str(e)
        if "/.import-" in message:
            message = f"{source}: " + message.split(": ", 1)[-1]
        raise VoicecoachError(message) from None


def remove(pack: packs.Pack) -> None:
    """Delete the pack's folder and every take in it."""
    shutil.rmtree(pack.folder)


def summary(pack: packs.Pack) -> str:
    """`N phrases, M missing` for lists."""
    missing = len(pack.missing())
    return f"{len(pack.takes)} phrase{'s' if len(pack.takes) != 1 else ''} recorded" + (
        f", {missing} of its phrase list still missing" if missing else "")


def cleaned_take(samples: np.ndarray, rate: int, pack: packs.Pack) -> Cleaned:
    """A recording cleaned for `pack` (at its loudness)."""
    return clean(samples, rate, pack.loudness)
