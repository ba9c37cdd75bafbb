"""Loudness per ITU-R BS.1770 (ffmpeg's ebur128, streamed): measuring, and the gain and limiter to reach a target."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from . import ffmpeg
from .errors import VoicecoachError

TARGET_LUFS = -16.0        # podcasts and spoken word on phones
MAX_TRUE_PEAK = -1.0       # dBTP: headroom for the phone's own decoder and resampler
TOLERANCE = 1.0            # LU either side of the target that a file may land
AIM_TOLERANCE = 0.7        # we re-encode when further off than this, to stay well inside TOLERANCE
CEILING = -3.0             # dBFS the limiter holds samples under; lossy codecs add overshoot above it
SILENT = -60.0             # LUFS below which there is nothing to normalise (ebur128 says -70 for silence)
THRESHOLD = -4.0           # dB from the voice's loudness where the compressor starts
MAX_CEILING_STEP = 1.0     # dB the limiter's ceiling may drop between two encodes
LOWPASS_HZ = 9000          # top of the exported band: above the voice's, below the codecs' own cut-offs
RATIO = 4.0                # the compressor's ratio: firm enough that the limiter only trims
MAX_GAIN = 40.0            # dB: a near-silent voice is not worth amplifying into noise

_SUMMARY = re.compile(r"Summary:(.*)", re.S)
_INTEGRATED = re.compile(r"I:\s+(-?[\d.]+|-inf|nan) LUFS")
_PEAK = re.compile(r"Peak:\s+(-?[\d.]+|-inf|nan) dBFS")


@dataclass(frozen=True)
class Loudness:
    integrated: float          # LUFS
    true_peak: float | None    # dBTP, when measured

    def within(self, target: float = TARGET_LUFS, tolerance: float = TOLERANCE,
               max_peak: float = MAX_TRUE_PEAK) -> bool:
        """True when the loudness is target ± tolerance and the true peak at most max_peak."""
        return abs(self.integrated - target) <= tolerance and (self.true_peak is None or self.true_peak <= max_peak)


def parse(log: str) -> Loudness:
    """The integrated loudness and true peak from the summary ebur128 writes to ffmpeg's log."""
    summary = _SUMMARY.search(log)
    found = _INTEGRATED.search(summary.group(1)) if summary else None
    if not found:
        raise VoicecoachError("ffmpeg did not report a loudness (is its ebur128 filter missing?)")
    peak = _PEAK.search(summary.group(1))

    def number(text):
        return float("-inf") if text in ("-inf", "nan") else float(text)
    return Loudness(number(found.group(1)), number(peak.group(1)) if peak else None)


def _meter(true_peak: bool) -> str:
    # framelog=verbose keeps the per-100-ms lines out of an info-level log: only the summary remains.
    return "ebur128=framelog=verbose" + (":peak=true" if true_peak else "")


def measure_samples(blocks: Iterable[np.ndarray], *, chain: str | None = None, true_peak: bool = False,
                    progress: Callable[[int], None] | None = None) -> Loudness:
    """Loudness of streamed int16 blocks at speech.RATE, after the filter `chain` if given."""
    graph = ",".join(([chain] if chain else []) + [_meter(true_peak)])
    return parse(ffmpeg.run(ffmpeg.PCM_INPUT + ["-af", graph, "-f", "null", "-"], feed=blocks, progress=progress))


def measure_file(path: Path, *, true_peak: bool = True) -> Loudness:
    """Loudness of an audio file as a player decodes it."""
    return parse(ffmpeg.run(["-i", str(path), "-map", "0:a:0", "-af", _meter(true_peak), "-f", "null", "-"]))


def first_gain(measured: Loudness, target: float = TARGET_LUFS) -> float:
    """dB to bring `measured` to `target` (0 for silence)."""
    if measured.integrated < SILENT:
        return 0.0
    return max(-MAX_GAIN, min(MAX_GAIN, target - measured.integrated))


def chain(gain_db: float, ceiling_db: float = CEILING, threshold_db: float | None = None) -> str:
    """The ffmpeg filters that even out the voice, apply `gain_db` and hold peaks under `ceiling_db`,
    without shifting anything in time."""
    parts = []
    if threshold_db is not None:
        # A gentle compressor from the voice's own loudness up: synthetic speech is peaky (18-19 dB peak
        # to loudness), and without it the limiter alone would have to take 8 dB or more off every word.
        parts.append(f"acompressor=threshold={10 ** (threshold_db / 20):.6f}:ratio={RATIO:g}:attack=5:release=120"
                     ":knee=2.8:detection=rms")
    limit = max(0.0625, min(1.0, 10 ** (ceiling_db / 20)))
    # latency=1: the limiter's look-ahead is compensated, so every cue stays on its millisecond.
    # level=0: no automatic make-up gain; we set the level ourselves.
    limiter = f"alimiter=limit={limit:.5f}:attack=5:release=80:level=0:latency=1"
    # Limiting adds a little distortion high up, which lossy codecs then drop, and dropping it pushes
    # peaks 2-4 dB over the ceiling (AAC most). Filtering above the speech band and limiting once more
    # leaves the codec nothing to cut: its overshoot falls to about half a dB.
    parts += [f"volume={gain_db:.3f}dB:precision=double", limiter, f"lowpass=f={LOWPASS_HZ}", limiter]
    return ",".join(parts)


def slope(tried: list) -> float:
    """LU of loudness per dB of gain, from the last two (gain dB, LUFS) pairs: below 1 once the limiter works."""
    if len(tried) > 1 and tried[-1][0] != tried[-2][0]:
        return min(1.0, max(0.2, (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])))
    return 1.0


def next_gain(tried: list, target: float = TARGET_LUFS, per_db: float | None = None) -> float:
    """The gain to try next after (gain dB, measured LUFS) pairs: a secant step, since the limiter makes
    loudness grow more slowly than gain (`per_db` overrides the slope the pairs show)."""
    gain, level = tried[-1]
    step = (target - level) / (per_db if per_db is not None else slope(tried))
    return max(-MAX_GAIN, min(MAX_GAIN, gain + step))


def lower_ceiling(ceiling_db: float, got: Loudness, max_peak: float = MAX_TRUE_PEAK, margin: float = 0.3) -> float:
    """The limiter's ceiling after a file peaked at got.true_peak: lowered by the overshoot, plus a margin."""
    if got.true_peak is not None and got.true_peak > max_peak - margin:
        # At most MAX_CEILING_STEP at a time: a codec's stray spike should not flatten the whole file.
        return ceiling_db - min(MAX_CEILING_STEP, got.true_peak - (max_peak - margin) + margin)
    return ceiling_db
