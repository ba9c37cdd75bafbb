"""Cleaning a take: silence trimmed around the words (a short natural tail kept), edges faded, the loudness
brought to the pack's, all at the internal rate; a take that is clipped, too quiet or mostly noise is named
in a plain sentence so it can be recorded again."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voicecoach.audio import loudness
from voicecoach.speech.clip import to_internal
from voicecoach.speech.packs import LOUDNESS_LUFS
from voicecoach.units import RATE

FRAME = RATE // 100               # 10-ms frames for the level of a take
LEAD_MS = 10                      # kept before the voice rises out of the noise
ONSET_MS = 300                    # how far back from the first loud frame a soft onset is looked for
TAIL_MS = 600                     # ... and how far after the last one a fading word or a tail
GAP_MS = 150                      # the longest quiet (a stop's closure) inside the words' edges
FADE_IN_MS = 5
FADE_OUT_MS = 15
SPEECH_BELOW_PEAK_DB = 40         # a frame this far under the loudest one, or less, is not speech
ABOVE_FLOOR_DB = 12               # ... nor one within this of the room's noise
FLAT_DB = 6                       # a recording whose loudest 10 ms are within this of its quietest holds no voice
TAIL_ABOVE_FLOOR_DB = 3           # the tail (and a soft onset) reach to frames this far above the noise floor
CLIPPED = 32_000                  # |sample| at or above this, several in a row, is the microphone's limit
CLIPPED_RUN = 3
QUIET_LUFS = -50.0                # quieter than this, the words are buried in the microphone's own hiss
NOISY_DB = 12.0                   # speech less than this above the noise floor is mostly noise (-40 dBFS hiss under
                                  # speech at -20: 18 dB, flagged at 20 though clear to the ear)
MIN_SPEECH_MS = 80
FLOOR_DB = -100.0

CLIPPED_TEXT = ("It sounds clipped (too loud for the microphone): move back a little or speak a little "
                "softer, then record it again.")
QUIET_TEXT = "It is very quiet: move closer to the microphone or speak up a little, then record it again."
NOISE_TEXT = ("It is mostly noise, with little voice in it: a quieter room or a closer microphone helps; "
              "record it again.")
NOTHING_TEXT = ("No voice was heard in it: check that the microphone is on and not muted, then record it again.")


@dataclass(frozen=True)
class Cleaned:
    samples: np.ndarray           # int16 at RATE: exactly what sessions will play
    problems: tuple[str, ...]     # plain sentences; empty when the take is good
    loudness: float               # LUFS of the take as recorded, before matching
    speech: tuple[int, int]       # where the words were found in the recording, in samples at RATE

    @property
    def usable(self) -> bool:
        """Whether there is a voice to keep at all (a flagged take may still be kept)."""
        return len(self.samples) > 0 and NOTHING_TEXT not in self.problems


def to_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono int16 at `rate` -> float64 at RATE (soxr, as the engines' audio is resampled)."""
    x = np.asarray(samples, dtype=np.float64)
    if rate != RATE and len(x):
        import soxr
        x = soxr.resample(x.astype(np.float32), rate, RATE, quality="HQ").astype(np.float64)
    return x


def frame_levels(x: np.ndarray) -> np.ndarray:
    """RMS level of each 10-ms frame, dBFS (int16 full scale)."""
    n = len(x) // FRAME
    if n == 0:
        return np.zeros(0)
    frames = x[: n * FRAME].reshape(n, FRAME) / 32768.0
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    with np.errstate(divide="ignore"):
        return np.maximum(20 * np.log10(rms), FLOOR_DB)


def take_loudness(samples: np.ndarray) -> float:
    """Integrated loudness (BS.1770, LUFS) of one take; a take shorter than 400 ms is measured whole."""
    x = np.asarray(samples, dtype=np.int16)
    if not len(x):
        return float("-inf")
    cumulative = loudness.energy(x)
    # Over the take itself, not the filter's ringing after it: a short word measured with 250 ms of ringing
    # counted as its length came out 1.1 LU quieter than BS.1770 meters (pyloudnorm) say.
    total = len(x)
    found = loudness.gated(loudness.sub_blocks([loudness.contribution(0, cumulative, total)], total), total)
    if np.isfinite(found) or cumulative[total] <= 0:
        return found
    # Under BS.1770's absolute gate (-70 LUFS): the ungated level still says how far to lift it.
    return float(-0.691 + 10 * np.log10(cumulative[total] / total))


