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
from voicecoach.export.file import RENDERING, _share, export_session, prepare_for_file, rendering, session_tags
from voicecoach.export.formats import FORMATS
from voicecoach.files import make_dir, write_text
from voicecoach.handsfree import PRE_ROLL_S


@dataclass(frozen=True)
class StageFile:
    """One file of a program folder: what to play, and under which name."""
    title: str
    script: Path
    params: Mapping[str, object]
    guidance: str = ""      # how often, and when to move on: for the folder's README
    stages: tuple = ()      # the numbers of the stages it belongs to (several for a session alongside them)
    alongside: bool = False  # a session the program lists beside its stages, not a stage itself

    def label(self) -> str:
        """Which stage this file goes with, in neutral words: "stage 2", "alongside stages 3 to 6"."""
        numbers = list(self.stages)
        if not numbers:
            return ""
        if len(numbers) == 1:
            listed = f"stage {numbers[0]}"
        elif numbers == list(range(numbers[0], numbers[-1] + 1)):
            listed = f"stages {numbers[0]} to {numbers[-1]}"
        else:
            listed = "stages " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
        return f"alongside {listed}" if self.alongside else listed


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
        files = [StageFile(s.name, s.script, dict(s.set), f"{s.frequency[:1].upper()}{s.frequency[1:]}. "
                                                         f"Move on when: {s.move_on_when}", (number,))
                 for number, s in enumerate(program.stages, start=1)]
        return program.title, program.about, tuple(files) + _alongside(program.stages)
    from voicecoach.exercise.script import load_script
    script = load_script(path, overrides)
    return script.title, script.about or "", (StageFile(script.title, Path(path), dict(overrides or {})),)


def _alongside(stages) -> tuple:
    """The sessions stages list under `alongside`, each once, in the order they first appear."""
    from voicecoach.exercise.script import load_script
    found: dict[Path, list[int]] = {}
    names: dict[Path, list[str]] = {}
    for number, stage in enumerate(stages, start=1):
        for script in stage.alongside:
            key = Path(script).resolve()
            if number not in found.setdefault(key, []):
                found[key].append(number)
                names.setdefault(key, []).append(stage.name)
    files = []
    for key, numbers in found.items():
        title = load_script(key).title
        guidance = "Alongside " + "; ".join(names[key]) + ", whenever it helps."
        files.append(StageFile(title, key, {}, guidance, tuple(numbers), alongside=True))
    return tuple(files)


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
                   transcript: bool | None = None, force: bool = False, hands_free: bool = False,
                   pre_roll: int = PRE_ROLL_S, progress: Callable[..., None] | None = None,
                   overrides: Mapping | None = None, voice: str | None = None, rate: int | None = None,
                   volume: float | None = None, background: str | None = None,
                   background_level: float | None = None) -> ProgramExport:
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
    sessions = [prepare_for_file(s.script, cache, hands_free=hands_free, pre_roll=pre_roll, overrides=s.params,
                                 voice=voice, rate=rate, volume=volume, background=background,
                                 background_level=background_level,
                                 progress=rendering(progress, f"Session {k} of {len(stages)}",
                                                    RENDERING * (k - 1) / len(stages), RENDERING * k / len(stages)))
                for k, s in enumerate(stages, 1)]
    album = NEUTRAL if discreet else title
    done, entries = [], []
    # Progress: the fraction of all stages' audio written, with the stage being worked on.
    total = max(1, sum(s.timeline.length for s in sessions))
    # Encoding fills the rest of the bar: all of it when nothing needed rendering.
    before_stage = round(total * RENDERING / (1 - RENDERING)) if any(s.synthesised for s in sessions) else 0
    total += before_stage
    for number, (stage, session) in enumerate(zip(stages, sessions), start=1):
        name = stage_file(number, stage.title, fmt, discreet=discreet)
        tags = session_tags(session, discreet=discreet, title=stage.title, album=album,
                            track=number, tracks=len(stages))
        share = session.timeline.length
        label = f"Session {number} of {len(stages)}: {tags.title}"
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
                             guidance=[s.guidance for s in stages], stages=[s.label() for s in stages]))
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
