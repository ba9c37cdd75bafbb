"""Loudness per ITU-R BS.1770: a session's, computed from its sounds and where they sit (no pass over the
whole session); ffmpeg's ebur128 to measure files; and the gain and limiter that reach a target."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from voicecoach.audio import ffmpeg
from voicecoach.errors import VoicecoachError
from voicecoach.units import RATE

TARGET_LUFS = -16.0        # podcasts and spoken word on phones
MAX_TRUE_PEAK = -1.0       # dBTP: headroom for the phone's own decoder and resampler
TOLERANCE = 1.0            # LU either side of the target that a file may land
CEILING = -3.0             # dBFS the limiter holds samples under; lossy codecs add overshoot above it
SILENT = -60.0             # LUFS below which there is nothing to normalise (ebur128 says -70 for silence)
THRESHOLD = -4.0           # dB from the voice's loudness where the compressor starts
MAX_CEILING_STEP = 1.0     # dB the limiter's ceiling may drop between two encodes
LOWPASS_HZ = 9000          # top of the exported band: above the voice's, below the codecs' own cut-offs
RATIO = 4.0                # the compressor's ratio: firm enough that the limiter only trims
MAX_GAIN = 40.0            # dB: a near-silent voice is not worth amplifying into noise
MIN_THRESHOLD = 0.000977   # acompressor's lowest threshold (2^-10), rounded up to the six places we write

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
    if not summary or not found:
        raise VoicecoachError("ffmpeg did not report a loudness (is its ebur128 filter missing?)")
    peak = _PEAK.search(summary.group(1))

    def number(text):
        return float("-inf") if text in ("-inf", "nan") else float(text)
    return Loudness(number(found.group(1)), number(peak.group(1)) if peak else None)


def meter(true_peak: bool = False) -> str:
    """The ffmpeg filter that measures what passes through it (see parse)."""
    return _meter(true_peak)


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


def compressor(threshold_db: float) -> str:
    """The ffmpeg filter that evens out the voice above `threshold_db` (dBFS)."""
    # A gentle compressor from the voice's own loudness up: synthetic speech is peaky (18-19 dB peak
    # to loudness), and without it the limiter alone would have to take 8 dB or more off every word.
    # acompressor takes no threshold under 2^-10 (-60.2 dBFS): a voice quieter than -56 LUFS is compressed
    # from there, instead of failing the export.
    threshold = max(10 ** (threshold_db / 20), MIN_THRESHOLD)
    return f"acompressor=threshold={threshold:.6f}:ratio={RATIO:g}:attack=5:release=120:knee=2.8:detection=rms"


def limiting(gain_db: float, ceiling_db: float = CEILING) -> str:
    """The ffmpeg filters that apply `gain_db` and hold peaks under `ceiling_db`, moving nothing in time."""
    limit = max(0.0625, min(1.0, 10 ** (ceiling_db / 20)))
    # latency=1: the limiter's look-ahead is compensated, so every cue stays on its millisecond.
    # level=0: no automatic make-up gain; we set the level ourselves.
    limiter = f"alimiter=limit={limit:.5f}:attack=5:release=80:level=0:latency=1"
    # Limiting adds a little distortion high up, which lossy codecs then drop, and dropping it pushes
    # peaks 2-4 dB over the ceiling (AAC most). Filtering above the speech band and limiting once more
    # leaves the codec nothing to cut: its overshoot falls to about half a dB.
    return ",".join([f"volume={gain_db:.3f}dB:precision=double", limiter, f"lowpass=f={LOWPASS_HZ}", limiter])


def chain(gain_db: float, ceiling_db: float = CEILING, threshold_db: float | None = None) -> str:
    """Compressor (when a threshold is given), gain and limiter in one ffmpeg filter chain."""
    return ",".join(([compressor(threshold_db)] if threshold_db is not None else []) + [limiting(gain_db, ceiling_db)])


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


def lower_ceiling(ceiling_db: float, peak_db: float, max_peak: float, margin: float = 0.3) -> float:
    """The limiter's ceiling after sound peaked at `peak_db`: lowered by the overshoot, plus a margin."""
    if peak_db > max_peak - margin:
        # At most MAX_CEILING_STEP at a time: one stray spike should not flatten everything.
        return ceiling_db - min(MAX_CEILING_STEP, peak_db - (max_peak - margin) + margin)
    return ceiling_db


