"""Program export: every stage of a program into one numbered folder, in the program's order (each session
alongside a stage right after it), with the whole program's playlist, one per stage, a cover, each session's
chapters as JSON, and README.txt."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping

from voicecoach.cache import Cache
from voicecoach.discreet import NEUTRAL
from voicecoach.errors import VoicecoachError
from voicecoach.export.chapters import chapters_json, chapters_name
from voicecoach.export.cover import COVER, cover_png
from voicecoach.export.file import (
    RENDERING,
    _share,
    bed_file,
    export_session,
    for_listeners,
    prepare_for_file,
    refuse_the_bed,
    rendering,
    session_tags,
    transcript_text,
)
from voicecoach.export.formats import FORMATS
from voicecoach.export.manifest import Manifest, refuse_others
from voicecoach.files import atomic_path, in_the_way, make_dir, sweep_folder, write_text, written
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
    bundle: Path | None = None   # all of them in one zip, when asked for
    stage_playlists: tuple = ()  # one playlist per stage (Path), in stage order; none for a single script
    chapters: tuple = ()    # each file's chapters as JSON (Path), in the order of `files`
    cover: Path | None = None    # the folder's cover picture, also inside every file
    tags: tuple = ()        # what each file carries (audio.tags.Tags), in the order of `files`
    stages: tuple = ()      # each file's StageFile, in the order of `files`
    about: str = ""         # the program's about ("" when discreet)
    discreet: bool = False

    @property
    def unchanged(self) -> bool:
        return all(f.skipped for f in self.files)

    @property
    def synthesised(self) -> int:
        return sum(f.session.synthesised for f in self.files)


def stage_files(path: Path, overrides: Mapping[str, object] | None = None) -> tuple[str, str, tuple]:
    """(title, about, stages) of a program file, in the program's order; a single script is a program of one stage."""
    title, about, files, _ = program_layout(path, overrides)
    return title, about, files


