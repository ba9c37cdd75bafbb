"""Codecs: what each encoder does to loudness and true peak, measured once and kept, and the trim that undoes it."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from voicecoach.audio import ffmpeg, loudness
from voicecoach.audio.mix import sounds
from voicecoach.cache import Cache
from voicecoach.export import mastering
from voicecoach.export.formats import ENCODERS
from voicecoach.session import Session
from voicecoach.units import RATE

PEAK_MARGIN = 0.3             # dB kept under the true-peak limit after the codec


PROBE_GAP = RATE // 10        # silence between sounds when measuring a codec


PROBE_SAMPLES = 30 * RATE     # how much of a session's sounds measure a codec


@dataclass(frozen=True)
class Codec:
    gain: float         # dB the decoded file is louder than what the encoder was given (LAME CBR: about -0.5)
    overshoot: float    # dB the decoded file's true peak rose above the given sound's


def _encoder_identity(fmt: str) -> list:
    # A codec's behaviour is the encoder's: its settings and the ffmpeg it runs in (a new one is measured anew).
    found = Path(ffmpeg.executable()).resolve()
    stat = found.stat()
    return [ENCODERS[fmt], str(found), stat.st_size, stat.st_mtime_ns]


def measure_codec(fmt: str, samples: np.ndarray) -> Codec:
    """What encoding `samples` to `fmt` and decoding them again does to their loudness and true peak."""
    with tempfile.TemporaryDirectory() as folder:
        encoded = Path(folder) / f"probe.{fmt}"
        ffmpeg.run(ffmpeg.PCM_INPUT + ENCODERS[fmt] + [str(encoded)], feed=[samples])
        with open(Path(folder) / "decoded.raw", "w+b") as out:
            ffmpeg.run(["-i", str(encoded), "-f", "s16le", "-ar", str(RATE), "-ac", "1", "pipe:1"], stdout=out)
            out.seek(0)
            decoded = np.frombuffer(out.read(), dtype="<i2")
    given, heard = loudness.total_energy(samples), loudness.total_energy(decoded)
    gain = 10 * np.log10(heard / given) if given > 0 and heard > 0 else 0.0
    return Codec(float(gain), float(loudness.true_peak(decoded) - loudness.true_peak(samples)))


def codec(fmt: str, mastered: mastering.Mastered, cache: Cache | None) -> Codec:
    """The encoder's effect on loudness and peaks: measured on the first session exported with it, then kept."""
    key = hashlib.sha256(json.dumps(["codec", *_encoder_identity(fmt)]).encode()).hexdigest()
    note = cache.get_note(key) if cache is not None else None
    if note is not None:
        return Codec(float(note["gain"]), float(note["overshoot"]))
    # A short gap between sounds is enough here (a codec has no release to wait for), and so is half a
    # minute of them: the effect is the encoder's, not the sound's.
    found = measure_codec(fmt, mastering.batch(sounds(mastered.session.timeline, mastered.session.clips),
                                               gap=PROBE_GAP)[:PROBE_SAMPLES])
    if cache is not None:
        cache.put_note(key, {"gain": found.gain, "overshoot": found.overshoot})
    return found


def codec_trim(mastered: mastering.Mastered, fmt: str, cache: Cache | None) -> float:
    """dB to add before encoding to `fmt`, so that the decoded file keeps the mastered loudness and stays
    under the true-peak limit."""
    if fmt == "wav" or mastered.threshold is None:
        return 0.0
    # LAME at a constant bit rate, for one, plays 0.5 dB quieter than it was given, whatever the sound
    # (speech, sine or noise alike): a property of the encoder, so it is measured once and kept.
    if mastered.loudness.true_peak is None:     # master() always measures it
        raise ValueError("a mastered session without its true peak")
    effect = codec(fmt, mastered, cache)
    trim = -effect.gain
    peak = mastered.loudness.true_peak + trim + max(0.0, effect.overshoot)
    if peak > loudness.MAX_TRUE_PEAK - PEAK_MARGIN:
        trim -= peak - (loudness.MAX_TRUE_PEAK - PEAK_MARGIN)
    return float(round(trim, 3))


def trimmed(session: Session, trim: float) -> Session:
    """`session` with every sound `trim` dB louder (each distinct sound scaled once, not the session)."""
    if not trim:
        return session
    factor = 10 ** (trim / 20)
    louder = {key: np.clip(np.round(samples * factor), -32768, 32767).astype(np.int16)
              for key, samples in sounds(session.timeline, session.clips).items()}
    bed = session.background.louder(trim) if session.background is not None else None
    return replace(session, clips=louder, background=bed)
