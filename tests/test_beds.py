"""Background beds: built-in and the user's own, ducked under every cue, mastered, exported, played."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.audio import beds, ffmpeg, loudness
from voicecoach.audio.ducking import ATTACK_MS, DEPTH_DB, ducking
from voicecoach.audio.mix import assemble
from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.export.file import export_script
from voicecoach.session import prepare
from voicecoach.units import RATE, SAMPLES_PER_MS

SCRIPT = """
voicecoach: 1
title: Bed
steps:
  - say: Let your shoulders soften.
  - pause: 6
  - breathe: {in: 4, out: 6, cycles: 2}
  - say: Well done.
  - pause: 6
"""


def _db(x: np.ndarray) -> float:
    return 10 * np.log10(max(float(np.mean(np.square(x.astype(np.float64)))), 1e-12))


@pytest.fixture
def script(write_script):
    return write_script(SCRIPT)


def _bed_only(session) -> np.ndarray:
    """The session's bed alone: the mix minus its voice."""
    return session.audio().astype(np.float64) - assemble(session.timeline, session.clips)


def test_the_bed_dips_by_12_db_under_every_cue_before_it_starts(script, shared_cache):
    session = prepare(script, shared_cache, background="brown")
    bed = _bed_only(session)
    duck = ducking(session.timeline)
    level_of = {}
    for cue in session.timeline.cues:
        lo, hi = cue.start * SAMPLES_PER_MS, cue.end * SAMPLES_PER_MS
        if lo < 4 * RATE or hi > len(bed) - 5 * RATE:
            continue        # inside the fades
        # Timing: fully down at the cue's first sample, and still on its way down ATTACK_MS before it.
        before, at_start = duck.gains(np.array([lo - ATTACK_MS * SAMPLES_PER_MS, lo]))
        assert at_start == pytest.approx(10 ** (-DEPTH_DB / 20), rel=1e-6)
        assert before > at_start * 3
        level_of[cue.start] = _db(bed[lo: hi])
    assert level_of
    # Depth, on the mix: a silence's bed against the bed under each cue.
    first = session.timeline.cues[0]
    gap = bed[(first.end + 2000) * SAMPLES_PER_MS: (first.end + 4000) * SAMPLES_PER_MS]
    for level in level_of.values():
        assert _db(gap) - level == pytest.approx(DEPTH_DB, abs=1.5)


