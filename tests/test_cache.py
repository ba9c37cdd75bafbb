"""The phrase cache: entries verify themselves, and only whole entries are ever read."""

import numpy as np
import pytest

from voicecoach.cache import Cache, decode_entry, encode_entry, phrase_key
from voicecoach.speech import Voice


def test_an_entry_round_trips_and_is_a_playable_wav(tmp_path):
    import wave
    samples = (np.sin(np.arange(2400) / 5) * 8000).astype(np.int16)
    cache = Cache(tmp_path)
    cache.put("ab" * 32, samples)
    assert np.array_equal(cache.get("ab" * 32), samples)
    with wave.open(str(cache.path("ab" * 32))) as w:   # any player can open an entry
        assert (w.getframerate(), w.getnframes()) == (24000, 2400)


@pytest.mark.parametrize("damage", [
    lambda b: b[:-1],                         # truncated by one byte
    lambda b: b[: len(b) // 2],               # half written
    lambda b: b[:30],                         # only a header
    lambda b: b"",                            # empty
    lambda b: b[:-2] + bytes([b[-2] ^ 1]) + b[-1:],   # one bit flipped in the samples
    lambda b: b.replace(b"WAVE", b"WAVX"),    # not a WAV any more
])
def test_damaged_entries_are_rejected_and_removed(tmp_path, damage):
    cache = Cache(tmp_path)
    key = "cd" * 32
    cache.put(key, np.arange(-500, 500, dtype=np.int16))
    blob = cache.path(key).read_bytes()
    assert decode_entry(blob) is not None
    cache.path(key).write_bytes(damage(blob))
    assert cache.get(key) is None
    assert not cache.path(key).exists()


def test_put_leaves_no_temporary_files(tmp_path):
    cache = Cache(tmp_path)
    for i in range(5):
        cache.put(f"{i:02d}" * 32, np.zeros(10, dtype=np.int16))
    assert sorted(p.suffix for p in tmp_path.rglob("*") if p.is_file()) == [".wav"] * 5


def test_keys_change_with_everything_that_changes_the_sound():
    base = Voice()
    keys = {phrase_key(base, "Breathe in"), phrase_key(base, "Breathe in."),
            phrase_key(Voice(rate=141), "Breathe in"), phrase_key(Voice(volume=0.5), "Breathe in"),
            phrase_key(Voice(name="gmw/en-us"), "Breathe in")}
    assert len(keys) == 5
    assert phrase_key(Voice(), "Breathe in") == phrase_key(base, "Breathe in")


def test_an_unwritable_cache_is_a_clear_error(tmp_path):
    from voicecoach.errors import VoicecoachError
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(VoicecoachError, match="cannot write to the audio cache"):
        Cache(blocker).put("ef" * 32, np.zeros(4, dtype=np.int16))


def test_encoding_is_deterministic():
    x = np.arange(100, dtype=np.int16)
    assert encode_entry(x) == encode_entry(x.copy())
