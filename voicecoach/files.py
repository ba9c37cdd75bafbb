"""Writing files so that a reader never sees half of one: atomic replacement, and one message when it fails."""

from __future__ import annotations

import errno
import os
import re
import secrets
import shlex
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from voicecoach.errors import VoicecoachError
from voicecoach.paths import in_user_dirs


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def sweep_partials(path: Path) -> None:
    """Remove temporary files an earlier, killed export of `path` left beside it."""
    path = Path(path)
    try:
        # The temporary file and anything written beside it (the ffmpeg metadata file: ".partial.tags").
        leftovers = list(path.parent.glob(f".{glob_escape(path.name)}.*.partial*"))
    except OSError:
        return
    for tmp in leftovers:
        found = re.match(rf"\.{re.escape(path.name)}\.(\d+)\.", tmp.name)
        if found and not _alive(int(found.group(1))):
            try:
                tmp.unlink()
            except OSError:
                pass


def glob_escape(name: str) -> str:
    """`name` with glob's special characters made literal."""
    return re.sub(r"([*?\[])", r"[\1]", name)


@contextmanager
def atomic_path(path: Path, mode: int | None = None):
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.

    With `mode` (0o600 for private data) the temporary file is created empty with that mode before
    anything is written to it; otherwise the writer creates it."""
    path = Path(path)
    sweep_partials(path)
    # The pid in the name lets a later export tell a dead export's leftovers from a running one's; 64
    # random bits keep two writers apart. The file is left for the writer to create (with the usual
    # mode): opening an existing file for writing truncates it, and ext4 then writes the whole file
    # to disk on close, 32 ms for a 30-minute WAV.
    tmp = (path.parent or Path(".")) / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.partial"
    if mode is not None:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def mount_point(path) -> str:
    """The mount point of the file system that holds (or would hold) `path`: the device a person can free."""
    where = Path(os.path.abspath(path))
    while not where.exists() and where != where.parent:
        where = where.parent
    while not os.path.ismount(where) and where != where.parent:
        where = where.parent
    return str(where)


def disk_full(path) -> bool:
    """Whether the file system holding `path` has no space left for us."""
    try:
        found = os.statvfs(mount_point(path))
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < 64 * 1024 or (found.f_files > 0 and found.f_favail == 0)


def no_space(path) -> str:
    """What a full disk is, in words: never corruption, and which device to free."""
    return f"no space left on {mount_point(path)}; free some space there and try again"


def written(path: Path):
    """Context: turn OS and encoder failures while writing `path` into one clear line."""
    @contextmanager
    def guard():
        try:
            yield
        except OSError as e:
            if e.errno in FULL:
                raise VoicecoachError(f"{path}: could not be written: {no_space(path)}; "
                                      "nothing was left behind") from None
            raise VoicecoachError(f"{path}: could not be written ({e.strerror or e}); "
                                  "nothing was left behind") from None
        except VoicecoachError as e:
            if str(e).startswith(str(path)):
                raise
            raise VoicecoachError(f"{path}: {e}; nothing was left behind") from None
    return guard()


def write_text(path: Path, text: str) -> bool:
    """Write `text` to `path` atomically unless it already holds exactly that; True if written."""
    path = Path(path)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    with written(path), atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return True


# ---------------------------------------------------------------- private folders

def private_dir(folder: str | os.PathLike) -> Path:
    """Make `folder` and its missing parents, each one it creates 0700 (the owner's only), whatever the umask."""
    folder = Path(folder)
    missing = []
    probe = folder
    while not os.path.lexists(probe) and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    for step in reversed(missing):
        try:
            # mkdir's mode passes through the umask, which can only take bits away: never more than 0700.
            os.mkdir(step, 0o700)
        except FileExistsError:
            continue          # another process made it first (if voicecoach, 0700 as well)
        os.chmod(step, 0o700)   # a umask such as 0277 would have left it unusable to its owner too
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    return folder


def make_dir(folder: str | os.PathLike) -> Path:
    """Make `folder` and its parents: private (0700) in voicecoach's user folders, the usual mode elsewhere."""
    folder = Path(folder)
    if in_user_dirs(folder):
        return private_dir(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def privacy_problems(places: Iterable[str | os.PathLike], *, tree: bool = True) -> list[str]:
    """Files and folders among `places` (and, with `tree`, inside them) that other users can reach, with the fix."""
    problems: list[str] = []
    seen: set[Path] = set()
    for place in places:
        root = Path(place)
        if root in seen or not os.path.lexists(root):
            continue
        seen.add(root)
        open_ones = [p for p in _walk(root, tree) if _mode(p) & 0o077]
        if not open_ones:
            continue
        if len(open_ones) > 3 or (len(open_ones) > 1 and root.is_dir()):
            # One command for a whole folder, rather than a line per exported session.
            problems.append(f"{len(open_ones)} files and folders in {root} can be read by other users; "
                            f"`chmod -R go-rwx {shlex.quote(str(root))}` fixes that")
            continue
        for p in open_ones:
            wanted = "700" if p.is_dir() else "600"
            kind = "folder" if p.is_dir() else "file"
            problems.append(f"the {kind} {p} can be read by other users (mode {_mode(p):o}); "
                            f"`chmod {wanted} {shlex.quote(str(p))}` fixes that")
    return problems


def _mode(path: Path) -> int:
    try:
        return stat.S_IMODE(os.lstat(path).st_mode) if not path.is_symlink() else 0
    except OSError:
        return 0


def _walk(root: Path, tree: bool):
    yield root
    if not tree or root.is_symlink() or not root.is_dir():
        return
    for folder, dirs, names in os.walk(root, onerror=lambda e: None):
        for name in dirs + names:
            yield Path(folder) / name
