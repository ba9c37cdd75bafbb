"""The exercise library: the scripts in a folder, with their titles and real lengths, and its programs."""

from __future__ import annotations

from pathlib import Path

from voicecoach.errors import VoicecoachError
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


