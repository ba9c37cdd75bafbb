"""Programs: the graded path through the scripts, stage by stage (same `voicecoach: 1` family)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from voicecoach import paths
from voicecoach.errors import VoicecoachError, shown
from voicecoach.exercise.document import Document, Node
from voicecoach.exercise.script import FORMAT_VERSION, load_script

MAX_STAGES = 100
_TOP_KEYS = {"voicecoach", "title", "about", "stages"}
_STAGE_KEYS = {"stage", "script", "set", "move_on_when", "frequency", "note", "alongside"}
_NUMBERS = {"once": 1, "one": 1, "twice": 2, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_TIMES = re.compile(r"\b(\d+|once|twice|one|two|three|four|five|six|seven)\b(?:\s+times?)?\s+(?:a|per|each)\s+(week|day)\b")
_DAILY = re.compile(r"\b(every ?day|daily|each day)\b")


@dataclass(frozen=True)
class Stage:
    name: str
    script: Path                      # resolved against the program file's folder
    set: Mapping[str, object]         # --set overrides for the script
    move_on_when: str
    frequency: str                    # as written, for people
    per_week: int                     # the fewest sessions a week the frequency asks for
    line: int
    note: str | None = None
    alongside: tuple = ()             # other scripts that suit this stage (paths)

    def label(self) -> str:
        """The script's file name with its settings, as typed on the command line."""
        sets = "".join(f" --set {k}={v}" for k, v in self.set.items())
        return f"{self.script.name}{sets}"


@dataclass(frozen=True)
class Program:
    path: Path
    title: str
    about: str
    stages: tuple = field(default_factory=tuple)


def is_program(doc: Document) -> bool:
    """True when a parsed document is a program (it lists `stages:`), not a script."""
    root = doc.root
    if not root.is_mapping:
        return False
    return any(key == "stages" for key, _, _ in root.items("the file"))


def per_week(text: str) -> int | None:
    """The fewest sessions a week a frequency such as "most days, at least 3 times a week" asks for."""
    text = text.lower()
    found = []
    for number, unit in _TIMES.findall(text):
        n = int(number) if number.isdigit() else _NUMBERS[number]
        found.append(n * 7 if unit == "day" else n)
    if _DAILY.search(text):
        found.append(7)
    return min(found) if found else None


def _text(node: Node, what: str) -> str:
    value = node.scalar(what)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise node.error(f"{what} must be a short text")
    return " ".join(str(value).split())


def _script_path(node: Node, folder: Path, what: str) -> Path:
    name = _text(node, what)
    path = (folder / name) if not Path(name).is_absolute() else Path(name)
    if path.suffix != ".yaml" and not path.exists():
        path = path.with_name(path.name + ".yaml")
    if not path.is_file():
        raise node.error(f"{what}: there is no script {shown(name)} next to the program")
    if not any(_inside(path, root) for root in (folder, paths.scripts_dir(), paths.user_scripts_dir())):
        # A program handed to a user could name ~/.ssh/id_rsa: its errors would quote that file's lines.
        raise node.error(f"{what}: {shown(name)} is outside the program's folder and the library; put the "
                         "script next to the program")
    return path


def _inside(path: Path, folder: Path) -> bool:
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))
    except (OSError, ValueError):
        return False


def _frequency(node: Node) -> tuple[str, int]:
    value = node.scalar("frequency")
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{value} times a week"
    else:
        text = _text(node, "frequency")
    n = per_week(text)
    if n is None or not 1 <= n <= 7 * 24:
        raise node.error(f"frequency {shown(text)} does not say how often; write it like "
                         "\"most days, at least 3 times a week\" or \"every day\"")
    return text, n


def _stage(node: Node, folder: Path) -> Stage:
    f = {}
    for key, key_node, value in node.items("a stage"):
        if key not in _STAGE_KEYS:
            raise key_node.error(f"a stage has no setting `{key}` (it takes: {', '.join(sorted(_STAGE_KEYS))})")
        f[key] = value
    for key in ("stage", "script", "move_on_when", "frequency"):
        if key not in f:
            raise node.error(f"the stage needs `{key}:`")
    name = _text(f["stage"], "stage")
    script = _script_path(f["script"], folder, "script")
    sets: dict[str, object] = {}
    if "set" in f:
        for key, _, value in f["set"].items("set"):
            v = value.scalar(f"set.{key}")
            if v is None or isinstance(v, bool):
                raise value.error(f"set.{key} must be a number or a text")
            sets[key] = v
    try:
        load_script(script, sets)   # the stage only makes sense if its script plays with these settings
    except VoicecoachError as e:
        raise (f["set"] if "set" in f else f["script"]).error(f"stage {shown(name)}: {e}") from None
    text, n = _frequency(f["frequency"])
    alongside: tuple[Path, ...] = ()
    if "alongside" in f:
        alongside = tuple(_script_path(item, folder, "alongside") for item in f["alongside"].sequence("alongside"))
    return Stage(
        name=name, script=script, set=sets,
        move_on_when=_text(f["move_on_when"], "move_on_when"),
        frequency=text, per_week=n, line=node.line,
        note=_text(f["note"], "note") if "note" in f else None,
        alongside=alongside,
    )


def program_from_document(doc: Document) -> Program:
    """Validate a parsed document as a version-1 program."""
    root = doc.root
    f = {}
    for key, key_node, value in root.items("the program"):
        if key not in _TOP_KEYS:
            raise key_node.error(f"unknown key `{key}` (a program has: {', '.join(sorted(_TOP_KEYS))})")
        f[key] = value
    if "voicecoach" not in f:
        raise root.error("the first line should be `voicecoach: 1` (the format version)")
    version = f["voicecoach"].scalar("voicecoach")
    if version != FORMAT_VERSION:
        raise f["voicecoach"].error(f"format version {shown(version)} is not known; this voicecoach reads version {FORMAT_VERSION}")
    for key in ("title", "stages"):
        if key not in f:
            raise root.error(f"the program needs `{key}:`")
    items = f["stages"].sequence("stages")
    if not items:
        raise f["stages"].error("stages is empty; list at least one stage")
    if len(items) > MAX_STAGES:
        raise f["stages"].error(f"a program has at most {MAX_STAGES} stages")
    folder = doc.path.parent
    return Program(
        path=doc.path,
        title=_text(f["title"], "title"),
        about=_text(f["about"], "about") if "about" in f else "",
        stages=tuple(_stage(item, folder) for item in items),
    )


def load_program(path) -> Program:
    """Load and validate a program file, checking that every stage's script plays with its settings."""
    return program_from_document(Document.load(path))