def _clipped(x: np.ndarray) -> bool:
    hot = np.abs(x) >= CLIPPED
    if not hot.any():
        return False
    # A run of samples at the limit: the waveform was flattened, not merely loud.
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(np.int8), [0]]))))[::2]
    return bool(len(runs) and runs.max() >= CLIPPED_RUN)


def speech_span(levels: np.ndarray) -> tuple[int, int, float] | None:
    """(first, last) speech frame and the noise floor (dBFS) of a take's frame levels; None when no voice."""
    if not len(levels):
        return None
    floor = float(np.percentile(levels, 10))
    peak = float(levels.max())
    if peak - floor < FLAT_DB:
        return None         # as even as silence or a steady hiss: no voice in it
    # Half-way up from the noise when the voice barely stands out of it (then it is flagged as noise).
    threshold = max(peak - SPEECH_BELOW_PEAK_DB, floor + min(ABOVE_FLOOR_DB, (peak - floor) / 2))
    loud = np.flatnonzero(levels >= threshold)
    if not len(loud) or len(loud) * 10 < MIN_SPEECH_MS:
        return None
    return int(loud[0]), int(loud[-1]), floor


def _reach(levels: np.ndarray, frame: int, step: int, level: float, most: int) -> int:
    """The farthest frame from `frame` in direction `step` at or above `level`, reached through gaps of at most
    GAP_MS and never more than `most` frames away."""
    reached = at = frame
    while 0 <= at + step < len(levels) and abs(at + step - frame) <= most and abs(at + step - reached) <= GAP_MS // 10:
        at += step
        if levels[at] >= level:
            reached = at
    return reached


def clean(samples: np.ndarray, rate: int, target: float = LOUDNESS_LUFS) -> Cleaned:
    """A recorded or imported take (mono int16 at `rate`), cleaned for a pack, with any problems named."""
    x = to_rate(samples, rate)
    problems = [CLIPPED_TEXT] if _clipped(np.asarray(samples)) else []
    levels = frame_levels(x)
    span = speech_span(levels)
    if span is None:
        return Cleaned(np.zeros(0, dtype=np.int16), (NOTHING_TEXT,), float("-inf"), (0, 0))
    first, last, floor = span
    # The words reach beyond the loud frames: a soft onset (an "h", the "w" of "one") rises out of the noise
    # before them, and after them a fading last word, the burst of a final "t" after some 70 ms of closure
    # (piper's "Rest.": 30 dB under the vowel, 107 ms after it), the voice dying away. Both edges go on to
    # the farthest frame still above the noise that is reached in steps of at most GAP_MS.
    above = floor + TAIL_ABOVE_FLOOR_DB
    start_frame = _reach(levels, first, -1, above, ONSET_MS // 10)
    end_frame = _reach(levels, last, +1, above, TAIL_MS // 10) + 1
    start = max(0, start_frame * FRAME - LEAD_MS * RATE // 1000)
    end = min(len(x), end_frame * FRAME)
    piece = x[start:end].copy()
    heard = take_loudness(np.clip(np.round(piece), -32768, 32767).astype(np.int16))
    speech_level = float(np.percentile(levels[first: last + 1], 90))
    if heard < QUIET_LUFS:
        problems.append(QUIET_TEXT)
    elif speech_level - floor < NOISY_DB:
        problems.append(NOISE_TEXT)
    # Fades over the very edges: a cut through a waveform clicks.
    fade_in = min(len(piece), FADE_IN_MS * RATE // 1000)
    fade_out = min(len(piece), FADE_OUT_MS * RATE // 1000)
    if fade_in:
        piece[:fade_in] *= 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade_in))
    if fade_out:
        piece[-fade_out:] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fade_out))
    gain = target - heard if np.isfinite(heard) else 0.0
    for _ in range(4):
        # The same trim every engine's phrase gets (speech/clip.py), done here, so that the pack holds exactly
        # the samples a session plays: passing through it again changes nothing. It depends on the gain, and
        # a short word's 400-ms gating blocks on where it starts: measured again until it lands.
        out = to_internal(np.clip(np.round(piece * 10 ** (gain / 20)), -32768, 32767).astype(np.int16), RATE)
        got = take_loudness(out)
        if not np.isfinite(got) or abs(got - target) < 0.05:
            break
        gain += target - got
    return Cleaned(out, tuple(problems), heard, (start, end))
