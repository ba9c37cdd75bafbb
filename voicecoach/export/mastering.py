"""Mastering: each distinct sound of the voice through compressor, gain and limiter once, with the gain
chosen so that the mixed session lands on the loudness target, and every tone set at its level under the
mastered voice; kept in the cache for the next export."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Mapping, cast

import numpy as np

from voicecoach.audio import ffmpeg, libavfilter, loudness, tones
from voicecoach.audio.mix import sound_key, sounds
from voicecoach.cache import Cache
from voicecoach.errors import VoicecoachError
from voicecoach.session import Session
from voicecoach.units import RATE, SAMPLES_PER_MS

if TYPE_CHECKING:
    from typing_extensions import Buffer

VERSION = 6               # bump when the same sounds and settings should master differently (6: the compressed
#                           voice's loudness read off the raw voice's, which moves the gain's first guess)
GAP = RATE // 4           # 0.25 s of silence around each sound in a batch: compressor (120 ms release) and
#                           limiter (80 ms) recover, so a sound masters the same whatever sits next to it
#                           (identical from 0.2 s on; 0.1 s left up to 22 LSB of difference)
PASSES = 6                # passes over the distinct sounds allowed to find the gain
LIMITER_SLOPE = 0.6       # LU of loudness per dB of gain once the limiter works (typical for speech here)
MODEL_RELEASE_MS = 60     # the limiter model's memory of a peak (ffmpeg's limiter releases over 80 ms)
MODEL_ATTACK_MS = 5       # ... and how far ahead it looks (the limiter's attack)
AIM = 0.2                 # LU from the target that ends the search (files may land within loudness.TOLERANCE)
CODEC_HEADROOM = 1.2      # dB between the mastered sounds' true peak and the file's limit: lossy codecs
#                           overshoot by up to about half a dB on this band-limited, twice-limited voice
MAX_PCM_PEAK = loudness.MAX_TRUE_PEAK - CODEC_HEADROOM
WORKERS = max(1, min(2, os.cpu_count() or 1))   # filter runs (and FFT threads) at once while mastering


@dataclass(frozen=True)
class Mastered:
    session: Session                  # the same timeline, the voice mastered and the tones set under it
    loudness: loudness.Loudness       # of the mixed session: integrated LUFS and true peak dBTP, computed
    gain: float                       # dB
    threshold: float | None           # the compressor's threshold (dB), None when nothing was changed
    ceiling: float                    # the limiter's ceiling (dBFS)
    key: str = ""                     # names this mastering in the cache (empty when not kept)
    reused: bool = False              # the decision and every mastered sound came from the cache
    bed_lowered: float = 0.0          # dB the background was brought down, under its asked level, to keep the limits


def digest(samples: np.ndarray) -> str:
    """SHA-256 of a sound's samples."""
    # numpy's stubs only declare __buffer__ for Python 3.12+; cast rather than copy a whole sound.
    return hashlib.sha256(cast("Buffer", np.ascontiguousarray(samples, dtype="<i2"))).hexdigest()


def _key(kind: str, **fields) -> str:
    return hashlib.sha256(json.dumps({"mastering": VERSION, "kind": kind, **fields}, sort_keys=True,
                                     ensure_ascii=False).encode()).hexdigest()


def level(session: Session, distinct: Mapping[str, np.ndarray], bed: np.ndarray | None = None,
          energies: Mapping[str, np.ndarray] | None = None, signals: Mapping[str, np.ndarray] | None = None) -> float:
    """The integrated loudness (LUFS) of `session` played with the sounds `distinct`, from each sound once
    (and over `bed`, a background's own sub-block energies, when it has one; `energies`, `signals`: see placed)."""
    out = placed(session, distinct, energies, signals)
    # Voice and bed are unrelated sounds: their energies add (the cross term averages out within 100 ms).
    return loudness.gated(out + bed if bed is not None else out, session.timeline.length * SAMPLES_PER_MS)


