"""The speech engines, one module each, in order of preference: the most natural installed one is the default.

Adding an engine is one new module here, defining ENGINE (an instance of speech.engine.Engine),
and one line in REGISTRY.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from voicecoach.errors import VoicecoachError, shown
from voicecoach.speech.engine import Engine, EngineVoice

# Module names, most natural first: the default when nobody chose a voice is the first installed.
REGISTRY = (
    "piper",
    "festival",
    "flite",
    "pyttsx3",
)
# Engines chosen only by name, never listed among voices or taken as the default: a voice pack of
# recorded phrases (`--voice recorded:PACK`), which `voicecoach voices` lists in a section of its own.
BY_NAME_ONLY = ("recorded",)
DEFAULT_ENGINE = "pyttsx3"      # a bare voice name (gmw/en-us) is this engine's
# What people know an engine as: espeak-ng speaks behind pyttsx3, so `espeak` names it in every listing and
# spec. The registry keeps the name pyttsx3 inside (Voice.engine: cache keys, logs and configs stay valid).
ALIASES = {"espeak": "pyttsx3", "espeak-ng": "pyttsx3"}
SHOWN = {"pyttsx3": "espeak"}


def shown_engine(name: str) -> str:
    """The name an engine is listed by (espeak for pyttsx3)."""
    return SHOWN.get(name, name)


@cache
def _engines() -> dict[str, Engine]:
    # Imported when first asked for, so `voicecoach --help` loads no engine.
    found = [importlib.import_module(f"{__name__}.{module}").ENGINE for module in REGISTRY]
    return {e.name: e for e in found}


def names() -> tuple[str, ...]:
    """Every registered engine's name, most natural first."""
    return tuple(_engines())


def registered() -> tuple[Engine, ...]:
    """Every registered engine, most natural first."""
    return tuple(_engines().values())


@cache
def _by_name_only() -> dict[str, Engine]:
    found = [importlib.import_module(f"{__name__}.{module}").ENGINE for module in BY_NAME_ONLY]
    return {e.name: e for e in found}


def engine(name: str) -> Engine:
    """The engine called `name`; an unknown name is an error listing the known ones."""
    name = ALIASES.get(name, name)
    try:
        return _engines()[name] if name in _engines() or name not in BY_NAME_ONLY else _by_name_only()[name]
    except KeyError:
        raise VoicecoachError(f"there is no speech engine {shown(name)}; pick one of: "
                              f"{', '.join(map(shown_engine, names()))}") from None


def split_spec(spec: str) -> tuple[str, str | None]:
    """`engine:voice` -> (engine, voice); an engine alone is its best voice; any other bare name is pyttsx3's."""
    head, sep, tail = spec.strip().partition(":")
    head = ALIASES.get(head.strip().lower(), head)      # espeak, espeak-ng: pyttsx3
    if not sep and head.strip().lower() in names() + BY_NAME_ONLY:   # `festival` alone: its best voice
        return head.strip().lower(), None
    if sep and "/" not in head:
        engine(head.strip().lower())
        return head.strip().lower(), (tail.strip() or None)
    return DEFAULT_ENGINE, spec.strip() or None


def resolve(spec: str) -> tuple[str, str | None]:
    """(engine, voice id) for `engine:voice` or a bare pyttsx3 name; missing engines and unknown voices are errors."""
    name, wanted = split_spec(spec)
    chosen = engine(name)
    chosen.require()
    try:
        # `recorded` alone names no pack: its resolve says how to name one.
        return name, (chosen.resolve(wanted) if wanted or name == "recorded" else chosen.best_voice)
    except VoicecoachError:
        elsewhere = _named_elsewhere(wanted, name) if wanted and ":" not in spec else []
        if not elsewhere:
            raise
        # A bare name is espeak-ng's; one that another engine's voice has is that voice, as `voices` names it.
        raise VoicecoachError(f"{shown_engine(name)} has no voice {shown(wanted)}; did you mean "
                              f"{' or '.join(elsewhere)}? (`voicecoach voices` names each voice as --voice takes it)"
                              ) from None


def _named_elsewhere(wanted: str, besides: str) -> list[str]:
    """The specs (as `voices` lists them) of installed engines' voices, other than `besides`', called `wanted`."""
    found = []
    for e in registered():
        if e.name == besides or not e.installed():
            continue
        try:
            voices = e.voices()
        except VoicecoachError:
            continue
        found += [short_spec(v, voices) for v in voices if wanted.strip().lower() in (v.name.strip().lower(), v.id.lower())]
    return found


def best_available() -> tuple[str, str | None]:
    """The most natural installed voice: piper's joe, else festival slt-hts, else flite slt, else espeak-ng's default."""
    for e in registered():
        if e.installed() and (e.best_voice is None or any(v.id == e.best_voice for v in e.voices())):
            return e.name, e.best_voice
    return DEFAULT_ENGINE, None


@dataclass(frozen=True)
class EngineListing:
    """One engine in `voicecoach voices`: its voices, or what to install."""
    engine: str
    installed: bool
    install: str
    voices: tuple[EngineVoice, ...] = ()


def listing() -> list[EngineListing]:
    """Every engine with every voice it has (an engine not installed names what to install)."""
    out = []
    for e in registered():
        ok = e.installed()
        out.append(EngineListing(e.name, ok, e.install, tuple(e.voices()) if ok else ()))
    return out


def main_voices(found: list[EngineListing]) -> list[EngineVoice]:
    """The voices worth comparing: each engine's main ones (all of them, unless it has too many)."""
    chosen: list[EngineVoice] = []
    for item in found:
        main = _engines()[item.engine].main
        chosen.extend(v for v in item.voices if main is None or v.id in main)
    return chosen




def short_spec(v: EngineVoice, siblings: list[EngineVoice] | tuple[EngineVoice, ...] = ()) -> str:
    """The shortest `engine:voice` that names `v` alone among its engine's voices (festival:slt), as --voice takes it."""
    name = v.name.strip().lower()
    others = [o for o in siblings if o.engine == v.engine and o.id != v.id]
    taken = {o.name.strip().lower() for o in others} | {o.id.lower() for o in others}
    if name and " " not in name and ":" not in name and name != v.id.lower() and name not in taken:
        return f"{shown_engine(v.engine)}:{name}"
    return f"{shown_engine(v.engine)}:{v.id}"


def file_safe(spec: str) -> str:
    """A spec as part of a file name: `espeak:gmw/en-us` -> `espeak-gmw-en-us`."""
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in spec)


FEW = 3     # an engine with this many voices or fewer shows them all; more, one per kind of sound


def shortlist(found: list[EngineListing], first: tuple[str, str | None] | None = None) -> list[EngineVoice]:
    """The voices worth a look: each engine's main ones, or one per kind of sound; `first` leads."""
    chosen: list[EngineVoice] = []
    for item in found:
        main = _engines()[item.engine].main
        if main is not None:
            chosen.extend(v for v in item.voices if v.id in main)
            continue
        if len(item.voices) <= FEW:
            chosen.extend(item.voices)
            continue
        sounds: set[str] = set()
        for v in sorted(item.voices, key=lambda v: not v.best):    # the engine's best voice speaks for its sound
            if v.sound not in sounds:
                sounds.add(v.sound)
                chosen.append(v)
    return sorted(chosen, key=lambda v: (v.engine, v.id) != first)