# ---------------------------------------------------------------- BS.1770 from the sounds themselves
#
# A session is sounds placed in silence. The K-weighting filter is linear and starts from rest, so the
# session's K-weighted signal is the sum of each sound's own K-weighted signal at its place; sounds do
# not overlap, so its energy in any span is the sum of theirs. Each sound is filtered once, however
# often it plays, and the gating then runs over 100-ms sub-block energies: a 60-minute session is 36,000
# numbers instead of 86 million samples.

SUB_BLOCK = RATE // 10                  # 100 ms: the step between BS.1770's 400-ms gating blocks
TAIL = RATE // 4                        # the filter's ringing after a sound ends, counted with the sound
ABSOLUTE_GATE = -70.0                   # LUFS
RELATIVE_GATE = -10.0                   # LU below the ungated mean
PEAK_OVERSAMPLING = 4                   # BS.1770 true peak: at least 4x at 48 kHz; 4x of 24 kHz is 96 kHz


def k_weighting(rate: int = RATE) -> np.ndarray:
    """BS.1770's K-weighting (high shelf, then high pass) as second-order sections for `rate`.

    The analogue prototypes are those libebur128 and ffmpeg derive for any rate; at 48 kHz they give
    BS.1770's published coefficients."""
    k = np.tan(np.pi * 1681.974450955533 / rate)
    vh, q = 10 ** (3.999843853973347 / 20), 0.7071752369554196
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    k, q = np.tan(np.pi * 38.13547087602444 / rate), 0.5003270373238773
    a0 = 1 + k / q + k * k
    high_pass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, high_pass])


def k_response(freqs: np.ndarray, rate: int = RATE) -> np.ndarray:
    """The K-weighting filter's complex response at `freqs` (Hz): what it does to a loop's spectrum."""
    z1 = np.exp(-2j * np.pi * np.asarray(freqs, dtype=np.float64) / rate)      # z^-1 on the unit circle
    out = np.ones(len(z1), dtype=np.complex128)
    for b0, b1, b2, _, a1, a2 in k_weighting(rate):
        out *= (b0 + b1 * z1 + b2 * z1 * z1) / (1 + a1 * z1 + a2 * z1 * z1)
    return out


def k_power_gain(freqs: np.ndarray, rate: int = RATE) -> np.ndarray:
    """|k_response|^2 at `freqs` (Hz), in real arithmetic: what the filter does to a spectrum's power."""
    w = 2 * np.pi * np.asarray(freqs, dtype=np.float64) / rate
    c1, c2 = np.cos(w), np.cos(2 * w)
    out = np.ones(len(w))
    for b0, b1, b2, _, a1, a2 in k_weighting(rate):
        # |x0 + x1 z^-1 + x2 z^-2|^2 on the unit circle, for the numerator and the denominator.
        out *= ((b0 * b0 + b1 * b1 + b2 * b2 + 2 * (b0 * b1 + b1 * b2) * c1 + 2 * b0 * b2 * c2)
                / (1 + a1 * a1 + a2 * a2 + 2 * (a1 + a1 * a2) * c1 + 2 * a2 * c2))
    return out


@lru_cache(maxsize=1)
def impulse_response(rate: int = RATE, length: int = TAIL + 1) -> np.ndarray:
    """The K-weighting filter's first `length` samples of response to a unit impulse (it has died away by then)."""
    # From its frequency response over a period long enough that what wraps around is below 1e-60 (the
    # high-pass's double pole at 0.99 a sample): the recursion's values to 1e-14, in 2 ms instead of the
    # 11 ms that plain Python took to run the two biquads, which every command that sets a tone waited for.
    size = _fft_size(4 * length)
    return np.fft.irfft(k_response(np.fft.rfftfreq(size, 1 / rate), rate), size)[:length]


