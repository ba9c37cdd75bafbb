"""Conformance: every registered speech engine implements the whole engine interface, the same way."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach.cache import phrase_key
from voicecoach.errors import VoicecoachError
from voicecoach.speech import engines
from voicecoach.speech.engine import Engine, EngineVoice
from voicecoach.speech.pool import render
from voicecoach.speech.voice import Voice
from voicecoach.testing import synthesise_in_worker

ENGINES = [pytest.param(e, id=e.name) for e in engines.registered()]


def test_the_registry_names_each_engine_once_and_by_its_own_name():
    names = engines.names()
    assert len(names) == len(set(names)) and names
    assert all(engines.engine(n).name == n for n in names)
    assert engines.DEFAULT_ENGINE in names


@pytest.mark.parametrize("engine", ENGINES)
def test_an_engine_describes_itself(engine):
    assert isinstance(engine, Engine)
    assert engine.name and engine.install and engine.check and engine.program
    assert engine.program in engine.check_hint() and engine.check in engine.check_hint()
    assert 60 <= engine.native_wpm <= 400


@pytest.mark.parametrize("engine", ENGINES)
def test_an_installed_engine_lists_voices_it_can_resolve(engine):
    # tools/setup.sh installs every registered engine: one that is missing here is a failure.
    assert engine.installed(), f"{engine.name} is part of the set-up: {engine.install}"
    voices = engine.voices()
    assert voices and all(isinstance(v, EngineVoice) and v.engine == engine.name for v in voices)
    assert engine.best_voice is None or engine.best_voice in {v.id for v in voices}
    for v in voices[:3]:
        assert engine.resolve(v.id) == v.id
        assert v.spec == f"{engine.name}:{v.id}"
    assert engine.resolve(None) is None
    with pytest.raises(VoicecoachError):
        engine.resolve("no-such-voice-anywhere")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_engine_speaks_mono_int16_at_the_rate_it_reports(engine):
    voice = Voice(engine=engine.name, name=engine.best_voice)
    samples, rate = synthesise_in_worker(voice, "Breathe out slowly.")
    assert samples.dtype == np.int16 and samples.ndim == 1
    assert 8_000 <= rate <= 48_000
    seconds = len(samples) / rate
    assert 0.3 < seconds < 5, seconds
    assert np.abs(samples.astype(np.int32)).max() > 1000


@pytest.mark.parametrize("engine", ENGINES)
def test_an_engine_renders_through_the_pool_into_the_cache(engine, cache):
    voice = Voice(engine=engine.name, name=engine.best_voice)
    texts = ["Soften your jaw.", "Let the breath go."]
    render(voice, texts, lambda text, samples: cache.put(phrase_key(voice, text), samples))
    assert all(cache.get(phrase_key(voice, t)) is not None and len(cache.get(phrase_key(voice, t))) for t in texts)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_engine_names_what_to_install(engine, monkeypatch):
    monkeypatch.setattr(type(engine), "installed", lambda self: False)
    with pytest.raises(VoicecoachError) as raised:
        engine.require()
    assert "\n" not in str(raised.value)
    assert any(word in str(raised.value) for word in engine.install.split() if len(word) > 4)
