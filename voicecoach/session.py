"""A session: a script resolved into a timeline, with every phrase's samples ready to mix."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np

from voicecoach.audio import beds, loudness
from voicecoach.audio.mix import BLOCK_MS, assemble, blocks, under, voice_loudness, with_tones
from voicecoach.cache import Cache, phrase_key
from voicecoach.config import load_config
from voicecoach.errors import VoicecoachError, at, shown
from voicecoach.exercise import medium
from voicecoach.exercise.script import Script, load_script, phrases, timed_phrases
from voicecoach.exercise.timeline import Timeline, build_timeline, check_limits, rooms, session_length
from voicecoach.speech.engines import best_available, resolve
from voicecoach.speech.pool import render
from voicecoach.speech.voice import DEFAULT_RATE_WPM, DEFAULT_VOLUME, Voice
from voicecoach.stream import SessionStream, estimate_ms, reference_loudness, reference_texts
from voicecoach.units import RATE, SAMPLES_PER_MS, samples_to_ms


@dataclass(frozen=True)
class Session:
    script: Script
    voice: Voice
    timeline: Timeline
    clips: Mapping[str, np.ndarray]
    synthesised: int          # phrases rendered by the engine now; 0 when all came from the cache
    background: beds.Background | None = None   # a bed under the voice, ducked under every cue

    def audio(self) -> np.ndarray:
        """The whole session as int16 samples at the internal rate."""
        if self.background is not None:
            return np.concatenate([np.zeros(0, dtype=np.int16), *self.blocks()])
        return assemble(self.timeline, self.clips)

    def blocks(self, block_ms: int = BLOCK_MS) -> Iterator[np.ndarray]:
        """The same samples as audio(), block by block in one reused buffer: stream them, do not keep them."""
        voice = blocks(self.timeline, self.clips, block_ms)
        if self.background is None:
            return voice
        return under(voice, self.background.blocks(self.timeline, max(1, block_ms * SAMPLES_PER_MS)))


def choose_background(script: Script, sound: str | None = None, level: float | None = None) -> beds.Bed | None:
    """The bed to play under the voice: the command line's over the script's `background:`; None when off."""
    asked = script.background
    if sound is None and (asked is None or asked.sound.lower() == beds.OFF):
        if level is not None:
            raise VoicecoachError(f"{script.path}: --background-level sets the level of a background; "
                                  "add --background NAME (for example --background waves)")
        return None
    if sound is not None and sound.strip().lower() == beds.OFF:
        return None
    chosen = sound if sound is not None else asked.sound if asked else beds.OFF
    given = level if level is not None else asked.level if asked and asked.level is not None else beds.DEFAULT_LEVEL
    return beds.Bed(chosen, given)


def _decoded_through(cache: Cache | None) -> Callable[[Path], tuple[np.ndarray, float]]:
    """beds.decode, kept in `cache`: a user's file is decoded once for as long as it stays the same file."""
    if cache is None:
        return beds.decode

    def read(path: Path) -> tuple[np.ndarray, float]:
        # Decoding 10 minutes of a file took a second of every export over it; reading them back, 30 ms.
        # ("2": files are checked for a real sample rate before decoding, so earlier decodes are made again.)
        if not os.access(path, os.R_OK) or not path.is_file():
            return beds.decode(path)        # its own line saying why not
        stat = path.stat()
        key = hashlib.sha256(json.dumps(["background file 2", str(path.resolve()), stat.st_size, stat.st_mtime_ns,
                                         beds.MAX_FILE_S, RATE]).encode()).hexdigest()
        note = cache.get_note(key)
        found = cache.get(key) if note is not None else None
        if note is not None and found is not None and len(found) == note.get("samples"):
            return found, float(note["loudness"])
        samples, heard = beds.decode(path)
        cache.put(key, samples)
        cache.put_note(key, {"samples": len(samples), "loudness": heard})
        return samples, heard
    return read


def background_for(script: Script, sound: str | None = None, level: float | None = None,
                   cache: Cache | None = None) -> beds.Background | None:
    """The chosen bed, found and read (a file through `cache`) but not yet levelled against a voice; None when
    none is chosen."""
    bed = choose_background(script, sound, level)
    if bed is None:
        return None
    script_bed = script.background
    try:
        # A file the script names is found beside the script; one on the command line, from here.
        found = beds.source(bed.sound, script.path.parent if sound is None else None, _decoded_through(cache))
    except VoicecoachError as e:
        if sound is None and script_bed is not None:
            raise at(script.path, script_bed.line, f"background.sound: {e}") from None
        raise
    return beds.Background(found, bed.level)


def levelled(bed: beds.Background, timeline: Timeline, clips: Mapping[str, np.ndarray]) -> beds.Background:
    """`bed` at its level under the voice of these cues (the speech whose samples are in `clips`)."""
    voice = voice_loudness(timeline, clips)
    return bed.under(voice if np.isfinite(voice) else loudness.TARGET_LUFS)


def with_background(session: Session, sound: str | None = None, level: float | None = None,
                    cache: Cache | None = None) -> Session:
    """`session` with the chosen bed under it, `level` dB under its voice; unchanged when none is chosen."""
    bed = background_for(session.script, sound, level, cache)
    if bed is None:
        return session
    return replace(session, background=levelled(bed, session.timeline, session.clips))


