"""End to end with the real speech engine: cues land on time in the exported file, and the cache works."""

import wave

import numpy as np
import pytest

from voicecoach.cache import phrase_key
from voicecoach.export.formats import write_audio
from voicecoach.session import prepare
from voicecoach.units import RATE, SAMPLES_PER_MS

SCRIPT = """
voicecoach: 1
title: End to end
params: {hold: 4}
steps:
  - section: One
  - say: Find a comfortable position.
  - pause: 1
  - squeeze: {hold: $hold, rest: 3, reps: 2, count: true}
  - section: Two
  - breathe: {in: 3, hold: 1.5, out: 4, hold_out: 1, cycles: 1}
  - repeat: 2
    steps: [{say: Again.}, {pause: 0.25}]
  - chime: {length: 1}
  - say: Well done.
"""


def read_wav(path):
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def onset(samples, start, window):
    """Index of the first sample at or after `start` louder than 1 % of full scale (-40 dBFS)."""
    start = max(0, start)
    loud = np.flatnonzero(np.abs(samples[start:start + window].astype(np.int32)) > 328)
    return start + loud[0] if len(loud) else None


@pytest.mark.slow
@pytest.mark.parametrize("rate", [110, 200])
def test_cues_sound_when_scheduled_and_the_file_is_exactly_as_long(write_script, cache, tmp_path, rate):
    session = prepare(write_script(SCRIPT), cache, rate=rate)
    out = write_audio(session.audio(), tmp_path / "s.wav")
    samples = read_wav(out)
    tl = session.timeline
    assert len(samples) == tl.length * SAMPLES_PER_MS

    speech = [c for c in tl.cues if c.kind == "speech"]
    assert len(speech) == 1 + 2 * (1 + 3 + 1) + 4 + 2 + 1
    checked = 0
    previous_end = -10**9
    for cue in tl.cues:
        at = cue.start * SAMPLES_PER_MS
        if cue.kind == "speech":
            clip = session.clips[cue.text]
            assert np.array_equal(samples[at:at + len(clip)], clip), cue
            if cue.start - previous_end >= 20:
                # Independent of the trimming threshold: -40 dBFS within 10 ms of the scheduled start,
                # and nothing audible in the 10 ms before it.
                found = onset(samples, at - 10 * SAMPLES_PER_MS, 40 * SAMPLES_PER_MS)
                assert found is not None and abs(found - at) <= 10 * SAMPLES_PER_MS, (cue, found, at)
                checked += 1
        previous_end = cue.start + cue.length
    assert checked >= 12


@pytest.mark.slow
def test_second_render_comes_from_the_cache_and_a_corrupt_entry_is_rendered_again(write_script, cache):
    path = write_script(SCRIPT)
    first = prepare(path, cache)
    assert first.synthesised == len([k for k in first.clips if not k.startswith("(")]) > 5   # tones are "(...)"
    again = prepare(path, cache)
    assert again.synthesised == 0
    assert np.array_equal(first.audio(), again.audio())

    entry = cache.path(phrase_key(again.voice, "Well done."))
    blob = entry.read_bytes()
    entry.write_bytes(blob[: len(blob) // 2])            # truncated, as by a crash or a full disk
    other = cache.path(phrase_key(again.voice, "Again."))
    damaged = bytearray(other.read_bytes())
    damaged[-10] ^= 0xFF                                 # one flipped byte in the samples
    other.write_bytes(bytes(damaged))

    healed = prepare(path, cache)
    assert healed.synthesised == 2
    assert np.array_equal(healed.audio(), first.audio())
    assert prepare(path, cache).synthesised == 0


@pytest.mark.slow
def test_mp3_export_has_the_session_length(write_script, cache, tmp_path):
    from pydub import AudioSegment
    session = prepare(write_script(SCRIPT), cache)
    out = write_audio(session.audio(), tmp_path / "s.mp3", title="End to end")
    decoded = AudioSegment.from_file(out)
    # MP3 adds encoder delay and padding of a few frames; the length is otherwise the timeline's.
    assert abs(len(decoded) - session.timeline.length) < 150
    assert decoded.frame_rate == RATE


def _sound_file(path, seconds, freq):
    t = np.arange(int(seconds * RATE)) / RATE
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.round(0.2 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes())
    return path


def test_a_bed_file_is_decoded_once_and_again_when_it_changes(write_script, cache, tmp_path, monkeypatch):
    import os

    from voicecoach.audio import beds
    script = write_script(SCRIPT)
    sound = _sound_file(tmp_path / "stream.wav", 3, 220.0)
    decoded = []
    real = beds.decode
    monkeypatch.setattr(beds, "decode", lambda path: decoded.append(path) or real(path))
    first = prepare(script, cache, background=str(sound)).background
    again = prepare(script, cache, background=str(sound)).background
    assert len(decoded) == 1
    assert again.identity() == first.identity() and again.source.loudness == first.source.loudness
    # Another sound under the same name (and time) is decoded anew.
    _sound_file(sound, 4, 330.0)
    os.utime(sound, ns=(os.stat(sound).st_atime_ns, os.stat(sound).st_mtime_ns + 1))
    changed = prepare(script, cache, background=str(sound)).background
    assert len(decoded) == 2 and changed.identity()["digest"] != first.identity()["digest"]
    # One that can no longer be read is said so, whatever the cache holds.
    sound.chmod(0)
    if not os.access(sound, os.R_OK):     # root reads anything
        with pytest.raises(Exception, match="cannot be read"):
            prepare(script, cache, background=str(sound))


def test_gather_hands_each_phrase_it_renders_to_on_rendered_as_it_arrives(cache):
    from voicecoach.session import gather
    from voicecoach.speech.voice import Voice
    voice = Voice()
    gather(voice, ["Breathe in."], cache)                     # cached before
    seen: list[tuple[str, np.ndarray]] = []
    clips, rendered = gather(voice, ["Breathe in.", "Let go.", "Rest."], cache,
                             on_rendered=lambda text, samples: seen.append((text, samples)))
    assert rendered == 2 and sorted(text for text, _ in seen) == ["Let go.", "Rest."]
    assert all(clips[text] is samples for text, samples in seen)     # the very arrays the session holds
