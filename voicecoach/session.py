"""A session: a script resolved into a timeline, with every phrase's samples ready to mix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np

from voicecoach.audio.mix import BLOCK_MS, assemble, blocks
from voicecoach.cache import Cache, phrase_key
from voicecoach.config import load_config
from voicecoach.errors import at
from voicecoach.exercise.script import Script, load_script, phrases, timed_phrases
from voicecoach.exercise.timeline import Timeline, build_timeline, session_length
from voicecoach.speech.engines import best_available, resolve
from voicecoach.speech.pool import render
from voicecoach.speech.voice import DEFAULT_RATE_WPM, DEFAULT_VOLUME, Voice
from voicecoach.stream import Progress as StreamProgress
from voicecoach.stream import SessionStream, estimate_ms
from voicecoach.units import samples_to_ms


@dataclass(frozen=True)
class Session:
    script: Script
    voice: Voice
    timeline: Timeline
    clips: Mapping[str, np.ndarray]
    synthesised: int          # phrases rendered by the engine now; 0 when all came from the cache

    def audio(self) -> np.ndarray:
        """The whole session as int16 samples at the internal rate."""
        return assemble(self.timeline, self.clips)

    def blocks(self, block_ms: int = BLOCK_MS) -> Iterator[np.ndarray]:
        """The same samples as audio(), block by block in one reused buffer: stream them, do not keep them."""
        return blocks(self.timeline, self.clips, block_ms)


def choose_voice(script: Script, *, name=None, rate=None, volume=None, config=None) -> Voice:
    """The voice to use: CLI options over the script's `voice:` over the user's config.yaml over the calm defaults."""
    config = config if config is not None else load_config()
    spec = name or script.voice.name or config.voice
    try:
        if not spec:
            engine, wanted = best_available()
        else:
            engine, wanted = resolve(spec)
    except Exception as e:
        if name or not spec:
            raise
        if script.voice.name:
            raise at(script.path, 1, f"voice.name: {e}") from None
        raise at(config.path, config.voice_line, f"voice: {e}") from None
    return Voice(
        engine=engine,
        name=wanted,
        rate=int(rate or script.voice.rate or config.rate or DEFAULT_RATE_WPM),
        volume=float(volume if volume is not None else (script.voice.volume or DEFAULT_VOLUME)),
    )


def gather(voice: Voice, texts, cache: Cache, progress: Callable[[int, int], None] | None = None) -> tuple[dict, int]:
    """Samples for every text: from the cache, rendering (and caching) the missing ones once.

    `progress(rendered, to_render)` is called before the first phrase is rendered and after each."""
    clips, missing = {}, []
    for text in texts:
        samples = cache.get(phrase_key(voice, text))
        if samples is None:
            missing.append(text)
        else:
            clips[text] = samples
    if missing:
        done = 0

        def one_more(_text: str) -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, len(missing))
        if progress:
            progress(0, len(missing))
        render(voice, missing, lambda text, samples: cache.put(phrase_key(voice, text), samples), progress=one_more)
        for text in missing:
            samples = cache.get(phrase_key(voice, text))
            if samples is None:
                raise at(cache.root, 0, f"the phrase {text[:40]!r} was rendered but did not reach the cache")
            clips[text] = samples
    return clips, len(missing)


def prepare(path: str | Path, cache: Cache, *, overrides: Mapping[str, object] | None = None,
            voice: str | None = None, rate: int | None = None, volume: float | None = None,
            progress: Callable[[int, int], None] | None = None) -> Session:
    """Load a script, make sure every phrase is rendered, and lay out its timeline."""
    script = load_script(path, overrides)
    chosen = choose_voice(script, name=voice, rate=rate, volume=volume)
    clips, synthesised = gather(chosen, phrases(script.steps), cache, progress)
    durations = {text: samples_to_ms(len(s)) for text, s in clips.items()}
    return Session(script, chosen, build_timeline(script, durations), clips, synthesised)


def stream(path: str | Path, cache: Cache, *, overrides: Mapping[str, object] | None = None,
           voice: str | None = None, rate: int | None = None, volume: float | None = None,
           progress: Callable[[StreamProgress], None] | None = None) -> SessionStream:
    """The session as it will render once started: its timed cues first (their errors come then), the rest behind."""
    script = load_script(path, overrides)
    chosen = choose_voice(script, name=voice, rate=rate, volume=volume)
    return SessionStream(phrases(script.steps), lambda durations: build_timeline(script, durations), chosen, cache,
                         first=timed_phrases(script.steps), progress=progress, script=script)


@dataclass(frozen=True)
class Length:
    """A session's length: exact when every phrase is in the cache, else estimated from words per minute."""
    ms: int
    estimated: bool


def known_length(path: str | Path, cache: Cache, *, overrides: Mapping[str, object] | None = None,
                 voice: str | None = None, rate: int | None = None, volume: float | None = None) -> tuple[Script, Length]:
    """A script and its length, without synthesising anything (lengths of cached phrases, estimates for others)."""
    script = load_script(path, overrides)
    chosen = choose_voice(script, name=voice, rate=rate, volume=volume)
    durations, estimated = {}, False
    for text in phrases(script.steps):
        found = cache.samples(phrase_key(chosen, text))
        if found is None:
            durations[text], estimated = estimate_ms(text, chosen.rate), True
        else:
            durations[text] = samples_to_ms(found)
    return script, Length(session_length(script, durations), estimated)