def choose_voice(script: Script, *, name=None, rate=None, volume=None, config=None) -> Voice:
    """The voice to use: CLI options over the script's `voice:` over the user's config.yaml over the calm defaults."""
    config = config if config is not None else load_config()
    spec = name or script.voice.name or config.voice
    if spec and spec.startswith("recorded:") and spec.count(":") == 1 and config.voice \
            and not config.voice.startswith("recorded:"):
        spec = f"{spec}:{config.voice}"     # a pack's missing phrases in the user's own default voice
    try:
        if not spec:
            engine, wanted = best_available()
        else:
            engine, wanted = resolve(spec)
    except Exception as e:
        if name or not spec:
            raise
        if script.voice.name:
            raise at(script.path, script.voice.name_line or 1, f"voice.name: {e}") from None
        raise at(config.path, config.voice_line, f"voice: {e}") from None
    return Voice(
        engine=engine,
        name=wanted,
        rate=int(rate or script.voice.rate or config.rate or DEFAULT_RATE_WPM),
        volume=float(volume if volume is not None else (script.voice.volume or DEFAULT_VOLUME)),
    )


def gather(voice: Voice, texts, cache: Cache, progress: Callable[[int, int], None] | None = None,
           on_rendered: Callable[[str, np.ndarray], None] | None = None) -> tuple[dict, int]:
    """Samples for every text: from the cache, rendering (and caching) the missing ones once.

    `progress(rendered, to_render)` is called before the first phrase is rendered and after each; `on_rendered(text,
    samples)` as each rendered phrase arrives (the very array returned), so work on it can start then."""
    clips, missing = {}, []
    for text in texts:
        samples = cache.get(phrase_key(voice, text))
        if samples is None:
            missing.append(text)
        else:
            clips[text] = samples
    if missing:
        done = 0

        def one_more(text: str) -> None:
            nonlocal done
            done += 1
            if on_rendered:
                arrived(text)
            if progress:
                progress(done, len(missing))

        def arrived(text: str) -> None:
            samples = cache.get(phrase_key(voice, text))
            if samples is None:
                raise at(cache.root, 0, f"the phrase {shown(text[:40])} was rendered but did not reach the cache")
            clips[text] = samples
            if on_rendered:
                on_rendered(text, samples)
        if progress:
            progress(0, len(missing))
        render(voice, missing, lambda text, samples: cache.put(phrase_key(voice, text), samples), progress=one_more)
        for text in missing:
            if text not in clips:
                arrived(text)
    return clips, len(missing)


def prepare(path: str | Path, cache: Cache, *, overrides: Mapping[str, object] | None = None,
            voice: str | None = None, rate: int | None = None, volume: float | None = None,
            for_file: bool = False, progress: Callable[[int, int], None] | None = None, background: str | None = None,
            background_level: float | None = None, keep_alive: bool | None = None,
            on_rendered: Callable[[str, np.ndarray], None] | None = None) -> Session:
    """Load a script, make sure every phrase is rendered, and lay out its timeline (for a file: see medium, and
    medium.quiet_spans for `keep_alive`; with a bed, if chosen). `on_rendered`: see gather."""
    script = load_script(path, overrides)
    check_limits(script)
    if for_file:
        script = medium.for_file(script)
    chosen = choose_voice(script, name=voice, rate=rate, volume=volume)
    clips, synthesised = gather(chosen, phrases(script.steps), cache, progress, on_rendered)
    durations = {text: samples_to_ms(len(s)) for text, s in clips.items()}
    timeline = build_timeline(script, durations)
    if for_file:
        quiet = medium.quiet_spans(timeline, script, keep_alive,
                                   bed=choose_background(script, background, background_level) is not None)
        timeline = medium.keep_alive(medium.ready_tones(timeline, script.tones.ready), level=script.tones.keep_alive,
                                     quiet=quiet)
    # Every tone at its level under this voice, as rendered (at its --volume): play and render keep it so,
    # and mastering sets it again under the mastered voice.
    heard = reference_loudness(cache, clips, reference_texts(phrases(script.steps), timed_phrases(script.steps)))
    clips = with_tones(timeline, clips, heard)
    return with_background(Session(script, chosen, timeline, clips, synthesised), background, background_level, cache)


def stream(path: str | Path, cache: Cache, *, overrides: Mapping[str, object] | None = None,
           voice: str | None = None, rate: int | None = None, volume: float | None = None,
           background: str | None = None,
           background_level: float | None = None) -> SessionStream:
    """The session as it will render once started: its tight timed cues first (their errors come then), the rest
    behind (the timed cues with room to spare first of it)."""
    script = load_script(path, overrides)
    check_limits(script)
    chosen = choose_voice(script, name=voice, rate=rate, volume=volume)
    return SessionStream(phrases(script.steps), lambda durations: build_timeline(script, durations), chosen, cache,
                         first=timed_phrases(script.steps), script=script, rooms=rooms(script),
                         bed=background_for(script, background, background_level, cache), level=levelled)


def file_length(session: Session, cache: Cache, progress: Callable[[int, int], None] | None = None) -> int:
    """How long `session` (as `play` plays it, not hands-free) lasts as a file from `export`: a file says each
    wait's prompt in words that ask for no key (see medium.file_prompt), so a script with waits differs."""
    script = medium.for_file(session.script)
    texts = phrases(script.steps)
    if texts == phrases(session.script.steps):
        return session.timeline.length      # the same words, the same times: tones take no time of their own
    clips, _ = gather(session.voice, texts, cache, progress)
    return session_length(script, {text: samples_to_ms(len(samples)) for text, samples in clips.items()})


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
