"""The espeak-ng phrase server: the driver's samples byte for byte, a fresh engine for every phrase, nothing from
the current folder, and a hang or a failure is one line."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from voicecoach.errors import VoicecoachError
from voicecoach.speech import espeak_server
from voicecoach.speech.clip import to_internal
from voicecoach.speech.engines import pyttsx3
from voicecoach.speech.pool import render
from voicecoach.speech.voice import Voice
from voicecoach.testing import synthesise_in_worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the server serves Linux only")

PHRASES = ["Breathe in slowly through your nose.", "Squeeze", "Let go.", "Four", "Well done, 12 and 4.5 percent!"]


def served(voice: Voice, texts: list[str], **options) -> dict[str, np.ndarray]:
    got: dict[str, np.ndarray] = {}
    render(voice, texts, lambda text, samples: got.__setitem__(text, samples), **options)
    return got


def hanging_espeak_data(tmp_path) -> str:
    """An espeak-ng data folder whose files are FIFOs nobody writes: the engine hangs as it starts."""
    data = tmp_path / "hanging" / "espeak-ng-data"
    data.mkdir(parents=True)
    for name in ("phontab", "phonindex", "phondata", "intonations"):
        os.mkfifo(data / name)
    return str(tmp_path / "hanging")


@pytest.mark.parametrize("voice", [Voice(), Voice(name="gmw/en-gb-x-rp", rate=170, volume=0.6)],
                         ids=["default", "rp-fast-soft"])
def test_the_server_sends_the_samples_the_pyttsx3_driver_writes(voice):
    assert pyttsx3.ENGINE.server(voice) is not None
    got = served(voice, PHRASES)
    for text in PHRASES:
        samples, rate = synthesise_in_worker(voice, text)
        expected = to_internal(samples, rate)
        assert np.array_equal(got[text], expected), text


def test_a_phrase_comes_out_the_same_whatever_was_rendered_before_it():
    voice = Voice(rate=150)
    alone = served(voice, PHRASES[:1])[PHRASES[0]]
    after = served(voice, PHRASES[1:] + PHRASES[:1], workers=1, in_order=True)[PHRASES[0]]
    assert np.array_equal(alone, after)


def test_nothing_in_the_current_folder_or_pythonpath_stands_in_for_the_server(tmp_path, monkeypatch):
    decoy = tmp_path / "decoy"
    marker = tmp_path / "ran"
    for package in ("voicecoach", "voicecoach/speech", "pyttsx3", "pyttsx3/drivers"):
        (decoy / package).mkdir(parents=True)
        (decoy / package / "__init__.py").write_text(f"open({str(marker)!r}, 'a').write({package!r})\n")
    (decoy / "voicecoach" / "speech" / "espeak_server.py").write_text(
        f"open({str(marker)!r}, 'a').write('server')\ndef main(): pass\n")
    monkeypatch.chdir(decoy)
    monkeypatch.setenv("PYTHONPATH", str(decoy))
    got = served(Voice(), ["Let go."])
    assert len(got["Let go."]) > 1000
    assert not marker.exists(), marker.read_text()


@pytest.mark.slow
def test_an_engine_that_hangs_is_one_line_naming_the_phrase(tmp_path, monkeypatch):
    monkeypatch.setenv("ESPEAK_DATA_PATH", hanging_espeak_data(tmp_path))
    with pytest.raises(VoicecoachError, match=r"did not finish 'Hello\.' within 0\.5 s.*espeak-ng \"hello\""):
        render(Voice(), ["Hello."], lambda t, s: None, timeout=0.5)


def test_a_voice_espeak_ng_refuses_is_one_line():
    with pytest.raises(VoicecoachError, match="the speech engine failed: .*no-such-voice"):
        served(Voice(name="no-such-voice"), ["Hello."])


def test_the_command_runs_the_interpreter_isolated_with_this_package_first():
    command = espeak_server.command("gmw/en-us", 140, 1.0)
    assert command[:3] == [sys.executable, "-I", "-c"]
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(espeak_server.__file__))))
    assert repr(package_parent) in command[3]
