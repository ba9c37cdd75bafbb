"""The exercise library: the scripts in a folder, with their titles and real lengths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cache import Cache
from .errors import VoicecoachError
from .session import prepare


@dataclass(frozen=True)
class Entry:
    path: Path
    title: str
    about: str
    length: int | None     # ms; None when the script has an error
    error: str | None = None


def catalogue(folder: Path, cache: Cache) -> list[Entry]:
    """Every script in `folder`, in name order; a broken one is listed with its error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VoicecoachError(f"{folder}: no such folder of scripts")
    entries = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            session = prepare(path, cache)
        except VoicecoachError as e:
            entries.append(Entry(path, path.stem, "", None, str(e)))
            continue
        entries.append(Entry(path, session.script.title, session.script.about, session.timeline.length))
    return entries
