"""The catalogue: the library's scripts and programs with their titles and lengths."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from voicecoach.cache import Cache
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.document import Document
from voicecoach.exercise.library import _is_program_file
from voicecoach.exercise.program import (
    Program,
    Stage,
    is_program,
    load_program,
    program_from_document,
)
from voicecoach.session import known_length
from voicecoach.units import length_text


@dataclass(frozen=True)
class ScriptEntry:
    path: Path
    title: str
    about: str
    length: int | None     # ms; None when the script has an error
    error: str | None = None
    estimated: bool = False    # the length is estimated: some phrases are not rendered yet


@dataclass(frozen=True)
class StageEntry:
    number: int            # 1-based position in the program
    stage: Stage
    title: str             # the title of the stage's script, with its settings applied
    length: int            # ms, with the stage's settings
    estimated: bool = False    # the length is estimated: some phrases are not rendered yet


@dataclass(frozen=True)
class ProgramEntry:
    path: Path
    program: Program | None
    stages: tuple          # StageEntry, in the program's order
    error: str | None = None

    def loaded(self) -> Program:
        """The program; an entry that could not be read has none, and asking it for one is a bug."""
        if self.program is None:
            raise VoicecoachError(f"{self.path}: cannot be read: {self.error}")
        return self.program

    def to_dict(self) -> dict:
        """Plain data for JSON: lengths in seconds with millisecond precision."""
        program = self.loaded()
        return {
            "title": program.title,
            "about": program.about,
            "stages": [
                {"number": s.number, "stage": s.stage.name, "script": s.stage.script.name,
                 "set": dict(s.stage.set), "title": s.title, "length": s.length / 1000, "estimated": s.estimated,
                 "move_on_when": s.stage.move_on_when, "frequency": s.stage.frequency,
                 "per_week": s.stage.per_week, "note": s.stage.note,
                 "alongside": [p.name for p in s.stage.alongside]}
                for s in self.stages
            ],
        }


# A sentence that only says how long a session is ("About 6 minutes.", "Takes 5-10 min."): a listing shows the
# measured length beside it, and the two said together often disagree (5:12 next to "About 5 minutes").
_LENGTH_SENTENCE = re.compile(
    r"(?:it\s+)?(?:takes|lasts)?\s*(?:about|around|roughly|approximately|some|under|over|nearly|almost)?\s*"
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty)"
    r"(?:\s*(?:-|–|to|or)\s*\d+)?\s*(?:min(?:ute)?s?|hours?)(?:\s+long)?\s*[.!]?", re.IGNORECASE)


def without_length(about: str) -> str:
    """A description without its sentences that only say the session's length (a listing shows the real one)."""
    sentences = re.split(r"(?<=[.!?])\s+", about.strip())
    return " ".join(s for s in sentences if not _LENGTH_SENTENCE.fullmatch(s))


def catalogue(folder: Path, cache: Cache) -> list[ScriptEntry]:
    """Every script in `folder`, in name order; a broken one is listed with its error (programs are not scripts)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VoicecoachError(f"{folder}: no such folder of scripts")
    entries = []
    for path in sorted(folder.glob("*.yaml")):
        if _is_program_file(path):
            continue
        try:
            # Nothing is synthesised to list a length: cached phrases give theirs, the others an estimate.
            script, length = known_length(path, cache)
        except VoicecoachError as e:
            entries.append(ScriptEntry(path, path.stem, "", None, str(e)))
            continue
        entries.append(ScriptEntry(path, script.title, script.about, length.ms, estimated=length.estimated))
    return entries


def measured_stages(program: Program, cache: Cache, *, voice=None, rate=None, volume=None) -> tuple:
    """Each stage of `program` with its script's title and length at these voice settings (estimated where
    its phrases are not rendered yet: nothing is synthesised)."""
    out = []
    for number, stage in enumerate(program.stages, 1):
        script, length = known_length(stage.script, cache, overrides=stage.set, voice=voice, rate=rate, volume=volume)
        out.append(StageEntry(number, stage, script.title, length.ms, length.estimated))
    return tuple(out)


def programs(folder: Path, cache: Cache) -> list[ProgramEntry]:
    """Every program file in `folder`, with its stages in order; a broken one carries its error."""
    out = []
    for path in sorted(Path(folder).glob("*.yaml")):
        if not _is_program_file(path):
            continue
        try:
            program = load_program(path)
        except VoicecoachError as e:
            out.append(ProgramEntry(path, None, (), str(e)))
            continue
        out.append(ProgramEntry(path, program, measured_stages(program, cache)))
    return out


def open_program(path: Path, cache: Cache, **voice) -> ProgramEntry | None:
    """The program at `path` with its stages, or None when the file is a script."""
    doc = Document.load(path)
    if not is_program(doc):
        return None
    program = program_from_document(doc)
    return ProgramEntry(Path(path), program, measured_stages(program, cache, **voice))



def describe_program(entry: ProgramEntry, columns: int = 80) -> str:
    """A readable listing of a program: each stage in order with its script, length, pace and goal, in lines of
    at most `columns` (a longer word, such as a path, keeps a line of its own)."""
    program = entry.loaded()

    def fill(text: str, first: str = "", indent: int = 0) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), columns, initial_indent=first, subsequent_indent=" " * indent,
                             break_long_words=False, break_on_hyphens=False) or [first.rstrip()]

    lines = fill(f"{program.title} — {len(entry.stages)} stages")
    if program.about:
        lines += fill(program.about)
    names = min(30, max((len(s.stage.name) for s in entry.stages), default=0))
    for s in entry.stages:
        lines.append("")
        lead = f"{s.number:>2}. {s.stage.name:<{names}} {length_text(s.length, s.estimated):>11}  "
        lines += fill(s.stage.label(), lead, len(lead))
        lines += fill(s.stage.frequency, "    How often:     ", 19)
        lines += fill(s.stage.move_on_when, "    Move on when:  ", 19)
        if s.stage.note:
            lines += fill(s.stage.note, "    Note:          ", 19)
        if s.stage.alongside:
            lines += fill(", ".join(p.name for p in s.stage.alongside), "    Alongside:     ", 19)
    return "\n".join(lines)
