"""Writing files so that a reader never sees half of one: atomic replacement, and one message when it fails."""

from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path

from voicecoach.errors import VoicecoachError


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


def written(path: Path):
    """Context: turn OS and encoder failures while writing `path` into one clear line."""
    @contextmanager
    def guard():
        try:
            yield
        except OSError as e:
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