def placed(session: Session, distinct: Mapping[str, np.ndarray], energies: Mapping[str, np.ndarray] | None = None,
           signals: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """K-weighted energy per 100-ms sub-block of the cues of `session` whose sounds are in `distinct` (each
    sound's cumulative energy a millisecond at a time, as _steps gives it, taken from `energies` when it is
    there, else made from its K-weighted signal in `signals` when that is)."""
    starts: dict[str, list[int]] = {}
    for cue in session.timeline.cues:
        if sound_key(cue) in distinct:
            starts.setdefault(sound_key(cue), []).append(cue.start * SAMPLES_PER_MS)
    total = session.timeline.length * SAMPLES_PER_MS

    def each(key):
        # A sound's energy is filtered, placed and dropped here, so memory stays that of a few sounds.
        found = energies.get(key) if energies is not None else None
        signal = signals.get(key) if signals is not None and found is None else None
        if found is None:
            found = _steps(signal if signal is not None else loudness.weighted_signal(distinct[key]))
        return [loudness.contribution(start, found, total, SAMPLES_PER_MS) for start in starts[key]]
    with ThreadPoolExecutor(WORKERS) as pool:     # numpy's FFT lets go of the GIL
        return loudness.sub_blocks((part for parts in pool.map(each, starts) for part in parts), total)


def weighted(distinct: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each sound's K-weighted signal, its filter's tail included (full scale 1.0)."""
    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip(distinct, pool.map(loudness.weighted_signal, distinct.values())))


class HeadStart:
    """Mastering's work begun while a session's phrases render (`add` is session.gather's on_rendered): a cold
    export renders with a core to spare. From the first phrase rendered, ffmpeg's filter library is loaded (once a
    process, about 0.1 s), and each phrase's K-weighted signal and energy are measured as it arrives: mastering's
    first look at the voice (an FFT pass, 0.1 s for a 10-minute session), and, scaled by the compressor's gain, its
    look at the compressed voice (the signal is kept: 4 bytes a sample). Nothing starts for phrases from the cache:
    the mastering may be cached too, or the file up to date."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="head-start")
        self._found: dict[str, tuple[np.ndarray, Future]] = {}
        self._started = False

    def add(self, text: str, samples: np.ndarray) -> None:
        """Start measuring `samples`, the phrase `text`'s (and, the first time, loading the filters)."""
        if not self._started:
            self._started = True
            self._pool.submit(libavfilter.available)
        self._found[text] = (samples, self._pool.submit(_measured, samples))

    def _measured(self, distinct: Mapping[str, np.ndarray], which: int) -> dict[str, np.ndarray]:
        return {key: future.result()[which] for key, (samples, future) in self._found.items()
                if distinct.get(key) is samples}

    def energies(self, distinct: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The cumulative energies of those of `distinct` measured here (the very same arrays, nothing else)."""
        return self._measured(distinct, 1)

    def signals(self, distinct: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The K-weighted signals of those of `distinct` measured here (the very same arrays, nothing else)."""
        return self._measured(distinct, 0)

    def close(self) -> None:
        """Drop what was measured."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._found.clear()

    def __enter__(self) -> HeadStart:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def _steps(signal: np.ndarray) -> np.ndarray:
    """A K-weighted signal's cumulative energy a millisecond at a time: a cue starts on a millisecond, and the
    sub-blocks fall on them, so that is all placing it needs (a twenty-fourth of the memory of every sample's)."""
    return loudness.cumulative(signal, SAMPLES_PER_MS)


def _measured(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K-weighted signal, its cumulative energy a millisecond at a time) of a sound."""
    signal = loudness.weighted_signal(samples)
    return signal, _steps(signal)


GAIN_FROM = 64                # mean |sample| (int16) over a millisecond from which the compressor's gain is read


def compressor_gain(raw: np.ndarray, compressed: np.ndarray) -> np.ndarray:
    """The gain the compressor gave `raw` to make `compressed`, a millisecond at a time (float32, a value a
    sample): read where the sound is loud enough to tell, and held from there over the quieter stretches."""
    # The compressor only multiplies (dst = src x gain, sample by sample), and its gain moves over
    # milliseconds (5 ms attack, 120 ms release): the ratio of a millisecond's magnitudes is that gain, the
    # loud samples weighing most, as they do in the loudness. Sample by sample took 65 ms for 3 million
    # samples (the rounding of near-silent samples hides the gain, so each needed the last loud one's).
    n = len(raw)
    if len(compressed) != n:
        raise ValueError(f"a compressed sound of {len(compressed)} samples for {n}")
    if not n:
        return np.ones(0, dtype=np.float32)
    blocks = -(-n // SAMPLES_PER_MS)

    def magnitudes(x: np.ndarray) -> np.ndarray:
        padded = np.zeros(blocks * SAMPLES_PER_MS, dtype=np.float32)
        np.abs(x, out=padded[:n], dtype=np.float32)
        return padded.reshape(blocks, SAMPLES_PER_MS).sum(axis=1)
    before, after = magnitudes(raw), magnitudes(compressed)
    loud = before >= GAIN_FROM * SAMPLES_PER_MS
    if not loud.any():
        return np.ones(n, dtype=np.float32)
    gain = np.divide(after, before, out=np.ones(blocks, dtype=np.float32), where=loud)
    last = np.where(loud, np.arange(blocks), 0)
    np.maximum.accumulate(last, out=last)
    last[: int(np.argmax(loud))] = int(np.argmax(loud))
    return np.repeat(gain[last], SAMPLES_PER_MS)[:n]


def compressed_signals(raw: Mapping[str, np.ndarray], compressed: Mapping[str, np.ndarray],
                       signals: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each compressed sound's K-weighted signal, from the raw sound's (`signals`) and the compressor's gain."""
    # As the limiter model's: the gain moves slowly against the K-filter's short response, so scaling the
    # weighted signal stands in for weighting the compressed one again (an FFT pass over every sound).
    def each(key):
        gain = compressor_gain(raw[key], compressed[key])
        y = signals[key].copy()
        y[: len(gain)] *= gain
        if len(gain) and len(y) > len(gain):
            y[len(gain):] *= gain[-1]           # the filter's ringing after the sound, at its last gain
        return y
    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip(raw, pool.map(each, raw)))


class Tones:
    """A session's tones, set again under whatever voice mastering makes: each at its level relative to it.

    Mastering evens out and raises the voice; a tone sent through the same chain would come out wherever
    the voice's compressor left it (as loud as the voice, every tone alike). Instead each tone keeps its
    stated level under the mastered voice, and its energy joins the session's loudness from there."""

    def __init__(self, session: Session):
        self.cues = {sound_key(c): c for c in session.timeline.cues if tones.is_tone(c)}
        # Each tone's energy under a voice at 0 LUFS: under a voice at L it is this times 10^(L/10).
        shapes = {key: tones.at_level(tones.wave(cue), 0.0, cue.level) for key, cue in self.cues.items()}
        self.energies = placed(session, shapes) if shapes else None
        self.total = session.timeline.length * SAMPLES_PER_MS

    def voice(self, session: Session, voiced: Mapping[str, np.ndarray],
              energies: Mapping[str, np.ndarray] | None = None) -> tuple[float, np.ndarray]:
        """(the voice's loudness, the sub-block energies of voice and tones) with the voice's sounds `voiced`
        (or their cumulative energies `energies`, when known)."""
        sub = placed(session, voiced, energies)
        heard = loudness.gated(sub, self.total)
        if self.energies is not None:
            sub = sub + self.energies * 10 ** (tones.reference(heard) / 10)
        return heard, sub

    def heard(self, session: Session, voiced: Mapping[str, np.ndarray], bed: np.ndarray | None,
              energies: Mapping[str, np.ndarray] | None = None) -> float:
        """The session's loudness (LUFS) with the voice's sounds `voiced` (or their `energies`), its tones
        under it, and `bed`."""
        sub = self.voice(session, voiced, energies)[1]
        return loudness.gated(sub + bed if bed is not None else sub, self.total)

    def under(self, voice_lufs: float) -> dict[str, np.ndarray]:
        """Every tone's samples under a voice of loudness `voice_lufs`."""
        return {key: tones.tone(cue, voice_lufs) for key, cue in self.cues.items()}


@dataclass(frozen=True)
class Bed:
    """A session's background as mastering sees it: its own sub-block energies and its peak in each millisecond."""
    energies: np.ndarray
    peaks: np.ndarray                 # int16 units, one a millisecond


def bed_of(session: Session) -> Bed | None:
    """The background's energies and peaks, made once (None without a background)."""
    if session.background is None:
        return None
    return Bed(*session.background.measure(session.timeline))


BED_OVERSHOOT_DB = 0.5        # a noise bed's true peak over its largest sample (0.2-0.4 dB at 4x)
BED_STEP_DB, BED_RETRIES = 3.0, 3   # how far, and how often, a bed too loud for the target is lowered
BED_CEILING_DROP = 1.5        # dB the voice's limiter may come down to make room for a bed under it: more,
#                               and the voice cannot reach the target (a ceiling 2.6 dB down left it at -18.8 LUFS)


def peak(session: Session, distinct: Mapping[str, np.ndarray], bed: Bed | None = None) -> float:
    """The true peak (dBTP) of `session` played with the sounds `distinct`: they never overlap, so it is the
    loudest one's; over a background, at most each sound's plus the bed's largest sample under it."""
    with ThreadPoolExecutor(WORKERS) as pool:     # soxr lets go of the GIL too
        peaks = dict(zip(distinct, pool.map(loudness.true_peak, distinct.values())))
    voice = max(peaks.values(), default=float("-inf"))
    if bed is None or not len(bed.peaks) or float(np.max(bed.peaks)) <= 0:
        return voice
    margin = 10 ** (BED_OVERSHOOT_DB / 20) / 32768
    loudest = voice
    for cue in session.timeline.cues:
        under = bed.peaks[cue.start: max(cue.end, cue.start + 1)]
        if len(under):
            loudest = max(loudest, 20 * np.log10(10 ** (peaks[sound_key(cue)] / 20) + float(np.max(under)) * margin))
    alone = 20 * np.log10(float(np.max(bed.peaks)) * margin)
    return float(max(loudest, alone))


def batch(distinct: Mapping[str, np.ndarray], gap: int = GAP) -> np.ndarray:
    """Every sound once, in name order, each with `gap` samples of silence before it (and after the last)."""
    silence = np.zeros(gap, dtype=np.int16)
    return np.concatenate([part for key in sorted(distinct) for part in (silence, distinct[key])] + [silence])


def process(distinct: Mapping[str, np.ndarray], graph: str) -> dict[str, np.ndarray]:
    """Every sound through the ffmpeg filter `graph`, each in silence of its own; the sounds are shared
    between WORKERS runs at once (a sound's result does not depend on its neighbours)."""
    return Pass(distinct).result(graph)


def filter_run(samples: np.ndarray | None = None) -> libavfilter.Run | ffmpeg.Started:
    """A run of `samples` through a filter graph given later: in this process where ffmpeg's filter library can
    be used (the same samples, without the 80 ms of CPU each ffmpeg program takes to start), else an ffmpeg
    program, started now so that its start-up passes while the graph is worked out."""
    return libavfilter.Run(samples) if libavfilter.available() else ffmpeg.Started(samples)


class Pass:
    """A pass of every sound through ffmpeg's filters (as `process`), its runs begun before their graph is known."""

    def __init__(self, distinct: Mapping[str, np.ndarray]):
        keys = sorted(distinct, key=lambda k: -len(distinct[k]))
        self.groups: list[dict] = [{} for _ in range(min(WORKERS, max(1, len(keys))))]
        sizes = [0] * len(self.groups)
        for key in keys:                               # longest first, each to the emptiest group
            i = sizes.index(min(sizes))
            self.groups[i][key] = distinct[key]
            sizes[i] += len(distinct[key])
        self.runs: list[libavfilter.Run | ffmpeg.Started] = []
        try:
            for group in self.groups:
                self.runs.append(filter_run(batch(group)))
        except BaseException:
            self.close()
            raise

    def result(self, graph: str) -> dict[str, np.ndarray]:
        """Every sound through the ffmpeg filter `graph`."""
        def run(i):
            group, joined = self.groups[i], self.runs[i]
            out = joined.result(graph)
            expected = sum(len(x) for x in group.values()) + GAP * (len(group) + 1)
            if len(out) != expected:
                raise VoicecoachError(f"ffmpeg returned {len(out)} samples for {expected} while mastering")
            done, at = {}, 0
            for key in sorted(group):
                at += GAP
                done[key] = out[at: at + len(group[key])].copy()
                at += len(group[key])
            return done
        try:
            with ThreadPoolExecutor(len(self.groups)) as pool:
                return {k: v for done in pool.map(run, range(len(self.groups))) for k, v in done.items()}
        finally:
            self.close()

    def close(self) -> None:
        """Stop the runs not given a graph."""
        for started in self.runs:
            started.close()


def _sliding_min(x: np.ndarray, width: int) -> np.ndarray:
    """min(x[i: i + width]) for every i (van Herk / Gil-Werman: three passes, whatever the width)."""
    n = len(x)
    padded = np.full(-(-(n + width - 1) // width) * width, np.inf, dtype=x.dtype)
    padded[:n] = x
    rows = padded.reshape(-1, width)
    ahead = np.minimum.accumulate(rows, axis=1).ravel()
    behind = np.minimum.accumulate(rows[:, ::-1], axis=1)[:, ::-1].ravel()
    # The padding reaches n + width - 1, so both are plain slices (gathering them by index took as long
    # as the passes themselves).
    return np.minimum(behind[:n], ahead[width - 1: width - 1 + n])


def limiter_envelope(samples: np.ndarray, gain_db: float, ceiling_db: float) -> np.ndarray | None:
    """A quick stand-in for ffmpeg's limiter, only to guess the gain: the gain it leaves each sample of `samples`
    raised by `gain_db` (the smallest the ceiling asks for within MODEL_RELEASE_MS before it and MODEL_ATTACK_MS
    after it), or None when no sample reaches the ceiling. In single precision: a guess needs no more, and its
    passes over every sample take 0.6-0.75 of the time they take in double."""
    x = np.abs(samples.astype(np.float32)) * np.float32(10 ** (gain_db / 20))
    limit = np.float32(32767 * 10 ** (ceiling_db / 20))
    if not len(x) or np.max(x) <= limit:
        return None
    need = np.minimum(np.float32(1.0), limit / np.maximum(x, np.float32(1e-9)))
    back, ahead = MODEL_RELEASE_MS * SAMPLES_PER_MS, MODEL_ATTACK_MS * SAMPLES_PER_MS
    return _sliding_min(np.concatenate([np.ones(back, dtype=np.float32), need]), back + ahead + 1)[: len(x)]


def limiter_model(samples: np.ndarray, gain_db: float, ceiling_db: float) -> np.ndarray:
    """The samples as the limiter model (limiter_envelope) leaves them."""
    x = samples.astype(np.float64) * 10 ** (gain_db / 20)
    envelope = limiter_envelope(samples, gain_db, ceiling_db)
    return np.clip(np.round(x if envelope is None else x * envelope), -32768, 32767).astype(np.int16)


def modelled_energies(distinct: Mapping[str, np.ndarray], signals: Mapping[str, np.ndarray], gain_db: float,
                      ceiling_db: float) -> dict[str, np.ndarray]:
    """Each sound's cumulative K-weighted energy (a millisecond at a time) after the limiter model, from its
    K-weighted signal `signals`.

    The model's gain moves slowly against the K-filter's short response (its 5 ms attack is 120 samples), so
    the weighted signal is scaled by it instead of filtering each modelled sound again (that took an FFT pass
    over every sound, about as long as the model itself)."""
    scale = 10 ** (gain_db / 20)

    def each(key):
        envelope = limiter_envelope(distinct[key], gain_db, ceiling_db)
        y = signals[key] * scale
        if envelope is not None:
            y[: len(envelope)] *= envelope
        return _steps(y)
    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip(distinct, pool.map(each, distinct)))


def _search(session: Session, distinct: Mapping[str, np.ndarray], raw: loudness.Loudness,
            raw_signals: Mapping[str, np.ndarray], bed: Bed | None = None, placed_tones: Tones | None = None,
            compressing: Pass | None = None):
    """(gain, threshold, ceiling, mastered sounds, their loudness): the chain that reaches the target
    (`raw` is the voice's own loudness: a bed must not change how the voice is evened out). `distinct` are
    the voice's sounds, `raw_signals` their K-weighted signals, `compressing` their compressor pass if already
    started; the tones follow the voice, each at its level under it."""
    floor = bed.energies if bed is not None else None
    laid = placed_tones or Tones(session)
    threshold, ceiling = raw.integrated + loudness.THRESHOLD, first_ceiling(session, bed)
    # The compressor comes before the gain, so its output does not depend on it: run it once, and
    # search the gain on what it gives (the compressor takes 6-9 dB off synthetic speech).
    compressed = (compressing or Pass(distinct)).result(loudness.compressor(threshold))
    # The first limiter pass starts now, while its gain is worked out (it usually is the only one).
    limiting: Pass | None = Pass(compressed)
    try:
        signals = compressed_signals(distinct, compressed, raw_signals)
        with ThreadPoolExecutor(WORKERS) as pool:       # numpy's cumsum lets go of the GIL
            energies = dict(zip(signals, pool.map(_steps, signals.values())))
        gain = loudness.first_gain(loudness.Loudness(laid.heard(session, compressed, floor, energies), None))
        # Let go before the model makes its own: float64 for every distinct sample, 58 MB each for an hour's
        # session, and with these and the model's at once an hour's export peaked at 192-203 MB.
        del energies
        # The limiter takes some loudness too (0.1-0.6 LU here); a quick model of it guesses how much, so
        # the first real pass usually lands and the search costs one pass over the sounds, not two.
        modelled = laid.heard(session, compressed, floor, modelled_energies(compressed, signals, gain, ceiling))
        del signals
        gain = loudness.next_gain([(gain, modelled)], per_db=LIMITER_SLOPE)
    except BaseException:
        cast(Pass, limiting).close()
        raise
    tried = []
    for _ in range(PASSES):
        done = (limiting or Pass(compressed)).result(loudness.limiting(gain, ceiling))
        limiting = None
        voice, sub = laid.voice(session, done)
        done = {**done, **laid.under(voice)}
        got = loudness.Loudness(loudness.gated(sub + floor if floor is not None else sub, laid.total), None)
        tried.append((gain, got.integrated))
        if abs(got.integrated - loudness.TARGET_LUFS) <= AIM:
            true_peak = peak(session, done, bed)
            got = replace(got, true_peak=true_peak)
            if true_peak <= MAX_PCM_PEAK or ceiling <= loudness.CEILING - 6:
                break
            # Lower the ceiling and keep the gain: more gain would only make the limiter work harder.
            ceiling, tried = loudness.lower_ceiling(ceiling, true_peak, MAX_PCM_PEAK), []
        else:
            # From one point, assume the limiter's usual slope; from two, the secant's.
            gain = loudness.next_gain(tried, per_db=LIMITER_SLOPE if len(tried) == 1 else None)
    if got.true_peak is None:
        got = replace(got, true_peak=peak(session, done, bed))
    return gain, threshold, ceiling, done, got


def _under_cues(session: Session, bed: Bed) -> float:
    """The bed's largest sample under any cue (int16 units)."""
    spans = (bed.peaks[cue.start: max(cue.end, cue.start + 1)] for cue in session.timeline.cues)
    return max((float(np.max(span)) for span in spans if len(span)), default=0.0)


def _room(ceiling: float) -> float:
    """How much (linear, of full scale) a bed under a cue may add to a voice limited at `ceiling`."""
    # The voice's true peak lands about MAX_PCM_PEAK - CEILING over its limiter's ceiling (the limiter
    # works on samples, and the low-pass between its two passes lifts a little).
    return 10 ** (MAX_PCM_PEAK / 20) - 10 ** ((ceiling + MAX_PCM_PEAK - loudness.CEILING) / 20)


def first_ceiling(session: Session, bed: Bed | None) -> float:
    """The limiter's ceiling to start from: CEILING, or lower by what the bed under a cue will add to its peak."""
    if bed is None:
        return loudness.CEILING
    # Starting there, instead of lowering the ceiling one pass at a time, saves two or three passes.
    under = _under_cues(session, bed) * 10 ** (BED_OVERSHOOT_DB / 20) / 32768
    peak_room = 10 ** (MAX_PCM_PEAK / 20) - under
    ceiling = 20 * np.log10(max(peak_room, 1e-6)) - (MAX_PCM_PEAK - loudness.CEILING)
    return float(round(min(loudness.CEILING, max(loudness.CEILING - BED_CEILING_DROP, ceiling)), 3))


def _bed_within_limit(session: Session, bed: Bed | None) -> tuple[Session, Bed | None, float]:
    """(session, bed, dB taken off the bed): a bed whose peaks would break the limit, lowered until they fit."""
    # Rain's drops stand 27 dB over its loudness: asked for 6 dB under the voice, they would peak at 0 dBFS
    # between the words (where no limiter on the voice can help) and leave the voice no room under its
    # limiter during them. The bed comes down instead, a little quieter than asked, rather than make the
    # file break its true-peak limit or miss its loudness.
    if bed is None or session.background is None or not len(bed.peaks):
        return session, bed, 0.0
    margin = 10 ** (BED_OVERSHOOT_DB / 20) / 32768
    alone, under = float(np.max(bed.peaks)) * margin, _under_cues(session, bed) * margin
    over = max(20 * np.log10(alone) - MAX_PCM_PEAK if alone > 0 else 0.0,
               20 * np.log10(under / _room(loudness.CEILING - BED_CEILING_DROP)) if under > 0 else 0.0)
    if over <= 0:
        return session, bed, 0.0
    trim = float(round(over, 3))
    return (*_lowered(session, bed, trim), trim)


def _lowered(session: Session, bed: Bed, db: float) -> tuple[Session, Bed]:
    """The session and its bed `db` quieter."""
    if session.background is None:
        raise ValueError("a bed to lower in a session without a background")
    lowered = Bed(bed.energies * 10 ** (-db / 10), bed.peaks * np.float32(10 ** (-db / 20)))
    return replace(session, background=session.background.louder(-db)), lowered


def master(session: Session, cache: Cache | None = None, head: HeadStart | None = None) -> Mastered:
    """`session` with every sound mastered to the loudness target, from the cache when it has been done before
    (`head`: the work begun while its phrases rendered)."""
    if session.background is not None:
        # The bed sits its level under the target, where the voice lands; the voice then makes room for it.
        session = replace(session, background=session.background.under(loudness.TARGET_LUFS))
    distinct = sounds(session.timeline, session.clips)
    digests = {key: digest(samples) for key, samples in distinct.items()}
    settings = [loudness.TARGET_LUFS, loudness.MAX_TRUE_PEAK, MAX_PCM_PEAK, loudness.chain(0.0, 0.0, 0.0)]
    under = {"background": session.background.identity()} if session.background is not None else {}
    decision = _key("session", settings=settings, sounds=digests, length=session.timeline.length,
                    layout=[[cue.start, sound_key(cue)] for cue in session.timeline.cues], **under)
    if cache is not None:
        found = _reuse(session, cache, decision, distinct)
        if found is not None:
            return found
    # The voice's compressor pass is begun first (where the ffmpeg program runs it, it starts up while the bed
    # and the loudness are measured).
    toned = {sound_key(c) for c in session.timeline.cues if tones.is_tone(c)}
    voice = {key: samples for key, samples in distinct.items() if key not in toned}
    compressing = Pass(voice) if voice else None
    try:
        bed = bed_of(session)
        session, bed, bed_trim = _bed_within_limit(session, bed)
        laid = Tones(session)
        # The raw voice's K-weighted signals, measured while it rendered or now: the same arrays either way, so
        # that a session masters the same whether its phrases came from the cache or not.
        signals = head.signals(voice) if head else {}
        signals.update(weighted({key: samples for key, samples in voice.items() if key not in signals}))
        raw = loudness.Loudness(level(session, voice, energies=head.energies(voice) if head else None,
                                      signals=signals), None)
    except BaseException:
        if compressing is not None:
            compressing.close()
        raise
    if raw.integrated < loudness.SILENT:
        if compressing is not None:
            compressing.close()
        # Nothing to bring up: silence (or near it) stays as it is, and its tones sit under a voice on target.
        distinct = {**voice, **laid.under(raw.integrated)}
        heard = level(session, distinct, bed.energies if bed is not None else None)
        return Mastered(replace(session, clips=distinct), loudness.Loudness(heard, peak(session, distinct, bed)), 0.0,
                        None, loudness.CEILING, bed_lowered=bed_trim)
    gain, threshold, ceiling, done, got = _search(session, voice, raw, signals, bed, laid, compressing)
    asked = (session, bed, bed_trim, (gain, threshold, ceiling, done, got))
    for _ in range(BED_RETRIES):
        if bed is None or got.integrated >= loudness.TARGET_LUFS - loudness.TOLERANCE / 2:
            break
        # A loud, steady bed fills the silences, so the file's loudness counts them: the voice would have to
        # go further over the bed than its limiter lets it (brown noise 6 dB under the voice left the file
        # at -17.6 LUFS). The bed comes down a step, and the search runs again.
        session, bed = _lowered(session, bed, BED_STEP_DB)
        bed_trim += BED_STEP_DB
        gain, threshold, ceiling, done, got = _search(session, voice, raw, signals, bed, laid)
    if got.integrated < loudness.TARGET_LUFS - loudness.TOLERANCE / 2:
        # Lowered for nothing: where the voice is too little of the session to carry it (two words in three
        # minutes of pauses), no bed level reaches the target (a bed 9 dB down left it at -32 LUFS). The bed
        # stays as asked, and the export says why the file is quiet.
        session, bed, bed_trim, (gain, threshold, ceiling, done, got) = asked
    if cache is not None:
        names = {}
        for key, samples in done.items():
            names[key] = _key("sound", sound=digests[key], chain=loudness.chain(gain, ceiling, threshold))
            cache.put(names[key], samples)
        cache.put_note(decision, {"gain": gain, "threshold": threshold, "ceiling": ceiling,
                                  "integrated": got.integrated, "true_peak": got.true_peak, "sounds": names,
                                  "bed_trim": bed_trim})
    return Mastered(replace(session, clips=done), got, gain, threshold, ceiling, decision if cache else "",
                    bed_lowered=bed_trim)


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
    trim = float(note.get("bed_trim") or 0.0) if session.background is not None else 0.0
    if trim and session.background is not None:
        session = replace(session, background=session.background.louder(-trim))
    return Mastered(replace(session, clips=done), got, note["gain"], note["threshold"], note["ceiling"], decision,
                    bed_lowered=trim,
                    reused=True)