def _fft_size(n: int) -> int:
    """The smallest size at least `n` with no prime factor above 5: the FFT is fast there."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35
            while size < n:
                size *= 2
            best = min(best, size)
            p35 *= 3
        p5 *= 5
    return best


@lru_cache(maxsize=64)
def _response_spectrum(size: int) -> np.ndarray:
    return np.fft.rfft(impulse_response().astype(np.float32), size)


def _filtered(piece: np.ndarray, size: int) -> np.ndarray:
    """int16 samples (at most size - TAIL) through the K-weighting filter in one FFT of `size`: the piece and its
    TAIL of ringing, float32 of full scale."""
    # In single precision: numpy's FFT takes 0.65-0.7 of the time it takes in double (38 sounds, 3 million
    # samples: 107-148 ms against 154-222 ms), a sound's energy moves by under 1e-6 dB, and every export
    # weights its sounds two or three times. Energies are summed in double (cumulative).
    x = np.asarray(piece, dtype=np.float32) * np.float32(1 / 32768)
    spectrum = np.fft.rfft(x, size)
    spectrum *= _response_spectrum(size)
    return np.fft.irfft(spectrum, size)[: len(piece) + TAIL]


def k_weighted(samples: np.ndarray, chunk: int = RATE * 10) -> Iterator[np.ndarray]:
    """The K-weighted signal (float32) of int16 samples followed by its TAIL of ringing, in pieces (FFT
    overlap-add)."""
    size = _fft_size(min(chunk, max(1, len(samples))) + TAIL)
    carry: np.ndarray = np.zeros(TAIL, dtype=np.float32)
    for i in range(0, len(samples), chunk):
        piece = samples[i: i + chunk]
        y = _filtered(piece, size)
        y[: len(carry)] += carry
        yield y[: len(piece)]
        carry = y[len(piece):]
    yield carry


def energy(samples: np.ndarray) -> np.ndarray:
    """Cumulative K-weighted energy of an int16 sound (and its filter tail): e[n] is the sum over its first n samples."""
    return cumulative(weighted_signal(samples))


def weighted_signal(samples: np.ndarray) -> np.ndarray:
    """The K-weighted signal (float32) of an int16 sound and its filter's tail (full scale 1.0), in one FFT."""
    # k_weighted in one piece, without its pieces joined again: every new array is fresh pages for the
    # kernel to fault in (a tenth of a cold export's time in voicecoach's own process went to page faults).
    return _filtered(samples, _fft_size(max(1, len(samples)) + TAIL))


