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
from typing import Callable, Iterable

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


# What atomic_path names its temporary files: ".NAME.PID.RANDOM.partial", and what a writer puts beside
# one (the ffmpeg metadata file: ".partial.tags"). The pid tells a dead writer's leftovers from a live one's.
PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{16}\.partial(\.[a-z0-9]+)?$", re.S)


def _sweep(leftovers: Iterable[Path], name: str | None = None) -> tuple[Path, ...]:
    removed = []
    for tmp in leftovers:
        found = PARTIAL.match(tmp.name)
        if not found or (name is not None and found.group("name") != name) or _alive(int(found.group("pid"))):
            continue
        try:
            if stat.S_ISREG(os.lstat(tmp).st_mode):
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass
    return tuple(removed)


def sweep_partials(path: Path) -> None:
    """Remove temporary files an earlier, killed export of `path` left beside it."""
    path = Path(path)
    try:
        leftovers = list(path.parent.glob(f".{glob_escape(path.name)}.*.partial*"))
    except OSError:
        return
    _sweep(leftovers, path.name)


def sweep_folder(folder: Path) -> tuple[Path, ...]:
    """Remove every temporary file of ours in `folder` whose writer is dead, whatever name it was for."""
    # A killed program export leaves partials for names the next export may never write again.
    try:
        leftovers = [Path(entry.path) for entry in os.scandir(folder) if entry.name.endswith(".partial")
                     or ".partial." in entry.name]
    except OSError:
        return ()
    return _sweep(leftovers)


def glob_escape(name: str) -> str:
    """`name` with glob's special characters made literal."""
    return re.sub(r"([*?\[])", r"[\1]", name)


@contextmanager
def atomic_path(path: Path, mode: int | None = None, before_replace: Callable[[Path], None] | None = None):
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.

    With `mode` (0o600 for private data) the temporary file is created empty with that mode before
    anything is written to it; otherwise the writer creates it. `before_replace` sees the finished
    temporary file just before the rename (a record of what was written survives a kill between the two)."""
    path = Path(path)
    blocked = in_the_way(path)
    if blocked is not None:
        # A rename over a device replaces it with a plain file: as root, `-o /dev/null` replaced /dev/null itself.
        raise VoicecoachError(f"{path}: could not be written: {blocked}; give the name of a file to write")
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
        if before_replace is not None:
            before_replace(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


FULL = (errno.ENOSPC, errno.EDQUOT)
# EFBIG is a limit on one file's size (`ulimit -f`, a file system's largest file), not a full disk: freeing
# space would not help. Python ignores SIGXFSZ, so its own writes see EFBIG; ffmpeg is killed by it instead.
FILE_SIZE_LIMIT = ("the file is larger than this system or account allows (a file-size limit, `ulimit -f`); "
                   "choose a shorter session or a smaller format, or raise the limit")


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
            raise VoicecoachError(f"{path}: could not be written: {cause(path, e)}; nothing was left behind") from None
        except VoicecoachError as e:
            if str(e).startswith(str(path)):
                raise
            raise VoicecoachError(f"{path}: {e}; nothing was left behind") from None
    return guard()


def cause(path, error: OSError) -> str:
    """What an OS error while writing `path` means for a person, and what to do."""
    if error.errno in FULL:
        return no_space(path)
    if error.errno == errno.EFBIG:
        return FILE_SIZE_LIMIT
    if error.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST) and os.path.isdir(path):
        # os.replace onto a folder: say what is in the way, not the OS's words for it.
        return "a folder of that name is in the way; move or rename it"
    return error.strerror or str(error)


def in_the_way(path) -> str | None:
    """What stands where a file is to be written, if it is not a file we may replace: a folder, a device."""
    try:
        found = os.lstat(path)      # a link is replaced by the rename, never written through
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"it cannot be reached ({e.strerror or e})"
    if stat.S_ISLNK(found.st_mode):
        return None
    if stat.S_ISDIR(found.st_mode):
        return "a folder of that name is in the way"
    if not stat.S_ISREG(found.st_mode):
        return "something that is not a file (a device, pipe or socket) is in the way"
    return None


def write_text(path: Path, text: str, *, force: bool = False,
               before_replace: Callable[[Path], None] | None = None) -> bool:
    """Write `text` to `path` atomically unless it already holds exactly that (or `force`); True if written."""
    path = Path(path)
    if not force and path.is_file():      # a pipe of that name would block the read forever
        try:
            if path.read_text(encoding="utf-8") == text:
                return False
        except (OSError, UnicodeDecodeError, ValueError):
            pass
    with written(path), atomic_path(path, before_replace=before_replace) as tmp:
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
