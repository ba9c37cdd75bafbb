"""A session that plays while it renders: its samples are final up to a horizon that moves ahead
as phrases are rendered, in the order the session speaks them.

A cue's start depends only on the speech before it, so once every phrase before a cue is known,
that cue's start (and every sample before it) is exactly what the whole session will have. The
cues that must fit an interval (squeeze and breathe words: few and short) are rendered before
anything is played, so the errors that depend on speech length are still found before the first
sound; those given far more room than they can take (`surely_fits`) render right after the first
sound instead, first of the rest. Until a phrase is rendered its length is estimated from words per
minute; only the samples before the first estimated cue (or tone, until the voice the tones are set
under is known) are ever handed out.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Callable, Mapping, Sequence, cast

import numpy as np

from voicecoach.audio.beds import Background
from voicecoach.audio.ducking import FADE_OUT_MS
from voicecoach.audio.mix import phrases_loudness, sound_key, window
from voicecoach.audio.tones import is_tone, tone
from voicecoach.cache import Cache, phrase_key
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.script import Script
from voicecoach.exercise.timeline import Timeline
from voicecoach.speech.pool import render
from voicecoach.speech.voice import Voice
from voicecoach.units import SAMPLES_PER_MS, samples_to_ms


def estimate_ms(text: str, wpm: int) -> int:
    """How long `text` takes to say at `wpm` words per minute, roughly (for lengths not yet rendered)."""
    words = max(1, len(text.split()))
    return round(words * 60_000 / max(1, wpm))


SURE_FACTOR, SURE_SPARE_MS = 3, 500
# Plain English words whose length the estimate can bound: digits are read out as longer words ("1234"),
# and a long word or another script would be underestimated by counting words.
_BOUNDED = re.compile(r"[A-Za-z' ,.;:!?-]+")
_LONGEST_WORD = 12


def surely_fits(text: str, room_ms: int, wpm: int) -> bool:
    """Whether `text` (plain words only) fits `room_ms` even if it takes three times its estimate, and half a second.

    A word said alone takes up to 2.6 times its estimate with the silence around it ("Relax" with piper at 80
    words a minute: 1.95 s for 0.75; espeak-ng, festival and flite less, at 80-250), a cue of a few words
    0.8-1.3 times (every timed cue of the library, espeak-ng and piper)."""
    if not _BOUNDED.fullmatch(text) or any(len(word) > _LONGEST_WORD for word in text.split()):
        return False
    return estimate_ms(text, wpm) * SURE_FACTOR + SURE_SPARE_MS <= room_ms



def reference_texts(texts: Sequence[str], first: Sequence[str]) -> list[str]:
    """The phrases whose voice the tones are set under: the session's first words and its timed cues, which
    a stream has before it plays (so play, and a session prepared whole, set the same tones)."""
    return list(dict.fromkeys([*list(texts)[:1], *first]))


LOUDNESS_NOTE = 1          # bump when phrases_loudness would give another figure for the same phrases


def reference_loudness(cache: Cache, clips: Mapping[str, np.ndarray], texts: Sequence[str]) -> float:
    """phrases_loudness of `texts`, remembered in `cache` by their samples: the tones are set against it, and a
    cached `play` heard its first sound about 0.04 s sooner without filtering the phrases again."""
    known = [t for t in dict.fromkeys(texts) if t in clips]
    digest = hashlib.sha256(f"reference loudness {LOUDNESS_NOTE}".encode())
    for text in known:
        digest.update(hashlib.sha256(np.ascontiguousarray(clips[text], dtype="<i2").tobytes()).digest())
    key = digest.hexdigest()
    try:
        note = cache.get_note(key)
    except OSError:
        note = None
    if note is not None and isinstance(note.get("lufs"), (int, float)):
        return float(note["lufs"])
    heard = phrases_loudness(clips, known)
    if known and heard > float("-inf"):
        try:
            cache.put_note(key, {"lufs": heard})
        except (OSError, VoicecoachError):
            pass        # not remembered: worked out again next time
    return heard


class SessionStream:
    """Samples of a session as they become final; rendering runs on a thread of its own once started."""

    def __init__(self, texts: list[str], layout: Callable[[Mapping[str, int]], Timeline], voice: Voice,
                 cache: Cache, *, first: Sequence[str] = (), shape: Callable[[np.ndarray], np.ndarray] | None = None,
                 script: Script | None = None, bed: Background | None = None,
                 level: Callable[[Background, Timeline, Mapping[str, np.ndarray]], Background] | None = None,
                 rooms: Mapping[str, int] | None = None):
        """`layout(durations)` lays the session out; `first` are rendered before start() returns, but for those
        whose room in `rooms` (the timed cues', in ms) they surely fit; `shape` changes each phrase's samples;
        `bed` lies under the voice, at the level `level(bed, timeline, clips)` sets from the voice known when it
        starts; the tones (chimes, earcons) sit at their levels under the voice of the first words and `first`."""
        self.voice = voice
        self.script = script
        self._bed = bed
        self._level = level
        self._cache = cache
        self._layout = layout
        self._shape = shape or (lambda samples: samples)
        self._made: dict[str, np.ndarray] = {}      # samples of cues no engine speaks (tones), by sound_key
        self._voice: float | None = None            # the voice's loudness the tones are set against
        self._order = list(dict.fromkeys(texts))
        self._clips: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._error: BaseException | None = None
        self._stop = False
        self._thread: threading.Thread | None = None
        self.synthesised = 0
        for text in self._order:
            found = cache.get(phrase_key(voice, text))
            if found is not None:
                self._clips[text] = self._shape(found)
        self._first = [t for t in dict.fromkeys(first) if t not in self._clips]
        self._reference = reference_texts(self._order, first)
        # A bed is levelled against the whole reference as it starts: then every timed cue comes first.
        roomy = {t for t, ms in (rooms or {}).items() if bed is None and surely_fits(t, ms, voice.rate)}
        self._soon = [t for t in self._first if t in roomy]
        self._first = [t for t in self._first if t not in roomy]
        # Laid out only once the timed cues are known: an estimate of one could fail its interval's check.
        self._timeline: Timeline | None = None
        self._horizon = 0

    # ------------------------------------------------------------ rendering

    @property
    def missing(self) -> int:
        """Phrases not in the cache: rendered once started."""
        return len(self._order) - len(self._clips)

    def _store(self, text: str, samples: np.ndarray) -> None:
        self._cache.put(phrase_key(self.voice, text), samples)

    def _arrived(self, text: str) -> None:
        samples = self._cache.get(phrase_key(self.voice, text))
        if samples is None:
            raise RuntimeError(f"the phrase {text[:40]!r} was rendered but did not reach the cache")
        with self._changed:
            self._clips[text] = self._shape(samples)
            self.synthesised += 1
            if self._timeline is not None:
                self._set_voice()
                self._timeline, self._horizon = self._lay_out()
            self._changed.notify_all()

    def _set_voice(self) -> None:
        # The tones are set once, against the voice of the reference phrases (the first words and the timed
        # cues, at this voice's volume) as soon as all of them are known: a tone never changes level.
        if self._voice is None and all(t in self._clips for t in self._reference):
            self._voice = reference_loudness(self._cache, self._clips, self._reference)


    def _lay_out(self) -> tuple[Timeline, int]:
        durations = {t: samples_to_ms(len(c)) for t, c in self._clips.items()}
        guessed = {t: estimate_ms(t, self.voice.rate) for t in self._order if t not in durations}
        timeline = self._layout({**guessed, **durations})
        # A tone is unknown until the voice it is set under is (see _set_voice).
        unknown = [c.start for c in timeline.cues if (c.text in guessed if not is_tone(c) else self._voice is None)]
        if self._voice is not None:
            self._make_tones(timeline)
        return timeline, (min(unknown) if unknown else timeline.length)

    def _make_tones(self, timeline: Timeline) -> None:
        for c in timeline.cues:
            if is_tone(c) and sound_key(c) not in self._made:
                self._made[sound_key(c)] = tone(c, cast(float, self._voice))

    def start(self) -> SessionStream:
        """Render the cues that must fit their intervals (raising their errors here), then the rest behind."""
        # The session's first words join the timed cues: the workers render them side by side, and playing
        # can begin as soon as this returns. With no timed cues they are rendered alone, first, before any
        # other phrase takes a core (40 plain sentences had put the second and the first to work at once),
        # so the sound starts the moment they are ready, and the tones are set against them as they will be
        # in the whole session.
        opening = [t for t in self._order[:1] if t not in self._clips and t not in self._first]
        if opening or self._first:
            render(self.voice, opening + self._first, self._store, progress=self._arrived, in_order=True)
        self._set_voice()
        self._timeline, self._horizon = self._lay_out()
        if self._bed is not None and self._level is not None:
            # Levelled once, against the voice known now (the first words and the timed cues): it never jumps.
            self._bed = self._level(self._bed, self._timeline, self._clips)
        # The timed cues that surely fit come first: should one not fit after all, it says so at once.
        rest = [t for t in dict.fromkeys(self._soon + self._order) if t not in self._clips]
        if rest:
            self._thread = threading.Thread(target=self._render, args=(rest,), daemon=True, name="render-ahead")
            self._thread.start()
        return self

    def _render(self, texts: list[str]) -> None:
        try:
            render(self.voice, texts, self._store, progress=self._arrived, in_order=True,
                   cancelled=lambda: self._stop)
        except BaseException as e:  # handed to whoever reads next
            with self._changed:
                self._error = e
                self._changed.notify_all()

    def close(self) -> None:
        """Stop rendering (what is rendered stays in the cache)."""
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ------------------------------------------------------------ reading

    @property
    def finished(self) -> bool:
        return len(self._clips) == len(self._order)

    @property
    def timeline(self) -> Timeline:
        """The layout as far as known: exact up to the horizon, estimated after it."""
        if self._timeline is None:
            raise RuntimeError("the stream is not started")
        return self._timeline

    def error(self) -> BaseException | None:
        """What stopped rendering, if anything did."""
        return self._error

    def available(self) -> int:
        """Samples from the start that are final."""
        if self._bed is not None and not self.finished and self._timeline is not None:
            # The bed fades out over the session's last seconds, which are known once its length is.
            return min(self._horizon, max(0, self._timeline.length - FADE_OUT_MS)) * SAMPLES_PER_MS
        return self._horizon * SAMPLES_PER_MS

    def total(self) -> int | None:
        """The session's length in samples, once every phrase is known."""
        return self.timeline.length * SAMPLES_PER_MS if self.finished else None

    def read(self, lo: int, hi: int) -> np.ndarray:
        """Samples lo..hi, which must be final (hi at most available())."""
        with self._lock:
            if hi > self._horizon * SAMPLES_PER_MS:
                raise ValueError(f"samples up to {hi} asked for; only {self._horizon * SAMPLES_PER_MS} are final")
            voice = window(self.timeline, {**self._clips, **self._made} if self._made else self._clips, lo, hi)
            if self._bed is None:
                return voice
            return np.clip(np.round(voice + self._bed.window(self.timeline, lo, hi - lo)), -32768, 32767).astype(np.int16)

    def wait(self, timeout: float) -> None:
        """Block until more is known (or `timeout` seconds pass)."""
        with self._changed:
            self._changed.wait(timeout)

    def clips(self) -> dict[str, np.ndarray]:
        """The samples of every phrase known so far."""
        with self._lock:
            return dict(self._clips)