def test_the_bed_fades_in_and_out(script, shared_cache):
    session = prepare(script, shared_cache, background="rain")
    bed = _bed_only(session)
    assert abs(bed[0]) < 2 and abs(bed[-1]) < 2
    assert _db(bed[: RATE // 10]) < _db(bed[2 * RATE: 3 * RATE]) - 20


def test_the_same_bed_twice_is_identical_and_any_block_size_gives_the_same(script, shared_cache):
    one = prepare(script, shared_cache, background="waves")
    two = prepare(script, shared_cache, background="waves")
    a = one.audio()
    assert np.array_equal(a, two.audio())
    assert np.array_equal(a, np.concatenate(list(two.blocks(block_ms=777))))


def test_the_built_in_beds_sound_clearly_different():
    # Their spectra (energy per octave band) and their movement over time differ.
    profiles = {}
    for name in beds.BUILT_IN:
        x = beds.built_in(name).samples(0, 20 * RATE)
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(len(x), 1 / RATE)
        bands = np.array([spectrum[(f >= lo) & (f < lo * 2)].sum() for lo in (50, 100, 200, 400, 800, 1600, 3200, 6400)])
        profiles[name] = 10 * np.log10(bands / bands.sum())
    for a in beds.BUILT_IN:
        for b in beds.BUILT_IN:
            if a < b:
                assert np.max(np.abs(profiles[a] - profiles[b])) > 6, (a, b)


@pytest.mark.parametrize("name", beds.BUILT_IN)
def test_a_beds_loudness_worked_out_from_its_loops_is_its_own(name):
    source = beds.built_in(name)
    n = 120 * RATE
    made = source.samples(0, n, np.ones(n // SAMPLES_PER_MS + 1))
    energies, _ = loudness.stream_sub_blocks([made], n)
    # Over two minutes (the loops' own figure is over ten): the swells of waves move it a little.
    assert source.loudness == pytest.approx(loudness.gated(energies, n), abs=0.5)


@pytest.mark.parametrize("name", ["brown", "rain"])
def test_the_bed_mastering_measures_is_the_bed_itself(script, shared_cache, name):
    session = prepare(script, shared_cache, background=name)
    total = session.timeline.length * SAMPLES_PER_MS
    energies, peaks = session.background.measure(session.timeline, size=3 * RATE)
    made = np.concatenate(list(session.background.blocks(session.timeline, 7 * RATE)))
    measured, _ = loudness.stream_sub_blocks([made], total)
    assert loudness.gated(energies, total) == pytest.approx(loudness.gated(measured, total), abs=0.02)
    assert np.allclose(energies, measured, rtol=0.25)
    assert len(peaks) == session.timeline.length
    assert np.allclose(peaks, np.abs(made).reshape(-1, SAMPLES_PER_MS).max(axis=1), rtol=1e-6)


def test_a_long_loop_is_k_weighted_where_asked_as_it_would_be_whole():
    tile = (np.random.default_rng(3).standard_normal((beds.LONG_LOOP_S + 5) * RATE) * 3000).astype(np.float32)
    whole = np.fft.irfft(np.fft.rfft(tile.astype(np.float64)) * loudness.k_response(np.fft.rfftfreq(len(tile), 1 / RATE)),
                         len(tile))
    layer = beds.Layer(tile)
    for lo, n in [(0, 3 * RATE), (len(tile) - RATE, 2 * RATE), (5 * len(tile) + 17, RATE)]:
        got = layer.at(lo, n, weighted=True)
        wanted = np.take(whole, np.arange(lo, lo + n), mode="wrap")
        assert np.max(np.abs(got - wanted)) <= 1e-4 * np.max(np.abs(whole)), (lo, n)
    assert layer.k_tile is None             # nothing of its size kept


def _tone_file(path: Path, seconds: float, amplitude: float = 0.3, freq: float = 331.7) -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    samples = np.round(amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return path


def test_a_user_files_loop_has_no_step_at_its_seam(tmp_path):
    # 2.37 s of a 331.7 Hz tone: looped plainly, its end and start would meet at a jump.
    path = _tone_file(tmp_path / "tone.wav", 2.37)
    source = beds.source(str(path))
    period = len(source.layers[0].tile)
    x = source.samples(0, 3 * period + 100)
    steps = np.abs(np.diff(x))
    inside = steps[100: period - 100].max()
    for seam in (period - 1, 2 * period - 1):
        assert steps[seam - 2: seam + 3].max() <= inside * 1.05


def test_a_user_file_plays_under_the_session(script, shared_cache, tmp_path):
    ogg = tmp_path / "stream.ogg"
    # ffmpeg itself: voicecoach's run() takes only local files and pipes, not a generator's graph.
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=3:c=pink:a=0.2", "-c:a", "libvorbis",
                    str(ogg)], check=True)
    session = prepare(script, shared_cache, background=str(ogg))
    bed = _bed_only(session)
    assert _db(bed[2 * RATE: 3 * RATE]) > 20


@pytest.mark.parametrize("make, reason", [
    (lambda d: d / "missing.ogg", "there is no such file"),
    (lambda d: (d / "notes.ogg").write_text("not a sound") and d / "notes.ogg", "cannot be read as a sound"),
    (lambda d: _tone_file(d / "silent.wav", 3, amplitude=0.0), "is silent"),
    (lambda d: _tone_file(d / "short.wav", 0.4), "is only 0.4 s long"),
])
def test_each_bad_file_is_one_line_naming_it_and_nothing_is_written(script, tmp_path, make, reason):
    bad = make(tmp_path)
    out = tmp_path / "out.mp3"
    result = CliRunner().invoke(cli, ["--cache-dir", str(tmp_path / "c"), "export", str(script), "-o", str(out),
                                      "--background", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and reason in lines[0], result.output
    assert "Traceback" not in result.output and not out.exists()


def _wav_claiming(path: Path, rate: int) -> Path:
    """A real PCM WAV of 2,000 samples whose header says they play at `rate` Hz."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(np.arange(2000) * 0.3) * 8000).astype("<i2").tobytes())
    return path


def _socket_file(path: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))      # left bound: the file stays a socket while the command looks at it
    _open_sockets.append(server)
    return path


_open_sockets: list = []


def _video_without_sound(path: Path) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=d=2:s=64x48", "-c:v", "mpeg4", str(path)],
                   check=True)
    return path


@pytest.mark.parametrize("make, reason", [
    (lambda d: os.mkfifo(d / "pipe.wav") or d / "pipe.wav", "is a FIFO"),
    (lambda d: os.symlink("/dev/urandom", d / "noise.wav") or d / "noise.wav", "is a device"),
    (lambda d: os.symlink("/dev/zero", d / "zero.ogg") or d / "zero.ogg", "is a device"),
    (lambda d: Path("/dev/null"), "is a device"),
    (lambda d: _socket_file(d / "sock.wav"), "is a socket"),
    (lambda d: _video_without_sound(d / "clip.mp4"), "holds no sound"),
    (lambda d: _wav_claiming(d / "one-hertz.wav", 1), "sample rate of 1 Hz"),
    (lambda d: _wav_claiming(d / "slow.wav", 100), "sample rate of 100 Hz"),
])
def test_a_bed_that_is_no_sound_file_is_one_line_at_once_never_a_hang(tmp_path, make, reason):
    # A FIFO blocked the command forever; /dev/urandom was read for ever; a 4 kB WAV claiming 1 Hz took 6.4 s and
    # 1.3 GB to decode. Run as a process with a deadline, so that a hang fails the test instead of the suite.
    script = tmp_path / "s.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    bad = make(tmp_path)
    out = tmp_path / "out.mp3"
    done = subprocess.run([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(tmp_path / "c"), "export",
                           str(script), "-o", str(out), "--background", str(bad)],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert str(bad) in lines[0] and reason in lines[0]
    assert not out.exists()


def test_a_real_low_rate_file_is_still_a_bed(script, tmp_path, shared_cache):
    # 8 kHz (a telephone recording) is a real rate: only rates no sound file has are refused.
    path = _tone_file(tmp_path / "phone.wav", 3)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ar", "8000", str(tmp_path / "phone8k.wav")], check=True)
    session = prepare(script, shared_cache, background=str(tmp_path / "phone8k.wav"))
    assert _db(_bed_only(session)[2 * RATE: 3 * RATE]) > 20


def test_an_empty_bed_in_a_script_asks_for_a_bed_not_for_words(write_script, shared_cache):
    from voicecoach.exercise.script import BED_WANTED
    assert all(name in BED_WANTED for name in beds.BUILT_IN)
    for given in ('""', "{sound: ''}", "'   '"):
        path = write_script(SCRIPT.replace("title: Bed", f"title: Bed\nbackground: {given}"))
        with pytest.raises(VoicecoachError, match=r"test.yaml:3: background(.sound)? is empty; give it the name of a bed"):
            prepare(path, shared_cache)


def test_an_unknown_bed_name_lists_the_built_in_ones(script, shared_cache):
    with pytest.raises(VoicecoachError, match="brown, drone, rain, waves"):
        prepare(script, shared_cache, background="wavs")


def test_a_script_names_its_bed_the_command_line_wins_and_none_turns_it_off(write_script, shared_cache):
    path = write_script(SCRIPT.replace("title: Bed", "title: Bed\nbackground: {sound: drone, level: -24}"))
    assert prepare(path, shared_cache).background.source.name == "drone"
    assert prepare(path, shared_cache).background.level == -24
    assert prepare(path, shared_cache, background="rain").background.source.name == "rain"
    assert prepare(path, shared_cache, background_level=-30).background.level == -30
    assert prepare(path, shared_cache, background="none").background is None
    plain = write_script(SCRIPT, name="plain.yaml")
    assert prepare(plain, shared_cache).background is None


def test_a_scripts_bad_bed_names_its_line(write_script, shared_cache):
    path = write_script(SCRIPT.replace("title: Bed", "title: Bed\nbackground: {sound: nothere.ogg}"))
    with pytest.raises(VoicecoachError, match=r"test.yaml:3: background.sound: .*nothere.ogg: there is no such file"):
        prepare(path, shared_cache)
    path = write_script(SCRIPT.replace("title: Bed", "title: Bed\nbackground: {sound: rain, level: 3}"))
    with pytest.raises(VoicecoachError, match=r"test.yaml:3: background.level must be a number from -40 to -6"):
        prepare(path, shared_cache)


@pytest.mark.slow
@pytest.mark.parametrize("name", beds.BUILT_IN)
def test_an_export_with_each_bed_lands_on_the_loudness_target(script, shared_cache, tmp_path, name):
    out = tmp_path / f"{name}.mp3"
    done = export_script(script, out, shared_cache, background=name)
    heard = loudness.measure_file(out)
    assert heard.within(), heard
    # Not just within the tolerance: where mastering aimed (a loose bound on a bed's peaks once left the
    # limiter too low and the file 0.9 LU short).
    assert abs(heard.integrated - loudness.TARGET_LUFS) <= 0.5, heard
    assert abs(heard.integrated - done.loudness.integrated) <= 0.5
    # The voice on top: during every spoken cue, speech at least 15 dB above the bed under it.
    decoded = _decode(out)
    mastered_bed = _decode_bed(script, shared_cache, name, tmp_path)
    for cue in done.session.timeline.cues:
        if cue.kind == "speech" and cue.length > 300:
            lo, hi = cue.start * SAMPLES_PER_MS, cue.end * SAMPLES_PER_MS
            speech = decoded[lo:hi].astype(np.float64) - mastered_bed[lo:hi]
            assert _db(speech) - _db(mastered_bed[lo:hi]) >= 15, (name, cue.text)


def _decode(path: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg.executable(), "-v", "error", "-i", str(path), "-f", "s16le", "-ar", str(RATE),
                          "-ac", "1", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<i2")


def _decode_bed(script, cache, name, tmp_path) -> np.ndarray:
    """The bed exactly as the export mixed it, written alone to a WAV."""
    from voicecoach.export.mastering import master
    mastered = master(prepare(script, cache, background=name), cache)
    return np.concatenate(list(mastered.session.background.blocks(mastered.session.timeline, 10 * RATE)))


def test_play_and_export_take_the_options(script, tmp_path):
    out = tmp_path / "b.wav"
    result = CliRunner().invoke(cli, ["--cache-dir", str(tmp_path / "c"), "export", str(script), "-o", str(out),
                                      "--background", "rain", "--background-level", "-24"])
    assert result.exit_code == 0, result.output
    assert loudness.measure_file(out).within()
    result = CliRunner().invoke(cli, ["--cache-dir", str(tmp_path / "c"), "export", str(script), "-o", str(out),
                                      "--background-level", "-24"])
    assert result.exit_code == 1 and "add --background NAME" in result.output