def program_layout(path: Path, overrides: Mapping[str, object] | None = None) -> tuple[str, str, tuple, tuple]:
    """(title, about, files, stage lists): the files in program order, each session alongside stages right
    after the first stage that lists it; each stage's list is the indexes of its session and then of the
    sessions it lists alongside, in the order it lists them (none for a single script)."""
    from voicecoach.exercise.document import Document
    from voicecoach.exercise.program import is_program, program_from_document
    doc = Document.load(path)
    if is_program(doc):
        if overrides:
            raise VoicecoachError(f"{path}: --set applies to a script; each stage of a program sets its own")
        program = program_from_document(doc)
        alongside = _alongside(program.stages)
        files: list[StageFile] = []
        for number, s in enumerate(program.stages, start=1):
            files.append(StageFile(s.name, s.script, dict(s.set), f"{s.frequency[:1].upper()}{s.frequency[1:]}. "
                                                                  f"Move on when: {s.move_on_when}", (number,)))
            files += [a for a in alongside if a.stages[0] == number]
        index = {f.script.resolve(): i for i, f in enumerate(files) if f.alongside}
        lists = tuple((files.index(next(f for f in files if not f.alongside and f.stages == (number,))),
                       *dict.fromkeys(index[Path(a).resolve()] for a in s.alongside))
                      for number, s in enumerate(program.stages, start=1))
        return program.title, program.about, tuple(files), lists
    from voicecoach.exercise.script import load_script
    script = load_script(path, overrides)
    return script.title, for_listeners(script.about or ""), (StageFile(script.title, Path(path), dict(overrides or {})),), ()


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
                   transcript: bool | None = None, force: bool = False, beside: bool | None = None,
                   bundle: bool = False, hands_free: bool = False,
                   pre_roll: int = PRE_ROLL_S, progress: Callable[..., None] | None = None,
                   overrides: Mapping | None = None, voice: str | None = None, rate: int | None = None,
                   volume: float | None = None, background: str | None = None,
                   background_level: float | None = None, keep_alive: bool | None = None) -> ProgramExport:
    """Export every stage of the program at `path` into `folder`: numbered files, playlist, README (and a zip).

    `force` exports every file again; `beside` (by default, what `force` says) writes into a folder that
    holds files this tool did not write, replacing those with the names it needs and removing none."""
    from voicecoach.export.playlist import PLAYLIST, PlaylistEntry, m3u8, safe_name, stage_file, stage_playlist
    from voicecoach.export.readme import README, readme
    if f".{fmt}" not in FORMATS:
        raise VoicecoachError(f"unknown audio format {fmt}; use one of {', '.join(f[1:] for f in FORMATS)}")
    title, about, stages, lists = program_layout(Path(path), overrides)
    folder = _folder(folder)
    beside = force if beside is None else beside
    with_transcript = (not discreet) if transcript is None else transcript
    album = NEUTRAL if discreet else title
    names = [stage_file(number, stage.title, fmt, discreet=discreet) for number, stage in enumerate(stages, 1)]
    transcripts = [str(Path(n).with_suffix(".vtt")) for n in names] if with_transcript else []
    chapter_files = [chapters_name(n) for n in names]
    playlists = [stage_playlist(k, stages[group[0]].title, discreet=discreet) for k, group in enumerate(lists, 1)]
    zip_name = f"{safe_name(album)}.zip" if bundle else None
    needed = [*names, *transcripts, *chapter_files, PLAYLIST, *playlists, COVER, README,
              *([zip_name] if zip_name else [])]
    # Before any rendering: what stands in the way, whose files these are, and the bed the export reads.
    sweep_folder(folder)
    for name in needed:
        problem = in_the_way(folder / name)
        if problem:
            raise VoicecoachError(f"{folder / name}: {problem} of a file this export writes; move or rename it")
    manifest = Manifest.load(folder)
    others = set(manifest.others())
    if not beside:
        refuse_others(folder, sorted(others))
    refuse_the_bed(background, [folder / n for n in needed])

    def write(name: str, text: str) -> bool:
        # A file of the user's with a name we need (only with --force) is replaced even if it reads the same,
        # so that it is ours afterwards.
        return write_text(folder / name, text, force=name in others,
                          before_replace=lambda tmp: manifest.claim(name, tmp))

    sessions = [prepare_for_file(s.script, cache, hands_free=hands_free, pre_roll=pre_roll, overrides=s.params,
                                 voice=voice, rate=rate, volume=volume, background=background,
                                 background_level=background_level, keep_alive=keep_alive,
                                 progress=rendering(progress, f"Session {k} of {len(stages)}",
                                                    RENDERING * (k - 1) / len(stages), RENDERING * k / len(stages)))
                for k, s in enumerate(stages, 1)]
    for session in sessions:
        refuse_the_bed(bed_file(session), [folder / n for n in needed])
    done, entries, all_tags = [], [], []
    # Progress: the fraction of all stages' audio written, with the stage being worked on.
    total = max(1, sum(s.timeline.length for s in sessions))
    # Encoding fills the rest of the bar: all of it when nothing needed rendering.
    before_stage = round(total * RENDERING / (1 - RENDERING)) if any(s.synthesised for s in sessions) else 0
    total += before_stage
    for number, (stage, session, name) in enumerate(zip(stages, sessions, names), start=1):
        tags = session_tags(session, discreet=discreet, title=stage.title, album=album,
                            track=number, tracks=len(stages))
        share = session.timeline.length
        label = f"Session {number} of {len(stages)}: {tags.title}"
        exported = export_session(session, folder / name, tags, cache=cache, transcript=False,
                                  force=force or name in others,
                                  claim=lambda final, tmp: manifest.claim(final.name, tmp),
                                  progress=_share(progress, label, before_stage, share, total) if progress else None)
        if with_transcript:
            vtt = str(Path(name).with_suffix(".vtt"))
            exported = replace(exported, transcript=folder / vtt,
                               transcript_written=write(vtt, transcript_text(session.timeline)))
        write(chapters_name(name), chapters_json(tags.chapters, tags.title))
        done.append(exported)
        all_tags.append(tags)
        before_stage += share
        if progress:
            progress(before_stage / total, label)
        entries.append(PlaylistEntry(name, tags.title, session.timeline.length))
    write(PLAYLIST, m3u8(entries, album))
    for k, (group, playlist) in enumerate(zip(lists, playlists), 1):
        heading = f"{album}, stage {k}" if discreet else f"{album}: stage {k}, {stages[group[0]].title}"
        write(playlist, m3u8([entries[i] for i in group], heading))
    _write_bytes(folder / COVER, cover_png(discreet=discreet), force=COVER in others,
                 before_replace=lambda tmp: manifest.claim(COVER, tmp))
    write(README, readme(album, entries, discreet=discreet, transcripts=with_transcript, about=about,
                         guidance=[s.guidance for s in stages], stages=[s.label() for s in stages]))
    zipped = None
    if zip_name:
        zipped = _bundle(folder, [n for n in needed if n != zip_name], zip_name, force=zip_name in others,
                         before_replace=lambda tmp: manifest.claim(zip_name, tmp))
    # Last, once everything is in place: files of an earlier export the program no longer has, if unchanged.
    removed = manifest.settle(needed)
    return ProgramExport(folder, album, tuple(done), folder / PLAYLIST, folder / README, removed, zipped,
                         stage_playlists=tuple(folder / p for p in playlists),
                         chapters=tuple(folder / c for c in chapter_files), cover=folder / COVER,
                         tags=tuple(all_tags), stages=tuple(stages), about="" if discreet else about,
                         discreet=discreet)


def _write_bytes(path: Path, data: bytes, *, force: bool = False,
                 before_replace: Callable[[Path], None] | None = None) -> bool:
    """Write `data` to `path` atomically unless it already holds exactly that (or `force`); True if written."""
    if not force and path.is_file() and not path.is_symlink():
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                return False
        except OSError:
            pass
    with written(path), atomic_path(path, before_replace=before_replace) as tmp:
        tmp.write_bytes(data)
    return True


def _bundle(folder: Path, names, zip_name: str, *, force: bool = False,
            before_replace: Callable[[Path], None] | None = None) -> Path:
    """A zip of `names` in `folder` (stored, not recompressed), rebuilt only when one of them changed."""
    out = folder / zip_name
    stats = [(n, (folder / n).stat()) for n in names]
    stamp = hashlib.sha256(json.dumps([(n, s.st_size, s.st_mtime_ns) for n, s in stats]).encode()).hexdigest()
    if not force:
        try:
            with zipfile.ZipFile(out) as old:
                if old.comment.decode("ascii", "replace") == stamp:
                    return out
        except (OSError, zipfile.BadZipFile):
            pass
    with written(out), atomic_path(out, before_replace=before_replace) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            for name, _ in stats:
                z.write(folder / name, name)     # audio is compressed already; the zip only gathers
            z.comment = stamp.encode()
    return out
