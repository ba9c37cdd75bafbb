"""Which files in a folder this tool wrote: a small JSON manifest kept beside them, each file with its
size, modification time and SHA-256 as it was left. Only those files, unchanged since, are ever
replaced or removed; anything else in the folder is the user's."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from voicecoach.errors import VoicecoachError, shown
from voicecoach.files import PARTIAL, atomic_path, written

MANIFEST = ".voicecoach-export.json"
VERSION = 1


@dataclass(frozen=True)
class Record:
    """A file as this tool left it."""
    size: int
    mtime_ns: int
    sha256: str

    def to_dict(self) -> dict:
        """Plain data, for the manifest file."""
        return {"size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256}


def record_of(path: Path) -> Record:
    """The size, modification time and SHA-256 of the regular file at `path` (not following a link)."""
    found = os.lstat(path)
    if not stat.S_ISREG(found.st_mode):
        raise OSError(f"{path} is not a file")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return Record(found.st_size, found.st_mtime_ns, digest.hexdigest())


def _plain(name: object) -> bool:
    # A name the manifest may speak for: one entry of this folder, nothing that climbs out of it.
    return (isinstance(name, str) and name not in ("", ".", "..", MANIFEST) and "/" not in name
            and "\0" not in name and os.sep not in name)


def _records(data: object) -> dict[str, tuple[Record, ...]]:
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("files"), dict):
        return {}
    found: dict[str, tuple[Record, ...]] = {}
    for name, states in data["files"].items():
        if not _plain(name) or not isinstance(states, list):
            continue
        kept = []
        for s in states:
            try:
                kept.append(Record(int(s["size"]), int(s["mtime_ns"]), str(s["sha256"])))
            except (KeyError, TypeError, ValueError):
                continue
        if kept:
            found[name] = tuple(kept)
    return found


class Manifest:
    """The files of one folder this tool wrote, as it left them; every change is saved at once."""

    def __init__(self, folder: Path, files: dict[str, tuple[Record, ...]]):
        self.folder = Path(folder)
        self.files = dict(files)
        self._checked: dict[str, bool] = {}

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The folder's manifest; an empty one when there is none (or it cannot be read: then nothing is ours)."""
        path = Path(folder) / MANIFEST
        try:
            if not path.is_file() or path.is_symlink():
                return cls(folder, {})
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return cls(folder, {})
        return cls(folder, _records(data))

    def owns(self, name: str) -> bool:
        """Whether `name` in the folder is a regular file this tool wrote and nobody has changed since."""
        if name in self._checked:
            return self._checked[name]
        states = self.files.get(name, ())
        mine = False
        if states:
            try:
                found = os.lstat(self.folder / name)
            except OSError:
                found = None
            if found is not None and stat.S_ISREG(found.st_mode):
                same_size = [s for s in states if s.size == found.st_size]
                # Size and time as left: ours without reading it. Otherwise (a copy that kept the bytes but
                # not the time, say) the content decides.
                mine = any(s.mtime_ns == found.st_mtime_ns for s in same_size)
                if not mine and same_size:
                    try:
                        digest = record_of(self.folder / name).sha256
                    except OSError:
                        digest = None
                    mine = any(s.sha256 == digest for s in same_size)
        self._checked[name] = mine
        return mine

    def others(self) -> list[str]:
        """The entries of the folder this tool did not write (or that were changed since), sorted."""
        try:
            names = sorted(entry.name for entry in os.scandir(self.folder))
        except OSError as e:
            raise VoicecoachError(f"{self.folder}: cannot list this folder ({e.strerror or e})") from None
        return [n for n in names if n != MANIFEST and not PARTIAL.match(n) and not self.owns(n)]

    def claim(self, name: str, tmp: Path) -> None:
        """Record the finished temporary file `tmp` as what `name` will hold, before it is renamed into place."""
        # Kept beside the earlier record: killed between this and the rename, either file is still ours.
        record = record_of(tmp)
        self.files[name] = tuple(s for s in self.files.get(name, ()) if s != record) + (record,)
        self._checked.pop(name, None)
        self.save()

    def settle(self, names: Iterable[str]) -> tuple[Path, ...]:
        """Keep `names` (each as it now is) and remove every other file recorded here that is still ours."""
        keep = set(names)
        removed = []
        for name in sorted(set(self.files) - keep):
            path = self.folder / name
            if self.owns(name):
                try:
                    path.unlink()
                    removed.append(path)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    raise VoicecoachError(f"{path}: cannot remove this file of an earlier export "
                                          f"({e.strerror or e})") from None
            del self.files[name]      # gone, or changed since: no longer ours either way
        for name in sorted(keep & set(self.files)):
            if self.owns(name):
                found = os.lstat(self.folder / name)
                now = [s for s in self.files[name] if s.size == found.st_size and s.mtime_ns == found.st_mtime_ns]
                self.files[name] = tuple(now[-1:]) or (record_of(self.folder / name),)
            else:
                del self.files[name]
        self._checked.clear()
        self.save()
        return tuple(removed)

    def save(self) -> None:
        """Write the manifest into the folder, atomically."""
        path = self.folder / MANIFEST
        data = {"version": VERSION, "written_by": "voicecoach",
                "about": "The files voicecoach wrote here; it replaces or removes only these, and only unchanged.",
                "files": {name: [s.to_dict() for s in states] for name, states in sorted(self.files.items())}}
        with written(path), atomic_path(path) as tmp:
            tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def refuse_others(folder: Path, others: list[str]) -> None:
    """Stop with one line when `folder` holds files this tool did not write (--force lets it write beside them)."""
    if not others:
        return
    named = ", ".join(shown(n, 40) for n in others[:2])
    more = f" and {len(others) - 2} more" if len(others) > 2 else ""
    raise VoicecoachError(f"{folder}: holds {len(others)} file(s) voicecoach did not write ({named}{more}); "
                          "pick an empty or new folder, or add --force to write beside them "
                          "(none of them is removed; one with a name the export needs is replaced)")
