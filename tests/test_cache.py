"""The phrase cache: entries verify themselves, and only whole entries are ever read."""

import os

import numpy as np
import pytest

from voicecoach.cache import Cache, decode_entry, encode_entry, phrase_key
from voicecoach.speech.voice import Voice


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
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".wav") == ["CACHEDIR.TAG"]
    assert len(list(tmp_path.rglob("*.wav"))) == 5


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


# ---------------------------------------------------------------- crashes and concurrency

import random
import signal
import subprocess
import sys
import time

from voicecoach.cache import decode_entry as _decode

PHRASES = [f"Phrase number {n}, said slowly and kindly." for n in range(24)]


def _script(tmp_path, name, phrases):
    body = "voicecoach: 1\ntitle: Crash\nsteps:\n" + "".join(f"  - say: {p}\n  - pause: 0.2\n" for p in phrases)
    path = tmp_path / name
    path.write_text(body)
    return path


def _export(cache_dir, script, out, **popen):
    cmd = [sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(cache_dir), "export", str(script), "-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)


def _entries_all_verify(cache_dir):
    entries = list(cache_dir.rglob("*.wav"))
    assert all(_decode(p.read_bytes()) is not None for p in entries)
    return entries


@pytest.mark.slow
def test_killed_renders_leave_only_whole_entries_and_the_same_result(tmp_path):
    script = _script(tmp_path, "crash.yaml", PHRASES)
    cache_dir = tmp_path / "cache"
    rng = random.Random(7)
    for _ in range(50):
        proc = _export(cache_dir, script, tmp_path / "killed.wav", start_new_session=True)
        time.sleep(rng.uniform(0.0, 0.5))
        os.killpg(proc.pid, signal.SIGKILL)    # the whole group: the workers die mid-phrase too
        proc.wait()
    assert not (tmp_path / "killed.wav").exists() or _is_complete_wav(tmp_path / "killed.wav")
    _entries_all_verify(cache_dir)

    healed, fresh = tmp_path / "healed.wav", tmp_path / "fresh.wav"
    assert _export(cache_dir, script, healed).wait() == 0
    assert _export(tmp_path / "fresh-cache", script, fresh).wait() == 0
    assert healed.read_bytes() == fresh.read_bytes()


def _is_complete_wav(path):
    import wave
    with wave.open(str(path)) as w:
        return len(w.readframes(w.getnframes())) == 2 * w.getnframes()


@pytest.mark.slow
def test_four_processes_sharing_one_cache_match_a_serial_run(tmp_path):
    scripts = [_script(tmp_path, "a.yaml", PHRASES[:14]), _script(tmp_path, "b.yaml", PHRASES[7:20]),
               _script(tmp_path, "c.yaml", PHRASES[:14]), _script(tmp_path, "d.yaml", PHRASES[10:])]
    shared = tmp_path / "shared"
    procs = [_export(shared, s, tmp_path / f"together-{s.stem}.wav") for s in scripts]
    assert [p.wait() for p in procs] == [0, 0, 0, 0], [p.stderr.read() for p in procs]
    for s in scripts:
        alone = tmp_path / f"alone-{s.stem}.wav"
        assert _export(tmp_path / f"cache-{s.stem}", s, alone).wait() == 0
        assert (tmp_path / f"together-{s.stem}.wav").read_bytes() == alone.read_bytes()
    entries = _entries_all_verify(shared)
    # Each phrase once, and each distinct session's mastered sounds once (a and c are the same session).
    assert len(entries) == len(PHRASES) + 14 + 13 + 14
    notes = [Cache(shared).get_note(p.stem) for p in shared.rglob("*.json")]
    assert all(note is not None for note in notes)
    # Each distinct session's mastering once, and the voice its tones are set against once.
    assert sum("gain" in note for note in notes) == 3 and sum("lufs" in note for note in notes) == 3
    assert len(notes) == 6


# ---------------------------------------------------------------- upkeep: info, verify, prune

from click.testing import CliRunner

from voicecoach.cli import cli as _cli


def _filled(tmp_path, n=4):
    cache = Cache(tmp_path / "c")
    for i in range(n):
        cache.put(f"{i:02d}" * 32, np.full(1000 * (i + 1), i, dtype=np.int16))
    return cache


def test_notes_round_trip_and_a_damaged_one_is_dropped(tmp_path):
    cache = Cache(tmp_path / "c")
    key = "ab" * 32
    assert cache.get_note(key) is None
    cache.put_note(key, {"gain": 3.25, "sounds": {"Breathe in.": "cd" * 32}})
    assert cache.get_note(key) == {"gain": 3.25, "sounds": {"Breathe in.": "cd" * 32}}
    path = cache.note_path(key)
    path.write_bytes(path.read_bytes().replace(b"3.25", b"9.25"))   # still JSON, but not what was written
    assert cache.get_note(key) is None and not path.exists()
    cache.put_note(key, {"gain": 1.0})
    path.write_bytes(path.read_bytes()[:-5])                         # cut short
    assert cache.verify().removed == [path]


def test_info_counts_entries_and_bytes(tmp_path):
    cache = _filled(tmp_path)
    info = cache.info()
    assert info.count == 4
    assert info.bytes == sum(p.stat().st_size for p in cache.root.rglob("*.wav"))
    assert Cache(tmp_path / "never-made").info().count == 0


def test_verify_removes_damaged_entries_and_stale_temporaries(tmp_path):
    cache = _filled(tmp_path)
    victim = cache.path("01" * 32)
    victim.write_bytes(victim.read_bytes()[:-7])
    stale = cache.root / "00" / ".00000000-dead.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200,) * 2)
    fresh = cache.root / "00" / ".00000000-live.tmp"     # a writer still at work: left alone
    fresh.write_bytes(b"half")
    done = cache.verify()
    assert done.checked == 4 and done.removed == [victim] and done.temporaries == [stale]
    assert fresh.exists() and cache.info().count == 3
    assert all(cache.get(k * 32) is not None for k in ("00", "02", "03"))


def test_prune_removes_what_was_not_used_for_n_days(tmp_path):
    cache = _filled(tmp_path)
    old = time.time() - 40 * 86400
    for key in ("00", "01", "02"):
        os.utime(cache.path(key * 32), (old, old))
    assert cache.get("00" * 32) is not None          # using an entry makes it recent again
    done = cache.prune(30)
    assert sorted(p.name[:2] for p in done.removed) == ["01", "02"]
    assert cache.info().count == 2


def test_cache_commands(tmp_path):
    cache = _filled(tmp_path)
    run = lambda *a: CliRunner().invoke(_cli, ["--cache-dir", str(cache.root), "cache", *a])
    assert "4 phrase(s)" in run("info").output
    cache.path("02" * 32).write_bytes(b"RIFF")
    assert "1 damaged and removed" in run("verify").output
    result = run("prune", "--days", "0")
    assert result.exit_code == 0 and "Removed 3 of 3" in result.output
    assert run("prune", "--days", "-1").exit_code == 2
