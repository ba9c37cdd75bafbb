"""Mastering: each distinct sound of a session through compressor, gain and limiter once, with the gain
chosen so that the mixed session lands on the loudness target; kept in the cache for the next export."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from . import ffmpeg, loudness
from .cache import Cache
from .errors import VoicecoachError
from .mix import sound_key, sounds
from .session import Session
from .speech import RATE, SAMPLES_PER_MS

VERSION = 1               # bump when the same sounds and settings should master differently
GAP = RATE // 2           # 0.5 s of silence around each sound in a batch: compressor (120 ms release) and
#                           limiter (80 ms) recover, so a sound masters the same whatever sits next to it
PASSES = 6                # passes over the distinct sounds allowed to find the gain
AIM = 0.2                 # LU from the target that ends the search (files may land within loudness.TOLERANCE)
CODEC_HEADROOM = 1.2      # dB between the mastered sounds' true peak and the file's limit: lossy codecs
#                           overshoot by up to about half a dB on this band-limited, twice-limited voice
MAX_PCM_PEAK = loudness.MAX_TRUE_PEAK - CODEC_HEADROOM


@dataclass(frozen=True)
class Mastered:
    session: Session                  # the same timeline, every sound (chimes too) mastered
    loudness: loudness.Loudness       # of the mixed session: integrated LUFS and true peak dBTP, computed
    gain: float                       # dB
    threshold: float | None           # the compressor's threshold (dB), None when nothing was changed
    ceiling: float                    # the limiter's ceiling (dBFS)
    key: str = ""                     # names this mastering in the cache (empty when not kept)
    reused: bool = False              # the decision and every mastered sound came from the cache


def digest(samples: np.ndarray) -> str:
    """SHA-256 of a sound's samples."""
    return hashlib.sha256(np.ascontiguousarray(samples, dtype="<i2")).hexdigest()


def _key(kind: str, **fields) -> str:
    return hashlib.sha256(json.dumps({"mastering": VERSION, "kind": kind, **fields}, sort_keys=True,
                                     ensure_ascii=False).encode()).hexdigest()


def level(session: Session, distinct: Mapping[str, np.ndarray]) -> float:
    """The integrated loudness (LUFS) of `session` played with the sounds `distinct`, from each sound once."""
    starts: dict[str, list[int]] = {}
    for cue in session.timeline.cues:
        starts.setdefault(sound_key(cue), []).append(cue.start * SAMPLES_PER_MS)

    def placed():
        # One sound's energy at a time: memory stays that of the longest sound.
        for key, at in starts.items():
            cumulative = loudness.energy(distinct[key])
            for start in at:
                yield start, cumulative
    total = session.timeline.length * SAMPLES_PER_MS
    return loudness.gated(loudness.sub_blocks(placed(), total), total)


def peak(distinct: Mapping[str, np.ndarray]) -> float:
    """The true peak (dBTP) of a session of these sounds: they never overlap, so it is the loudest one's."""
    return max((loudness.true_peak(s) for s in distinct.values()), default=float("-inf"))


def predict(session: Session, distinct: Mapping[str, np.ndarray]) -> loudness.Loudness:
    """The loudness and true peak of `session` played with the sounds `distinct`."""
    return loudness.Loudness(level(session, distinct), peak(distinct))


def batch(distinct: Mapping[str, np.ndarray]) -> np.ndarray:
    """Every sound once, in name order, each with GAP samples of silence before it (and after the last)."""
    gap = np.zeros(GAP, dtype=np.int16)
    return np.concatenate([part for key in sorted(distinct) for part in (gap, distinct[key])] + [gap])


def process(distinct: Mapping[str, np.ndarray], graph: str) -> dict[str, np.ndarray]:
    """Every sound through the ffmpeg filter `graph`, in one run, each in silence of its own."""
    keys = sorted(distinct)
    joined = batch(distinct)
    out = ffmpeg.filtered(joined, graph)
    if len(out) != len(joined):
        raise VoicecoachError(f"ffmpeg returned {len(out)} samples for {len(joined)} while mastering")
    done, at = {}, 0
    for key in keys:
        at += GAP
        done[key] = out[at: at + len(distinct[key])].copy()
        at += len(distinct[key])
    return done


def _search(session: Session, distinct: Mapping[str, np.ndarray], raw: loudness.Loudness):
    """(gain, threshold, ceiling, mastered sounds, their loudness): the chain that reaches the target."""
    threshold, ceiling = raw.integrated + loudness.THRESHOLD, loudness.CEILING
    gain, tried = loudness.first_gain(raw), []
    for _ in range(PASSES):
        done = process(distinct, loudness.chain(gain, ceiling, threshold))
        got = loudness.Loudness(level(session, done), None)
        tried.append((gain, got.integrated))
        if abs(got.integrated - loudness.TARGET_LUFS) <= AIM:
            got = replace(got, true_peak=peak(done))
            if got.true_peak <= MAX_PCM_PEAK or ceiling <= loudness.CEILING - 6:
                break
            # Lower the ceiling and keep the gain: more gain would only make the limiter work harder.
            ceiling, tried = loudness.lower_ceiling(ceiling, got.true_peak, MAX_PCM_PEAK), []
        else:
            gain = loudness.next_gain(tried)
    if got.true_peak is None:
        got = replace(got, true_peak=peak(done))
    return gain, threshold, ceiling, done, got


def master(session: Session, cache: Cache | None = None) -> Mastered:
    """`session` with every sound mastered to the loudness target, from the cache when it has been done before."""
    distinct = sounds(session.timeline, session.clips)
    digests = {key: digest(samples) for key, samples in distinct.items()}
    settings = [loudness.TARGET_LUFS, loudness.MAX_TRUE_PEAK, MAX_PCM_PEAK, loudness.chain(0.0, 0.0, 0.0)]
    decision = _key("session", settings=settings, sounds=digests, length=session.timeline.length,
                    layout=[[cue.start, sound_key(cue)] for cue in session.timeline.cues])
    if cache is not None:
        found = _reuse(session, cache, decision, distinct)
        if found is not None:
            return found
    raw = predict(session, distinct)
    if raw.integrated < loudness.SILENT:
        # Nothing to bring up: silence (or near it) stays as it is.
        return Mastered(session, raw, 0.0, None, loudness.CEILING)
    gain, threshold, ceiling, done, got = _search(session, distinct, raw)
    if cache is not None:
        names = {}
        for key, samples in done.items():
            names[key] = _key("sound", sound=digests[key], chain=loudness.chain(gain, ceiling, threshold))
            cache.put(names[key], samples)
        cache.put_note(decision, {"gain": gain, "threshold": threshold, "ceiling": ceiling,
                                  "integrated": got.integrated, "true_peak": got.true_peak, "sounds": names})
    return Mastered(replace(session, clips=done), got, gain, threshold, ceiling, decision if cache else "")


def _reuse(session: Session, cache: Cache, decision: str, distinct: Mapping) -> Mastered | None:
    note = cache.get_note(decision)
    if note is None or set(note.get("sounds", {})) != set(distinct):
        return None
    done = {}
    for key, name in note["sounds"].items():
        samples = cache.get(name)
        if samples is None or len(samples) != len(distinct[key]):
            return None
        done[key] = samples
    got = loudness.Loudness(float(note["integrated"]), float(note["true_peak"]))
    return Mastered(replace(session, clips=done), got, note["gain"], note["threshold"], note["ceiling"], decision,
                    reused=True)
