"""Export: writing a session to an audio file atomically (WAV directly, MP3 through pydub/ffmpeg)."""

from __future__ import annotations

import os
import shutil
import tempfile
import wave
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cache import Cache
from .errors import VoicecoachError
from .session import Session, prepare
from .speech import RATE

FORMATS = {".wav": "wav", ".mp3": "mp3"}
MP3_BITRATE = "64k"   # mono speech at 24 kHz: transparent enough, small for a phone


def audio_format(path: Path) -> str:
    """The format an output path asks for by its extension."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise VoicecoachError(f"{path}: unknown audio format {Path(path).suffix or '(no extension)'}; "
                              f"use one of {', '.join(FORMATS)}")
    return fmt


def check_target(path: Path) -> str:
    """Fail early (before any rendering) when `path` cannot be written."""
    fmt = audio_format(path)
    parent = Path(path).parent if str(Path(path).parent) else Path(".")
    if Path(path).is_dir():
        raise VoicecoachError(f"{path}: is a folder; give a file name such as {Path(path) / 'session.mp3'}")
    if not parent.is_dir():
        raise VoicecoachError(f"{path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise VoicecoachError(f"{path}: cannot write in {parent} (permission denied)")
    if fmt == "mp3" and shutil.which("ffmpeg") is None:
        raise VoicecoachError("MP3 export needs ffmpeg: install it (Debian/Ubuntu: sudo apt-get install ffmpeg), "
                              "or export to .wav")
    return fmt


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    # mkstemp makes 0600 files; an exported session should get the usual mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_audio(samples: np.ndarray, path: Path, *, title: str | None = None) -> Path:
    """Write mono int16 samples at RATE to `path` (.wav or .mp3), atomically."""
    path = Path(path)
    fmt = check_target(path)
    data = np.asarray(samples, dtype="<i2")
    try:
        with atomic_path(path) as tmp:
            if fmt == "wav":
                with wave.open(str(tmp), "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(RATE)
                    w.writeframes(data.tobytes())
            else:
                from pydub import AudioSegment
                segment = AudioSegment(data=data.tobytes(), sample_width=2, frame_rate=RATE, channels=1)
                tags = {"title": title} if title else None
                segment.export(str(tmp), format="mp3", bitrate=MP3_BITRATE, tags=tags).close()
    except OSError as e:
        raise VoicecoachError(f"{path}: could not be written ({e.strerror or e}); nothing was left behind") from None
    except Exception as e:  # pydub raises CouldntEncodeError with ffmpeg's whole log
        if type(e).__name__ == "CouldntEncodeError":
            raise VoicecoachError(f"{path}: ffmpeg could not encode the file; is the disk full?") from None
        raise
    return path


@dataclass(frozen=True)
class Exported:
    path: Path
    session: Session


def export_script(script: str | Path, out: str | Path, cache: Cache, **options) -> Exported:
    """Render `script` (with --set overrides and voice options) and write it to `out`."""
    out = Path(out)
    check_target(out)
    session = prepare(script, cache, **options)
    write_audio(session.audio(), out, title=session.script.title)
    return Exported(out, session)
