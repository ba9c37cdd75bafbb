"""The exercise library: the scripts in a folder, with their titles and real lengths, and its programs."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Sequence

from voicecoach import paths
from voicecoach.errors import VoicecoachError, shown
from voicecoach.exercise.document import Document
from voicecoach.exercise.program import is_program


def _is_program_file(path: Path) -> bool:
    try:
        return is_program(Document.load(path))
    except VoicecoachError:
        return False       # an unreadable file is reported as a broken script, by prepare


def find(name: str, folder: Path) -> Path:
    """A script or program given as a path, or by name in `folder` ("program", "trainer")."""
    path = Path(name)
    try:
        if path.exists() or path.parent != Path("."):
            return path
        for candidate in (Path(folder) / name, Path(folder) / f"{name}.yaml"):
            if candidate.is_file():
                return candidate
    except OSError:     # a name too long for the file system: reading it says so, in one line
        pass
    return path




def folders() -> tuple[Path, ...]:
    """Where sessions are found by name: the user's own scripts first, then the library."""
    return (paths.user_scripts_dir(), paths.scripts_dir())


def names(where: Sequence[Path] | None = None) -> list[str]:
    """Every session name (file name without .yaml) in `where` (default: folders())."""
    found = {p.stem for folder in (where or folders()) if Path(folder).is_dir() for p in Path(folder).glob("*.yaml")}
    return sorted(found)


def locate(name: str | Path, where: Sequence[Path] | None = None) -> Path:
    """A session named as a path, a file name or a name without .yaml, from any folder; else a kind error."""
    path = Path(name)
    if path.is_file() or path.parent != Path("."):
        return path         # a path that is not there is reported as "no such file" when it is read
    for folder in where or folders():
        found = find(path.name, Path(folder))
        if found.is_file():
            return found
    close = difflib.get_close_matches(path.stem, names(where), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise VoicecoachError(f"there is no script {shown(str(name))}, as a path or by name; {hint}`voicecoach list` shows them all")
