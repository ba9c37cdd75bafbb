"""Speech: the real engine renders at the internal rate, trimmed to the audible part."""

import numpy as np
import pytest

from voicecoach.cache import phrase_key
from voicecoach.errors import VoicecoachError
from voicecoach.speech import pool as speech
from voicecoach.speech.clip import AUDIBLE, speakable, to_internal
from voicecoach.speech.engines.pyttsx3 import list_voices, resolve_voice_name
from voicecoach.speech.voice import Voice
from voicecoach.units import RATE


def test_to_internal_resamples_and_trims():
    rate = 22050
    t = np.arange(rate) / rate
    tone = (np.sin(2 * np.pi * 440 * t) * 10000).astype(np.int16)
    padded = np.concatenate([np.zeros(2205, np.int16), tone, np.zeros(4410, np.int16)])
    out = to_internal(padded, rate)
    assert abs(len(out) - RATE) <= 30                  # one second of tone, the silence gone
    assert abs(int(out[0])) >= AUDIBLE and abs(int(out[-1])) >= AUDIBLE
    # still 440 Hz: the resampler kept the pitch (a wrong rate would shift it)
    spectrum = np.abs(np.fft.rfft(out.astype(float)))
    assert abs(np.argmax(spectrum) * RATE / len(out) - 440) < 3


def test_silence_becomes_an_empty_clip():
    assert len(to_internal(np.zeros(1000, np.int16), 22050)) == 0


@pytest.mark.slow
def test_real_speech_is_rendered_once_per_text_and_slower_at_a_lower_rate(cache):
    # `store` runs in the worker processes, so results travel through a real cache.
    def store_for(voice):
        return lambda text, samples: cache.put(phrase_key(voice, text), samples)

    texts = ["Let your shoulders drop.", "Breathe in", "Let your shoulders drop."]
    calm, quick = Voice(rate=120), Voice(rate=240)
    speech.render(calm, texts, store_for(calm))
    speech.render(quick, texts[:1], store_for(quick))
    assert len(list(cache.root.rglob("*.wav"))) == 3
    slow, fast = cache.get(phrase_key(calm, texts[0])), cache.get(phrase_key(quick, texts[0]))
    assert slow.dtype == np.int16 and 0.5 * RATE < len(slow) < 5 * RATE
    assert 1.5 < len(slow) / len(fast) < 2.6
    assert abs(int(slow[0])) >= AUDIBLE


@pytest.mark.slow
def test_voices_are_listed_and_unknown_names_refused():
    voices = list_voices()
    assert len(voices) > 10 and any(v["id"] == "gmw/en-us" for v in voices)
    assert resolve_voice_name("en-us", voices) == "gmw/en-us"
    with pytest.raises(VoicecoachError, match="no voice 'klingon-x'"):
        resolve_voice_name("klingon-x", voices)


@pytest.mark.slow
def test_a_hanging_engine_is_an_error_not_a_hang(monkeypatch):
    # The per-phrase workers (an engine without a phrase server); the server's hang: test_espeak_server.py.
    from voicecoach.speech import engines
    from voicecoach.testing import SlowEngine
    monkeypatch.setitem(engines._engines(), "slow", SlowEngine(3600))
    with pytest.raises(VoicecoachError, match="did not finish"):
        speech.render(Voice(engine="slow"), ["Hello."], lambda t, s: None, timeout=0.5)


@pytest.mark.slow
def test_markup_and_control_characters_are_spoken_literally(cache):
    """Text that looks like SSML, phonemes or espeak commands is read as words: it cannot change settings."""
    voice = Voice()
    plain = "one two three four five"
    texts = {"plain": plain,
             "ssml": f"<speak><prosody rate='x-fast'>{plain}</prosody></speak>",
             "phonemes": f"{plain} [[h@'loU]]",
             "command": f"\x01 90S{plain}",
             "long": "one " * 250}
    speech.render(voice, texts.values(), lambda t, s: cache.put(phrase_key(voice, t), s))
    seconds = {k: len(cache.get(phrase_key(voice, t))) / RATE for k, t in texts.items()}
    # Read out, the tags and brackets add words; obeyed, rate='x-fast' would make it shorter.
    assert seconds["ssml"] > 1.5 * seconds["plain"]
    assert seconds["phonemes"] > seconds["plain"]
    # The control character is dropped, so "90S" is spoken, not obeyed as a speed of 90.
    assert 0.8 * seconds["plain"] < seconds["command"] < 2 * seconds["plain"]
    assert seconds["long"] > 60


def test_speakable_removes_control_characters():
    assert speakable("a\x01b\x1bc\x7fd\x85e") == "a b c d e"


@pytest.mark.parametrize("engine, command", [("pyttsx3", 'espeak-ng "hello"'), ("festival", "festival --tts"),
                                             ("flite", 'flite -t "hello"')])
def test_a_stuck_engine_is_named_with_a_command_to_check_it(engine, command):
    from voicecoach.speech.engines import engine as named
    from voicecoach.speech.pool import engine_error
    message = str(engine_error("TimeoutError: the speech engine did not finish the phrase", named(engine)))
    assert "did not finish in time" in message and command in message
    assert ("espeak-ng" in message) == (engine == "pyttsx3")
