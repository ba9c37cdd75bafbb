"""Export formats: which file extension asks for which encoder, and whether a target can be written."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from voicecoach.audio import ffmpeg
from voicecoach.audio.tags import Tags, write_tags
from voicecoach.audio.wav import write_wav
from voicecoach.errors import VoicecoachError
from voicecoach.files import atomic_path, written

FORMATS = {".wav": "wav", ".mp3": "mp3", ".m4a": "m4a", ".opus": "opus"}


MP3_BITRATE = "64k"   # mono speech at 24 kHz: transparent enough, small for a phone


# Per format: the encoder and container. Speech in mono at our 24 kHz, which all four take natively.
ENCODERS = {
    "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    # compression_level 7: LAME without its noise-shaping loops, which buy this band-limited voice nothing at
    # this bit rate (20-min session: PESQ-WB 4.22 against 4.14 at the default level 3, SNR 24.3 against 20.8 dB;
    # over waves 4.40 against 4.33) and cost most of the time on a bed's soft noise: level 3 took 2.0x as long
    # with a bed as without, level 7 1.2x; level 7 is 1.3x (voice alone) to 2.3x (bed) faster
    # (benchmarks/codec_quality.py).
    "mp3": ["-c:a", "libmp3lame", "-b:a", MP3_BITRATE, "-compression_level", "7", "-id3v2_version", "3",
            "-write_id3v1", "0", "-f", "mp3"],
    # "ipod" is the MP4 muxer flavour for .m4a that Apple and Android players expect.
    # aac_coder fast: the default (twoloop) now and then leaves a spike of several dB in a frame.
    "m4a": ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k", "-movflags", "+faststart", "-f", "ipod"],
    # compression_level 5: a third of the default's time, no audible loss for speech.
    "opus": ["-c:a", "libopus", "-b:a", "32k", "-compression_level", "5", "-f", "opus"],
}


ARTIST = "voicecoach"


def container_args(fmt: str, content: bytes) -> list[str]:
    """ffmpeg arguments that make the container's bytes follow from `content` alone (no random Ogg serial)."""
    if fmt not in ("opus", "m4a"):
        return []           # WAV is written by us; LAME's MP3 has nothing random in it
    # bitexact: no encoder version string nor random numbers in the container. Ogg otherwise picks a random
    # serial number per stream, so two exports of one session differed; this one is derived from the content.
    serial = int.from_bytes(hashlib.sha256(content).digest()[:4], "big") & 0x7FFFFFFF
    return ["-fflags", "+bitexact"] + (["-serial_offset", str(serial)] if fmt == "opus" else [])


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
    if fmt != "wav":
        try:
            ffmpeg.executable()
        except VoicecoachError:
            raise VoicecoachError(f"{fmt.upper()} export needs ffmpeg: install it (Debian/Ubuntu: sudo apt-get "
                                  "install ffmpeg), or export to .wav") from None
    return fmt


def write_audio(samples: np.ndarray, path: Path, *, title: str | None = None) -> Path:
    """Write mono int16 samples at RATE to `path` as they are (no loudness change), atomically."""
    path = Path(path)
    fmt = check_target(path)
    data = np.asarray(samples, dtype="<i2")
    with written(path), atomic_path(path) as tmp:
        if fmt == "wav":
            write_wav(tmp, [data])
        else:
            ffmpeg.run(ffmpeg.PCM_INPUT + ENCODERS[fmt] + container_args(fmt, data.tobytes()) + [str(tmp)],
                       feed=[data])
            if title:
                write_tags(tmp, fmt, Tags(title=title, album=title, artist=ARTIST))
    return path
