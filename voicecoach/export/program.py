"""Program export: every stage of a program into one numbered folder, with a playlist and README.txt."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from voicecoach.cache import Cache
from voicecoach.discreet import NEUTRAL
from voicecoach.errors import VoicecoachError
from voicecoach.export.file import _share, export_session, session_tags
from voicecoach.export.formats import FORMATS
from voicecoach.files import make_dir, write_text
from voicecoach.session import prepare


@dataclass(frozen=True)
class StageFile:
    """One file of a program folder: what to play, and under which name."""
    title: str
    script: Path
    params: Mapping[str, object]
    guidance: str = ""      # how often, and when to move on: for the folder's README


@dataclass(frozen=True)
class ProgramExport:
    folder: Path
    title: str
    files: tuple            # Exported, in order
    playlist: Path
    readme: Path
    removed: tuple = ()     # files of an earlier export that the program no longer has

    @property
    def unchanged(self) -> bool:
        return all(f.skipped for f in self.files)

    @property
    def synthesised(self) -> int:
        return sum(f.session.synthesised for f in self.files)


def stage_files(path: Path, overrides: Mapping[str, object] | None = None) -> tuple[str, str, tuple]:
    """(title, about, stages) of a program file; a single script is a program of one stage."""
    from voicecoach.exercise.document import Document
    from voicecoach.exercise.program import is_program, program_from_document
    doc = Document.load(path)
    if is_program(doc):
        if overrides:
            raise VoicecoachError(f"{path}: --set applies to a script; each stage of a program sets its own")
        program = program_from_document(doc)
        return program.title, program.about, tuple(
            StageFile(s.name, s.script, dict(s.set), f"{s.frequency[:1].upper()}{s.frequency[1:]}. "
                                                 f"Move on when: {s.move_on_when}") for s in program.stages)
    from voicecoach.exercise.script import load_script
    script = load_script(path, overrides)
    return script.title, script.about or "", (StageFile(script.title, Path(path), dict(overrides or {})),)


def _folder(folder: str | Path) -> Path:
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise VoicecoachError(f"{folder}: is a file; give a folder for the program")
    try:
        make_dir(folder)          # serve's, in the user data folder, is private like the log beside it
    except OSError as e:
        raise VoicecoachError(f"{folder}: cannot make this folder ({e.strerror or e})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise VoicecoachError(f"{folder}: cannot write in this folder (permission denied)")
    return folder


def export_program(path: str | Path, folder: str | Path, cache: Cache, *, fmt: str = "mp3", discreet: bool = False,
                   transcript: bool | None = None, force: bool = False,
                   progress: Callable[[float, str], None] | None = None, overrides: Mapping | None = None,
                   voice: str | None = None, rate: int | None = None, volume: float | None = None) -> ProgramExport:
    """Export every stage of the program at `path` into `folder`: numbered files, playlist, README."""
    from voicecoach.export.playlist import (
        PLAYLIST,
        README,
        PlaylistEntry,
        m3u8,
        parse_m3u8,
        readme,
        stage_file,
    )
    if f".{fmt}" not in FORMATS:
        raise VoicecoachError(f"unknown audio format {fmt}; use one of {', '.join(f[1:] for f in FORMATS)}")
    title, about, stages = stage_files(Path(path), overrides)
    folder = _folder(folder)
    with_transcript = (not discreet) if transcript is None else transcript
    # Everything is rendered and laid out before the first file is written: a bad stage stops us early.
    sessions = [prepare(s.script, cache, overrides=s.params, voice=voice, rate=rate, volume=volume) for s in stages]
    album = NEUTRAL if discreet else title
    done, entries = [], []
    # Progress: the fraction of all stages' audio written, with the stage being worked on.
    total = max(1, sum(s.timeline.length for s in sessions))
    before_stage = 0
    for number, (stage, session) in enumerate(zip(stages, sessions), start=1):
        name = stage_file(number, stage.title, fmt, discreet=discreet)
        tags = session_tags(session, discreet=discreet, title=stage.title, album=album,
                            track=number, tracks=len(stages))
        share = session.timeline.length
        label = f"Stage {number} of {len(stages)}: {tags.title}"
        done.append(export_session(session, folder / name, tags, cache=cache, transcript=with_transcript, force=force,
                                   progress=_share(progress, label, before_stage, share, total) if progress else None))
        before_stage += share
        if progress:
            progress(before_stage / total, label)
        entries.append(PlaylistEntry(name, tags.title, session.timeline.length))
    playlist, notes = folder / PLAYLIST, folder / README
    try:
        before = parse_m3u8(playlist.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        before = []
    write_text(playlist, m3u8(entries, album))
    write_text(notes, readme(album, entries, discreet=discreet, transcripts=with_transcript, about=about,
                             guidance=[s.guidance for s in stages]))
    removed = _remove_stale(folder, [e.file for e in before], {e.file for e in entries}, with_transcript)
    return ProgramExport(folder, album, tuple(done), playlist, notes, removed)


_OURS = re.compile(r"^(\d\d |Session \d\d\.)")


def _remove_stale(folder: Path, old: list, keep: set, transcripts: bool) -> tuple:
    # Only files an earlier export listed in its playlist, named as we name them: never a user's own file.
    removed = []
    for name in old:
        if name in keep or "/" in name or not _OURS.match(name) or Path(name).suffix not in FORMATS:
            continue
        for path in (folder / name, (folder / name).with_suffix(".vtt")):
            if path.is_file():
                path.unlink()
                removed.append(path)
    if not transcripts:
        for name in keep:
            vtt = (folder / name).with_suffix(".vtt")
            if vtt.is_file():
                vtt.unlink()
                removed.append(vtt)
    return tuple(removed)
