"""Background beds: soft sound under a session, made here from code or looped from the user's own file.

Every bed's samples are a pure function of where they are in the session, so it is the same every
time and any block of it can be made alone: the built-in beds are seamless loops of shaped noise (or
tones), three of coprime lengths at once so that nothing audibly repeats, under slow envelopes of the
time; a user's file is decoded once and looped with a crossfade at its seam.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, cast

import numpy as np

from voicecoach.audio import ffmpeg, loudness
from voicecoach.audio.ducking import DEPTH_DB, ducking
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.timeline import Timeline
from voicecoach.units import RATE, SAMPLES_PER_MS

if TYPE_CHECKING:
    from typing_extensions import Buffer

VERSION = 1                 # bump when a built-in bed should sound different
DEFAULT_LEVEL = -20.0       # dB: the bed's loudness relative to the voice's
MIN_LEVEL, MAX_LEVEL = -40.0, -6.0   # louder than -6 and the voice, 12 dB over a ducked bed, would not stay on top
OFF = "none"
MIN_FILE_MS = 1000          # a shorter file would loop audibly, however it is crossfaded
MAX_FILE_S = 600            # the part of a long file that is used: 10 minutes is 29 MB in memory, looped
CROSSFADE_MS = 2000         # at most, at the loop's seam (a quarter of a short file)
LONG_LOOP_S = 60            # a loop longer than this is K-weighted in pieces
SILENT_PEAK = 16            # int16: a file that never rises above this (-66 dBFS) is silence


@dataclass(frozen=True)
class Bed:
    """What is asked for: a built-in bed's name or a sound file's path, and its level under the voice."""
    sound: str
    level: float = DEFAULT_LEVEL


@dataclass(frozen=True, eq=False)
class Layer:
    """One periodic strand of a bed: a seamless tile (one period, int16 units) and a slow envelope of time."""
    tile: np.ndarray
    envelope: Callable[[np.ndarray], np.ndarray] | None = None   # of seconds; sampled once a millisecond
    k_tile: np.ndarray | None = None     # the tile K-weighted, made when first asked for (see weighted)
    k_power: float | None = None         # its mean K-weighted power, of full scale (see _k_power)

    def at(self, lo: int, n: int, weighted: bool = False) -> np.ndarray:
        """The tile's samples lo..lo+n-1 of the endless loop (without the envelope); K-weighted if asked."""
        if weighted and self.k_tile is None and len(self.tile) > LONG_LOOP_S * RATE:
            # A long loop (a user's file, up to 10 minutes) is K-weighted where it is asked for, from a
            # quarter second before (the filter's memory), and not kept: whole, its transforms took 600 MB.
            raw = self.at(lo - loudness.TAIL, n + loudness.TAIL)
            return (np.concatenate(list(loudness.k_weighted(raw)))[loudness.TAIL: loudness.TAIL + n]
                    * 32768.0).astype(np.float32)
        tile = self.weighted if weighted else self.tile
        p, at = len(tile), lo % len(tile)
        if at + n <= p:
            return tile[at: at + n]
        # Whole slices, not an index per sample: the block runs past the tile's end and around again.
        parts, left = [tile[at:]], n - (p - at)
        while left > 0:
            parts.append(tile[: min(p, left)])
            left -= len(parts[-1])
        return np.concatenate(parts)

    @property
    def weighted(self) -> np.ndarray:
        """The tile through BS.1770's K-weighting filter, in int16 units (kept: measuring a bed makes it often)."""
        if self.k_tile is None:
            object.__setattr__(self, "k_tile", _k_weighted_loop(self.tile))
        return cast(np.ndarray, self.k_tile)


def _k_weighted_loop(tile: np.ndarray, spectrum: np.ndarray | None = None) -> np.ndarray:
    """A periodic tile (of this `spectrum`, if known) through the K-weighting filter, float32 in int16 units."""
    p = len(tile)
    # The filter wraps around a loop, so its response multiplies the loop's spectrum exactly.
    if spectrum is None:
        spectrum = np.fft.rfft(tile.astype(np.float64))
    return np.fft.irfft(spectrum * _k_spectrum(p), p).astype(np.float32)


