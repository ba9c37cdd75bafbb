"""Clips: what an engine wrote, read and brought to the internal rate, with the silence around the words cut."""

from __future__ import annotations

import wave

import numpy as np

from voicecoach.errors import VoicecoachError
from voicecoach.units import RATE

# |sample| at or above this (about -42 dBFS) counts as audible; trimming to it
# makes a cue's first audible sample land on its scheduled time.
AUDIBLE = 256


def to_internal(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono int16 at any rate -> int16 at RATE with leading and trailing silence trimmed."""
    x = np.asarray(samples, dtype=np.int16)
    if rate != RATE and len(x):
        import soxr  # a well-kept, fast, high-quality resampler
        y = soxr.resample(x.astype(np.float32), rate, RATE, quality="HQ")
        x = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    loud = np.abs(x.astype(np.int32)) >= AUDIBLE
    if not loud.any():
        return np.zeros(0, dtype=np.int16)
    # The first and last audible samples from each end, without listing every audible one (an index array
    # four times the size of the phrase).
    first, last = int(np.argmax(loud)), len(loud) - 1 - int(np.argmax(loud[::-1]))
    return np.ascontiguousarray(x[first: last + 1])


def read_wav(path, expected_rate: int | None) -> tuple[np.ndarray, int]:
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise VoicecoachError(f"the speech engine wrote {8 * w.getsampwidth()}-bit audio; expected 16-bit")
        frames = w.readframes(w.getnframes())
        channels, rate = w.getnchannels(), w.getframerate()
    x = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1).astype(np.int16)
    # pyttsx3 writes a 22050 Hz header whatever the voice; MBROLA voices are 16 kHz.
    return x, expected_rate or rate


def speakable(text: str) -> str:
    """The text as the engine gets it: control characters (espeak-ng's in-text commands) become spaces."""
    # espeak-ng takes commands inside the text after a control character (e.g. \x01 to change
    # speed); scripts cannot contain them, and no caller of render() can smuggle them in either.
    return "".join(" " if (ord(c) < 32 or 127 <= ord(c) < 160) else c for c in text)


ONSET = 512               # about -36 dBFS


def start_at_speech(samples: np.ndarray) -> np.ndarray:
    """The samples from the first one at ONSET: the breathy lead-in before it is cut."""
    # These voices can open a word (an "h", a soft "b") with a murmur just above the trimming
    # threshold that takes 10-30 ms to become speech; starting where the speech does makes the
    # word sound on its cue (the timeline's onsets are checked to within 10 ms).
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= ONSET)
    return samples[loud[0]:] if len(loud) else samples
