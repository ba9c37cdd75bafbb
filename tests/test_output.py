"""Outputs: the recording sink's bookkeeping, and the real simpleaudio backend on ALSA's null device."""

import json
import os
import subprocess
import sys
import textwrap
import wave

import numpy as np
import pytest

from voicecoach.testing import RecordingSink
from voicecoach.units import RATE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def alsa_home(tmp_path, pcm: str):
    """A HOME whose .asoundrc makes `pcm` the default device, for a child process."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text(f"pcm.!default {{ {pcm} }}\n")
    return {**os.environ, "HOME": str(home), "PYTHONPATH": ROOT}


def recording_home(tmp_path):
    """A HOME whose default device records what is played into a WAV file (and plays nowhere)."""
    wav = tmp_path / "played.wav"
    return alsa_home(tmp_path, f'type file slave.pcm "null" file "{wav}" format "wav"'), wav


def read_wav(path):
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_sink_plays_what_is_written_in_order_as_time_advances():
    sink = RecordingSink()
    sink.write(np.arange(10, dtype=np.int16))
    sink.write(np.arange(10, 15, dtype=np.int16))
    assert sink.first_write_at is not None and sink.queued() == 15
    assert sink.advance(12) == 12 and sink.position() == 12
    assert sink.advance(100) == 3 and sink.position() == 15
    assert np.array_equal(sink.samples(), np.concatenate([np.arange(10), np.arange(10, 15)]))


def test_sink_stop_drops_the_queue_and_restarts_the_position():
    sink = RecordingSink()
    sink.write(np.ones(100, dtype=np.int16))
    sink.advance(40)
    sink.stop()
    assert sink.position() == 0 and sink.queued() == 0 and sink.advance(100) == 0
    assert len(sink.samples()) == 40 and sink.stops == 1


def test_instant_sink_plays_everything_at_once():
    sink = RecordingSink(instant=True)
    sink.write(np.ones(7, dtype=np.int16))
    assert sink.position() == 7 and sink.queued() == 0


BACKEND = textwrap.dedent("""
    import json, sys, time, numpy as np
    from voicecoach.player.outputs.simpleaudio import SimpleaudioOutput
    class Clock:
        now = 0.0
        def __call__(self): return self.now
    clock = Clock()
    out = SimpleaudioOutput(clock=clock)
    tone = (np.sin(np.arange(12000) / 7) * 8000).astype(np.int16)
    seen = []
    out.write(tone[:6000]); out.write(tone[6000:])      # the second waits for the first
    for t in (0.1, 0.3, 0.6):
        clock.now = t
        time.sleep(0.2)            # the null device plays at once; let it finish for real
        seen.append(out.position())
    out.stop(); seen.append(out.position())
    np.save(sys.argv[1], tone)
    print(json.dumps(seen))
""")


@pytest.mark.slow
def test_simpleaudio_plays_to_the_end_on_the_null_device_paced_by_the_clock(tmp_path):
    env, wav = recording_home(tmp_path)
    done = subprocess.run([sys.executable, "-c", BACKEND, str(tmp_path / "tone.npy")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # 24000 samples a second: 0.1 s in, 2400 played (the clock paces a device that finishes
    # early); at 0.3 s the first 6000 are done and the second buffer starts; at 0.6 s all 12000.
    assert json.loads(done.stdout) == [2400, 6000, 12000, 0]
    tone = np.load(tmp_path / "tone.npy")
    # The device (a file here) got the second buffer exactly; the file pcm keeps the latest opening.
    assert np.array_equal(read_wav(wav), tone[6000:])


@pytest.mark.slow
def test_no_audio_device_is_one_clear_error_with_its_own_exit_code(tmp_path):
    env = alsa_home(tmp_path, "type hw card 77")
    code = "from voicecoach.player.outputs.simpleaudio import SimpleaudioOutput\nSimpleaudioOutput()"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert "VoicecoachError: no audio device to play on" in done.stderr
    assert "voicecoach export" in done.stderr
    assert "ALSA lib" not in done.stderr          # libasound's own chatter is kept off the screen


CONFORMANCE = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from voicecoach.player.output import Output
    if sys.argv[1] == "simpleaudio":
        from voicecoach.player.outputs.simpleaudio import SimpleaudioOutput as make
    else:
        from voicecoach.testing import RecordingSink
        make = lambda: RecordingSink(instant=True)
    out: Output = make()
    tone = (np.sin(np.arange(2400) * 0.05) * 8000).astype(np.int16)
    seen = [out.position()]
    out.write(tone)
    out.write(tone[:0])
    out.write(tone)
    deadline = time.monotonic() + 5
    while seen[-1] < 2 * len(tone) and time.monotonic() < deadline:
        time.sleep(0.005)
        seen.append(out.position())
    out.stop()
    after_stop = out.position()
    out.write(tone)
    out.close()
    print(json.dumps({"seen": seen, "after_stop": after_stop}))
""")


@pytest.mark.parametrize("backend", ["simpleaudio", "recording"])
def test_every_output_plays_in_order_counts_its_position_and_stops(tmp_path, backend):
    env, _ = recording_home(tmp_path)
    done = subprocess.run([sys.executable, "-c", CONFORMANCE, backend], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    seen = found["seen"]
    assert seen[0] == 0
    assert all(b >= a for a, b in zip(seen, seen[1:])), "the position never runs backwards"
    assert seen[-1] == 2 * 2400, "everything written is played, the empty write adds nothing"
    assert found["after_stop"] == 0