@lru_cache(maxsize=3)
def _k_power_gain(n: int) -> np.ndarray:
    """The K-weighting filter's power gain at an n-sample loop's frequencies (a bed's strands share three lengths)."""
    return loudness.k_power_gain(np.fft.rfftfreq(n, 1 / RATE)).astype(np.float32)


@lru_cache(maxsize=4)
def _k_spectrum(p: int) -> np.ndarray:
    """The K-weighting filter's response at a p-sample loop's frequencies (a bed's strands share three lengths)."""
    return loudness.k_response(np.fft.rfftfreq(p, 1 / RATE)).astype(np.complex64)


def _ms_grid(lo: int, n: int) -> np.ndarray:
    """Sample positions one millisecond apart covering lo..lo+n (both ends)."""
    return np.arange(lo, lo + n + SAMPLES_PER_MS, SAMPLES_PER_MS)


_FRACTION = np.arange(SAMPLES_PER_MS, dtype=np.float32) / SAMPLES_PER_MS


def _smooth(values_at_ms: np.ndarray, lo: int, n: int) -> np.ndarray:
    """Values given once a millisecond from `lo`, joined by straight lines for every sample lo..lo+n-1."""
    # The points are evenly spaced, so each millisecond is one ramp: no search per sample, as np.interp
    # does (it was half the time of an export with a bed).
    m = -(-n // SAMPLES_PER_MS)
    v = np.asarray(values_at_ms, dtype=np.float32)
    start, rise = v[:m], v[1: m + 1] - v[:m]
    return (start[:, None] + rise[:, None] * _FRACTION[None, :]).ravel()[:n]


class Source:
    """A bed's raw samples (float, in int16 units) at any place in a session, and their loudness."""

    def __init__(self, name: str, layers: list[Layer], identity: dict, heard: float | None = None):
        self.name, self.layers, self._identity = name, layers, identity
        self.loudness = heard if heard is not None and np.isfinite(heard) else self._loudness()

    def identity(self) -> dict:
        """What decides the bed's samples, for fingerprints."""
        return dict(self._identity)

    def samples(self, lo: int, n: int, gain_at_ms: np.ndarray | None = None, weighted: bool = False) -> np.ndarray:
        """Samples lo..lo+n-1 of the bed, times a gain given once a millisecond (see _ms_grid), if any;
        `weighted`: the same through the K-weighting filter (the gains are slow beside the filter's memory)."""
        plain = np.zeros(n, dtype=np.float32)
        shaped = np.zeros(n, dtype=np.float32)
        # Strands under the same envelope are summed first, so each envelope is spread over samples once.
        groups: dict[int, tuple[Callable, np.ndarray]] = {}
        for layer in self.layers:
            if layer.envelope is None:
                plain += layer.at(lo, n, weighted)
            else:
                envelope, summed = groups.setdefault(id(layer.envelope), (layer.envelope, np.zeros(n, np.float32)))
                summed += layer.at(lo, n, weighted)
        for envelope, summed in groups.values():
            g = envelope(_ms_grid(lo, n) / RATE)
            shaped += summed * _smooth(g * gain_at_ms if gain_at_ms is not None else g, lo, n).astype(np.float32)
        if gain_at_ms is not None and np.any(gain_at_ms != gain_at_ms[0]):
            plain *= _smooth(gain_at_ms, lo, n)
        elif gain_at_ms is not None:
            plain *= gain_at_ms[0]
        return (plain + shaped).astype(np.float64)

    def _loudness(self, seconds: int = 600) -> float:
        # Over ten minutes: many swells of any envelope. The mean power over them is each loop's own (from
        # its spectrum) times its envelope's mean square: no loop has to be filtered for it (that took half
        # of the 1.2 s a bed took to make). A file's own loudness comes gated, from decoding it (see decode).
        t = np.arange(0, seconds * RATE, SAMPLES_PER_MS) / RATE
        swells: dict[int, float] = {}       # strands share their envelope: each is worked out once
        power = 0.0
        for layer in self.layers:
            if layer.envelope is not None and id(layer.envelope) not in swells:
                swells[id(layer.envelope)] = float(np.mean(layer.envelope(t) ** 2))
            own = layer.k_power if layer.k_power is not None else _k_power(
                np.fft.rfft(layer.tile.astype(np.float64)), len(layer.tile))
            power += own * swells.get(id(layer.envelope), 1.0)
        return float(-0.691 + 10 * np.log10(max(power, 1e-20)))


def _tile(seconds: int, seed: int, shape: Callable[[np.ndarray], np.ndarray], rms: float = 3000.0,
          drops: float = 0.0, envelope=None) -> Layer:
    """A seamless loop of noise: white noise (with `drops` impulses a second) shaped in one circular FFT."""
    n = seconds * RATE
    rng = np.random.default_rng([VERSION, seed])
    white = rng.standard_normal(n)
    if drops:
        # Drops: sparse impulses of random size; through the shaping, a soft patter.
        white += (rng.random(n) < drops / RATE) * rng.exponential(6.0, n)
    spectrum = np.fft.rfft(white) * shape(np.maximum(np.fft.rfftfreq(n, 1 / RATE), 1.0))
    shaped = np.fft.irfft(spectrum, n)
    scale = rms / np.sqrt(np.mean(shaped ** 2))
    return Layer((shaped * scale).astype(np.float32), envelope, k_power=_k_power(spectrum * scale, n))


def _k_power(spectrum: np.ndarray, n: int) -> float:
    """The mean K-weighted power (of full scale) of the n-sample loop whose rfft is `spectrum` (Parseval)."""
    weight = np.full(len(spectrum), 2.0)
    weight[0] = 1.0
    if n % 2 == 0:
        weight[-1] = 1.0
    power = np.abs(spectrum) ** 2 * _k_power_gain(n)
    return float(np.sum(weight * power) / n / n / 32768.0 ** 2)


def _brown(f):
    # -6 dB an octave from 40 Hz, softly closed above 1.5 kHz and below 25 Hz: a deep, even rush.
    return (1 / np.maximum(f, 40)) / np.sqrt(1 + (f / 1500) ** 2) * (f / (f + 25))


def _hiss(f):
    # Bright but not sharp: rising to 3 kHz, falling off above 7 kHz; rain on leaves, surf breaking.
    return np.sqrt(f / (f + 900)) / np.sqrt(1 + (f / 3000) ** 2) / (1 + (f / 7000) ** 4)


# Each noise bed is three loops of coprime lengths, each at a third of the power: any one sample
# pattern comes back only after 29 x 37 x 43 s (12.8 hours), and each loop alone is masked by the others.
PERIODS = (29, 37, 43)


def _strands(shape, seed: int, rms: float, envelope=None, drops: float = 0.0) -> list[Layer]:
    return [_tile(p, seed * 10 + i, shape, rms / np.sqrt(len(PERIODS)), drops, envelope)
            for i, p in enumerate(PERIODS)]


def _swell(t: np.ndarray) -> np.ndarray:
    """0..1: waves coming in and drawing back, never quite repeating (sines of incommensurate periods)."""
    w = (np.sin(2 * np.pi * t / 10.3) + 0.6 * np.sin(2 * np.pi * t / 16.7 + 1.3)
         + 0.4 * np.sin(2 * np.pi * t / 6.1 + 2.1)) / 2.0
    return np.clip((w + 1) / 2, 0, 1) ** 2


def _drone_tones(seconds: int = 40) -> np.ndarray:
    # G2 and D3 with their octaves, each a hair detuned from its twin: slow beats (0.2-0.4 Hz), not a
    # static tone. Every frequency is a whole number of cycles in the loop, so it loops without a seam.
    t = np.arange(seconds * RATE, dtype=np.float64) / RATE
    out = np.zeros_like(t)
    for k, (freq, amp) in enumerate(((98.0, 1.0), (98.3, 0.8), (147.0, 0.5), (147.2, 0.4), (196.0, 0.25),
                                     (294.4, 0.1))):
        swell = 0.75 + 0.25 * np.sin(2 * np.pi * t / (seconds / (k % 3 + 1)) + k)
        out += amp * swell * np.sin(2 * np.pi * freq * t)
    return (out * 3000 / np.sqrt(np.mean(out ** 2))).astype(np.float32)


def _make(name: str) -> list[Layer]:
    if name == "brown":
        return _strands(_brown, 1, 3000.0)
    if name == "rain":
        return _strands(_hiss, 2, 3000.0, drops=60.0)
    if name == "waves":
        return (_strands(_brown, 3, 3000.0, lambda t: 0.35 + 0.65 * _swell(t))
                + _strands(_hiss, 4, 1800.0, lambda t: _swell(t) ** 2))
    # drone: the tones, breathing slowly over a much longer span than their loop, on a breath of brown noise
    tones = _drone_tones()
    return ([Layer(tones, lambda t: 0.8 + 0.2 * np.sin(2 * np.pi * t / 53.3),
                   k_power=_k_power(np.fft.rfft(tones.astype(np.float64)), len(tones)))]
            + _strands(_brown, 5, 200.0))


BUILT_IN = ("brown", "drone", "rain", "waves")
ABOUT = {"brown": "soft brown noise, a deep even rush", "rain": "steady rain with a soft patter",
         "waves": "slow waves coming in and drawing back", "drone": "a warm low drone, slowly beating"}


@lru_cache(maxsize=4)
def built_in(name: str) -> Source:
    """A built-in bed by name (made once per process)."""
    return Source(name, _make(name), {"built_in": name, "version": VERSION})


def looped(path: Path, unit: np.ndarray, heard: float | None = None) -> Source:
    """A user's sound as a bed: one period of its seamless loop (see loop_unit), of loudness `heard` if known."""
    loop = np.ascontiguousarray(unit, dtype="<f4")
    # numpy's stubs only declare __buffer__ for Python 3.12+; a float32 array is a buffer (no copy of it).
    digest = hashlib.sha256(cast("Buffer", loop)).hexdigest()
    return Source(path.name, [Layer(loop)], {"file": str(path), "digest": digest}, heard)


def loop_unit(samples: np.ndarray, crossfade: int) -> np.ndarray:
    """One period of a seamless loop of `samples`: its end crossfaded into its beginning (equal power)."""
    n = len(samples)
    c = max(1, min(crossfade, n // 4))
    ramp = np.arange(c, dtype=np.float64) / c
    fade_in, fade_out = np.sin(np.pi / 2 * ramp), np.cos(np.pi / 2 * ramp)
    # The unit starts where the file's last `c` samples begin, so the step from the unit's end (sample
    # n-c-1) back to its start (sample n-c, fading out into the file's first samples) is the file's own.
    head = samples[n - c:].astype(np.float64) * fade_out + samples[:c].astype(np.float64) * fade_in
    # float32 holds every int16 exactly: the file's own samples are not doubled in size (10 minutes: 58 MB).
    return np.concatenate([head.astype(np.float32), samples[c: n - c].astype(np.float32)])


def decode(path: Path) -> tuple[np.ndarray, float]:
    """The first MAX_FILE_S of a sound file, mono int16 at the internal rate, and their loudness (LUFS);
    or one line saying why not."""
    import tempfile
    if not path.exists():
        raise VoicecoachError(f"{path}: there is no such file; give a sound file, or one of the built-in "
                              f"backgrounds: {', '.join(BUILT_IN)}")
    if path.is_dir():
        raise VoicecoachError(f"{path}: is a folder; give a sound file (ogg, mp3, wav, flac ...)")
    kind = not_a_file(path)
    if kind:
        # A FIFO or a terminal blocks any reader, and /dev/urandom never ends: refused before anything opens it.
        raise VoicecoachError(f"{path}: is {kind}, not a sound file; give a sound file (ogg, mp3, wav, flac ...)")
    try:
        open(path, "rb").close()
    except OSError as e:
        raise VoicecoachError(f"{path}: cannot be read ({e.strerror}); check its permissions") from None
    _check_streams(path)
    with tempfile.TemporaryFile() as out:
        try:
            # Measured as it is decoded, by the same run (ebur128 after the conversion to what we take): working
            # it out from 10 minutes of samples took as long as decoding them.
            log = ffmpeg.run(["-i", str(path), "-map", "0:a:0", "-t", str(MAX_FILE_S), "-af",
                              f"aformat=sample_rates={RATE}:channel_layouts=mono,{loudness.meter()}",
                              "-f", "s16le", "-ar", str(RATE), "-ac", "1", "pipe:1"], stdout=out)
        except VoicecoachError as e:
            if str(e) == ffmpeg.INSTALL_HINT:
                raise
            raise VoicecoachError(f"{path}: cannot be read as a sound ({e}); choose an audio file "
                                  "(ogg, mp3, wav, flac ...)") from None
        out.seek(0)
        samples = np.fromfile(out, dtype="<i2").astype(np.int16, copy=False)   # no copy in bytes first
    if len(samples) < MIN_FILE_MS * SAMPLES_PER_MS:
        raise VoicecoachError(f"{path}: is only {len(samples) / RATE:.1f} s long; a background needs at least "
                              f"{MIN_FILE_MS // 1000} s of sound")
    if max(int(samples.max()), -int(samples.min())) <= SILENT_PEAK:
        raise VoicecoachError(f"{path}: is silent; choose a file with sound in it")
    return samples, loudness.parse(log).integrated


# The rates a sound file really has span 8 kHz (a telephone) to 384 kHz; a header that claims 1 Hz made ffmpeg
# resample 2,000 samples into ten minutes of audio (6.4 s and 1.3 GB, for a 4 kB file).
MIN_FILE_RATE, MAX_FILE_RATE = 4000, 768_000


def not_a_file(path: Path) -> str | None:
    """What `path` is when it is not a regular file (after symlinks): 'a FIFO', 'a device' ...; None for a file."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None         # not there, or not ours to read: the caller says so in its own words
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (a named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _check_streams(path: Path) -> None:
    """Refuse, in a person's words, a file with no sound in it or a rate no sound has."""
    try:
        streams = ffmpeg.audio_streams(path)
    except VoicecoachError as e:
        if str(e) == ffmpeg.INSTALL_HINT:
            raise
        raise VoicecoachError(f"{path}: cannot be read as a sound ({e}); choose an audio file "
                              "(ogg, mp3, wav, flac ...)") from None
    if not streams:
        raise VoicecoachError(f"{path}: holds no sound (a video or picture without audio?); choose an audio file "
                              "(ogg, mp3, wav, flac ...)")
    try:
        rate = int(streams[0].get("sample_rate", 0))
    except (TypeError, ValueError):
        rate = 0
    if not MIN_FILE_RATE <= rate <= MAX_FILE_RATE:
        raise VoicecoachError(f"{path}: claims a sample rate of {rate} Hz, which no real sound file has "
                              f"({MIN_FILE_RATE:,} to {MAX_FILE_RATE:,} Hz); it is damaged: choose another file")


def source(sound: str, base: Path | None = None,
           read: Callable[[Path], tuple[np.ndarray, float]] | None = None) -> Source:
    """The bed `sound` names: a built-in one, or a file (a relative path from `base`) decoded by `read`
    (decode, unless the caller keeps what it decoded)."""
    if sound.strip().lower() in BUILT_IN:
        return built_in(sound.strip().lower())
    path = Path(sound).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.exists() and len(path.parts) == 1 and not path.suffix:
        raise VoicecoachError(f"there is no built-in background `{sound}`: choose one of {', '.join(BUILT_IN)}, "
                              f"`{OFF}`, or a sound file")
    samples, heard = (read or decode)(path)
    return looped(path, loop_unit(samples, CROSSFADE_MS * SAMPLES_PER_MS), heard)


@dataclass(frozen=True, eq=False)
class Background:
    """A bed placed under a session: its source, its level under the voice, and the gain that gives it."""
    source: Source
    level: float            # dB under the voice (as asked)
    gain_db: float = 0.0    # applied to the source's raw samples

    def identity(self) -> dict:
        """Everything that decides the bed's samples in a session, for fingerprints."""
        return {**self.source.identity(), "level": self.level, "gain": round(self.gain_db, 4),
                "ducking": [DEPTH_DB, VERSION]}

    def under(self, voice_lufs: float) -> Background:
        """This bed, with the gain that puts it `level` dB under a voice at `voice_lufs`."""
        return replace(self, gain_db=voice_lufs + self.level - self.source.loudness)

    def louder(self, db: float) -> Background:
        """This bed `db` louder."""
        return replace(self, gain_db=self.gain_db + db)

    def lowered_text(self, db: float) -> str:
        """One sentence saying that this bed was brought `db` dB under the level asked for, and why."""
        name = self.source.identity().get("built_in")
        what = f"The {name} background" if name else f"The background {self.source.name}"
        return (f"{what} was lowered by {round(db, 1):g} dB (to {round(-self.level + db, 1):g} dB under the voice) "
                "to keep the file within its loudness and peak limits.")

    def blocks(self, timeline: Timeline, size: int, weighted: bool = False) -> Iterator[np.ndarray]:
        """The bed under `timeline`, ducked under every cue and faded in and out, in blocks of `size` samples
        (K-weighted, for measuring, if asked)."""
        duck = ducking(timeline)
        gain = 10 ** (self.gain_db / 20)
        total = timeline.length * SAMPLES_PER_MS
        for lo in range(0, total, size):
            n = min(size, total - lo)
            # The gain is worked out once a millisecond and joined by lines: its ramps last 300 ms and more.
            yield self.source.samples(lo, n, duck.gains(_ms_grid(lo, n)) * gain, weighted)

    def window(self, timeline: Timeline, lo: int, n: int) -> np.ndarray:
        """Samples lo..lo+n of the bed under `timeline`, exactly as blocks() makes them."""
        gain = 10 ** (self.gain_db / 20)
        return self.source.samples(lo, n, ducking(timeline).gains(_ms_grid(lo, n)) * gain)

    def measure(self, timeline: Timeline, size: int = 20 * RATE) -> tuple[np.ndarray, np.ndarray]:
        """(K-weighted energy per 100-ms sub-block, largest magnitude in each millisecond) of the bed under
        `timeline`, made as blocks() makes it."""
        # Made, not worked out from each loop's energy: a deep bed's strands beat against each other within
        # 100 ms (brown noise's energy sits under 150 Hz), which moved the gating enough that a session over
        # brown noise measured 0.5 LU under what was computed; and the sum of the strands' own peaks
        # overstated a noise bed's by 4-8 dB. Made from K-weighted loops, an hour of waves takes 1.8 s.
        total = timeline.length * SAMPLES_PER_MS
        size -= size % (loudness.SUB_BLOCK * SAMPLES_PER_MS // np.gcd(loudness.SUB_BLOCK, SAMPLES_PER_MS))
        energies = np.zeros(-(-total // loudness.SUB_BLOCK))
        peaks = np.zeros(timeline.length, dtype=np.float32)
        at = 0
        for raw, heard in zip(self.blocks(timeline, size), self.blocks(timeline, size, weighted=True)):
            ms, subs = len(raw) // SAMPLES_PER_MS, -(-len(raw) // loudness.SUB_BLOCK)
            peaks[at // SAMPLES_PER_MS: at // SAMPLES_PER_MS + ms] = np.max(
                np.abs(raw[: ms * SAMPLES_PER_MS]).reshape(ms, SAMPLES_PER_MS), axis=1)
            square = np.zeros(subs * loudness.SUB_BLOCK)
            square[: len(heard)] = (heard / 32768.0) ** 2
            energies[at // loudness.SUB_BLOCK: at // loudness.SUB_BLOCK + subs] = \
                square.reshape(subs, loudness.SUB_BLOCK).sum(axis=1)
            at += len(raw)
        return energies, peaks
