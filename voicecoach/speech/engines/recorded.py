"""recorded: a voice pack of a person's own recorded phrases, with another voice speaking any phrase it lacks.

`--voice recorded:PACK` (or `recorded:PACK:FALLBACK`, FALLBACK any other --voice, e.g. piper:joe) speaks
each phrase the pack holds with its take, exactly as cleaned and stored, and every other phrase with the
fallback voice (default: the most natural voice installed). The resolved voice id carries a digest of
every take, so a new or changed take makes new cache entries, and stale audio is never played.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voicecoach.errors import VoicecoachError, shown
from voicecoach.speech import packs
from voicecoach.speech.engine import Engine, EngineVoice
from voicecoach.speech.voice import Voice
from voicecoach.units import RATE

NAME = "recorded"


@dataclass(frozen=True)
class Choice:
    """A resolved recorded voice: the pack, the digest of its takes, and the voice for the rest."""
    pack: str
    digest: str
    fallback_engine: str
    fallback_voice: str | None
    fallback_revision: int = 1

    def voice_id(self) -> str:
        rev = f"#{self.fallback_revision}" if self.fallback_revision != 1 else ""
        return f"{self.pack}@{self.digest}>{self.fallback_engine}:{self.fallback_voice or ''}{rev}"

    def fallback(self, voice: Voice) -> Voice:
        return Voice(self.fallback_engine, self.fallback_voice, voice.rate, voice.volume)


def parse_id(voice_id: str | None) -> Choice:
    """The Choice a voice id of Recorded.resolve stands for."""
    pack, _, rest = (voice_id or "").partition("@")
    digest, _, fb = rest.partition(">")
    fb, _, rev = fb.partition("#")
    engine, _, name = fb.partition(":")
    if not pack or not digest or not engine:
        raise VoicecoachError(f"{shown(voice_id)} is not a recorded voice; choose one with --voice recorded:PACK")
    return Choice(pack, digest, engine, name or None, int(rev) if rev.isdigit() else 1)


def _fallback_engine(name: str) -> Engine:
    from voicecoach.speech.engines import engine
    return engine(name)


def sources(voice: Voice, texts) -> tuple[list[str], list[str]]:
    """(phrases spoken from the pack, phrases spoken by the fallback voice) of `texts` with this voice."""
    if voice.engine != NAME:
        return [], list(dict.fromkeys(texts))
    pack = packs.load(parse_id(voice.name).pack)
    texts = list(dict.fromkeys(texts))
    return [t for t in texts if pack.take(t)], [t for t in texts if not pack.take(t)]


class Recorded(Engine):
    name = NAME
    install = "record a pack with `voicecoach record SCRIPT --pack NAME`, then use --voice recorded:NAME"
    program = "the voice pack"
    check = "voicecoach voices"
    best_voice = ""           # never the default voice: a pack is chosen by name
    native_wpm = 140
    per_core = 2

    def installed(self) -> bool:
        return True

    def voices(self) -> list[EngineVoice]:
        # Packs are listed in a section of their own by `voicecoach voices` (how many phrases, what is missing).
        return []

    def resolve(self, wanted: str | None) -> str | None:
        """`PACK` or `PACK:FALLBACK` -> a voice id naming the pack, its takes' digest and the fallback voice."""
        from voicecoach.speech.engines import best_available, resolve
        name, _, fallback = (wanted or "").strip().partition(":")
        if not name:
            raise VoicecoachError("name the voice pack: --voice recorded:PACK (e.g. recorded:my-voice); "
                                  "`voicecoach voices` lists the packs here")
        pack = packs.load(packs.check_name(name))
        for take in pack.takes.values():
            where = packs.take_path(pack, take)
            # A cheap look at every take now, so that a missing or odd file is named before anything plays;
            # its content is checked against its checksum when it is read.
            if not where.is_file() or where.is_symlink():
                packs.read_take(pack, take)     # its one line saying what is wrong
        if fallback.strip():
            engine, voice = resolve(fallback)
        else:
            engine, voice = best_available()
        if engine == NAME:
            raise VoicecoachError(f"a voice pack's fallback must be a speaking voice, not {shown(fallback)}; "
                                  "for example recorded:my-voice:piper:joe")
        return Choice(pack.name, pack.digest()[:20], engine, voice, _fallback_engine(engine).revision).voice_id()

    def warm_up(self, voice: Voice) -> None:
        choice = parse_id(voice.name)
        _fallback_engine(choice.fallback_engine).warm_up(choice.fallback(voice))

    def synthesise(self, voice: Voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        choice = parse_id(voice.name)
        pack = packs.load(choice.pack)
        if pack.digest()[:20] != choice.digest:
            raise VoicecoachError(f"the voice pack {shown(choice.pack)} changed while this session was being "
                                  "prepared; run the command again")
        take = pack.take(text)
        if take is None:
            fallback = _fallback_engine(choice.fallback_engine)
            return fallback.synthesise(choice.fallback(voice), text, timeout)
        samples = packs.read_take(pack, take)
        if float(voice.volume) != 1.0:
            samples = np.clip(np.round(samples * float(voice.volume)), -32768, 32767).astype(np.int16)
        return samples, RATE


ENGINE = Recorded()