def cumulative(weighted: np.ndarray, step: int = 1) -> np.ndarray:
    """e[k]: the energy of a K-weighted signal (full scale 1.0) over its first min(k * step, n) samples, for k up
    to the last step that reaches its end (step 1: every sample)."""
    n = len(weighted)
    out = np.empty(-(-n // step) + 1)
    out[0] = 0.0
    if step == 1:
        # Squared and summed in double whatever the signal's precision (summed in float32, two minutes drift
        # by 2 %), in place: 18-21 ms for 3 million samples, against 31 ms for a cumsum that converts as it goes.
        np.square(weighted, out=out[1:], dtype=np.float64)
    else:
        # A step's squares in the signal's precision, their sums in double: a twenty-fourth of the memory,
        # and 8 ms for 3 million samples.
        squares = np.square(weighted)
        full = n - n % step
        np.sum(squares[:full].reshape(-1, step), axis=1, dtype=np.float64, out=out[1: full // step + 1])
        if full < n:
            out[-1] = np.sum(squares[full:], dtype=np.float64)
    np.cumsum(out[1:], out=out[1:])
    return out


def total_energy(samples: np.ndarray) -> float:
    """The K-weighted energy of a long stretch of int16 samples, a chunk at a time."""
    return float(sum(np.sum(np.square(y, dtype=np.float64)) for y in k_weighted(samples)))


def contribution(start: int, cumulative: np.ndarray, total: int, step: int = 1) -> tuple[int, np.ndarray]:
    """(first sub-block, energies) a sound adds to a `total`-sample session when it starts at sample `start`, from
    its cumulative energy taken every `step` samples (start, total and the sub-blocks on that grid)."""
    if start % step or total % step or SUB_BLOCK % step:
        raise ValueError(f"a sound at sample {start} of {total} is off the {step}-sample grid")
    # A sound's last step ends in the sub-block its last sample is in: the sub-blocks are on the step's grid.
    end = min(start + step * (len(cumulative) - 1), total)
    if end <= start:
        return 0, np.zeros(0)
    first, last = start // SUB_BLOCK, (end - 1) // SUB_BLOCK
    edges = np.clip(np.arange(first, last + 2) * SUB_BLOCK, start, end) - start
    return first, np.diff(cumulative[edges // step])


def sub_blocks(contributions: Iterable[tuple[int, np.ndarray]], total: int) -> np.ndarray:
    """K-weighted energy per 100-ms sub-block of a `total`-sample session, from contribution() results."""
    out = np.zeros(-(-total // SUB_BLOCK))
    for first, values in contributions:
        out[first: first + len(values)] += values
    return out


def gated(sub: np.ndarray, total: int) -> float:
    """Integrated loudness (LUFS) of a session from its sub-block energies, with BS.1770's two gates."""
    if total <= 0:
        return float("-inf")
    if total < 4 * SUB_BLOCK:
        means = np.array([sub.sum() / total])       # shorter than one gating block: the whole of it
    else:
        count = (total - 4 * SUB_BLOCK) // SUB_BLOCK + 1
        window = np.convolve(sub, np.ones(4), mode="valid")[:count]
        means = window / (4 * SUB_BLOCK)
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(means)
    kept = means[levels > ABSOLUTE_GATE]
    if not len(kept):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(kept.mean()) + RELATIVE_GATE
    kept = means[(levels > ABSOLUTE_GATE) & (levels > relative)]
    return float(-0.691 + 10 * np.log10(kept.mean()))


def true_peak(samples: np.ndarray, chunk: int = RATE * 10) -> float:
    """BS.1770 true peak of int16 samples in dBTP: their largest magnitude after 4x oversampling."""
    import soxr
    if not len(samples):
        return float("-inf")
    # Streamed in chunks: 4x oversampled float64 of a long batch would be 32 bytes per sample at once.
    stream = soxr.ResampleStream(RATE, RATE * PEAK_OVERSAMPLING, 1, dtype="float32", quality="HQ")
    peak = 0.0
    # Silence on both sides lets the filter ring out as it would in a session.
    pad = np.zeros(64, dtype=np.float32)
    parts = [pad] + [np.asarray(samples[i: i + chunk], dtype=np.float32) / 32768.0
                     for i in range(0, len(samples), chunk)] + [pad]
    for k, part in enumerate(parts):
        up = stream.resample_chunk(part, last=k == len(parts) - 1)
        if len(up):
            peak = max(peak, float(np.max(np.abs(up))))
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def stream_sub_blocks(blocks: Iterable[np.ndarray], total: int) -> tuple[np.ndarray, float]:
    """(K-weighted energy per 100-ms sub-block, largest magnitude) of a stream of samples in int16 units:
    a background under a whole session, measured as it is made, a block at a time."""
    h = impulse_response()
    out = np.zeros(-(-total // SUB_BLOCK))
    carry = np.zeros(len(h) - 1)
    at, peak = 0, 0.0
    spectra: dict[int, np.ndarray] = {}

    def add(y: np.ndarray, start: int):
        # Cumulative energy, cut at the sub-block edges that fall inside this piece.
        y = y[: max(0, total - start)]
        if not len(y):
            return
        cumulative = np.zeros(len(y) + 1)
        np.cumsum(y * y, out=cumulative[1:])
        first, values = contribution(start, cumulative, total)
        out[first: first + len(values)] += values
    for block in blocks:
        x = np.asarray(block, dtype=np.float64) / 32768.0
        if not len(x):
            continue
        peak = max(peak, float(np.max(np.abs(x))))
        size = _fft_size(len(x) + len(h) - 1)
        if size not in spectra:
            spectra[size] = np.fft.rfft(h, size)
        y = np.fft.irfft(np.fft.rfft(x, size) * spectra[size], size)[: len(x) + len(h) - 1]
        y[: len(carry)] += carry
        add(y[: len(x)], at)
        carry = y[len(x):]
        at += len(x)
    add(carry, at)
    return out, peak * 32768.0
