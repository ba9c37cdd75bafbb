"""The benchmark runner still runs: a tiny session through every case (no timing is asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.sessions import script_text, write_session
from voicecoach.exercise.script import load_script, phrases

ROOT = Path(__file__).resolve().parent.parent
CASES = {"naive_wav", "naive_mp3", "voicecoach_cold_wav", "voicecoach_cold_mp3", "voicecoach_warm_wav",
         "voicecoach_warm_mp3", "voicecoach_again_wav", "voicecoach_again_mp3", "voicecoach_render_cold_wav",
         "voicecoach_render_wav", "voicecoach_play", "limit_write", "limit_ffmpeg"}


def test_generated_sessions_are_valid_scripts_that_grow_with_the_length(tmp_path):
    short, long = (load_script(write_session(tmp_path, m)) for m in (10, 30))
    assert len(long.steps) > 2 * len(short.steps)
    assert "Round 1 of" in script_text(10) and len(phrases(long.steps)) > len(phrases(short.steps))


@pytest.mark.slow
def test_the_runner_measures_every_case_of_a_tiny_session(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--tiny", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "× faster than naive" in proc.stdout and "limit: ffmpeg" in proc.stdout
    report = json.loads(out.read_text())
    (size,) = report["sizes"]
    assert set(size["cases"]) == CASES
    for name, case in size["cases"].items():
        assert case["seconds"] > 0 and case["peak_rss_mb"] > 0 and case["realtime"] > 0, name
    assert size["cases"]["voicecoach_cold_wav"]["synthesised"] == size["phrases"] > 0
    assert size["cases"]["voicecoach_render_cold_wav"]["synthesised"] == size["phrases"]
    assert size["cases"]["voicecoach_warm_wav"]["synthesised"] == size["cases"]["voicecoach_render_wav"]["synthesised"] == 0
    assert 0 < size["cases"]["voicecoach_play"]["samples"]
    # The naive baseline renders the same steps: its session is about as long (it does not trim silence).
    naive_ms, ours_ms = size["cases"]["naive_wav"]["audio_ms"], size["audio_minutes"] * 60000
    assert 0.9 < naive_ms / ours_ms < 1.3


@pytest.mark.slow
def test_the_bed_benchmark_measures_a_short_session(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks.beds", "0.5", "rain", "mp3"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "MP3 with rain: peak RSS" in proc.stdout and "the export without a bed" in proc.stdout
    assert "ffmpeg alone" in proc.stdout


def test_the_codec_benchmark_varies_only_lames_level():
    from benchmarks.codec_quality import LEVELS, settings
    from voicecoach.export.formats import ENCODERS
    for level in LEVELS:
        args = settings(level)
        assert args.count("-compression_level") == 1 and args[args.index("-compression_level") + 1] == str(level)
        rest = [a for i, a in enumerate(args) if a != "-compression_level" and args[i - 1] != "-compression_level"]
        mine = ENCODERS["mp3"]
        assert rest == [a for i, a in enumerate(mine) if a != "-compression_level" and mine[i - 1] != "-compression_level"]
        assert args[-2:] == ["-f", "mp3"]


def test_the_first_sound_benchmark_plays_forty_plain_sentences_with_a_short_first_phrase(tmp_path):
    from benchmarks.first_sound import COLD_TARGET_S, WARM_TARGET_S, plain_script
    from voicecoach.exercise.script import Say
    script = load_script(plain_script(tmp_path))
    assert len(script.steps) == 40 and all(isinstance(s, Say) for s in script.steps)
    texts = phrases(script.steps)
    assert len(texts) == 40 and len(texts[0].split()) <= 3          # all distinct; the first one short
    assert (COLD_TARGET_S, WARM_TARGET_S) == (1.0, 0.3)            # issue 26's goals, printed as ratios


@pytest.mark.slow
def test_the_first_sound_benchmark_prints_times_and_ratios_to_the_goals():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.first_sound", "--repeat", "1", "--only", "plain",
                           "--no-espeak"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(line for line in proc.stdout.splitlines() if "default voice" in line)
    assert "40 plain sentences" in proc.stdout
    assert "of the 1.0 s goal" in line and "of 0.3 s" in line and "first use ever" in line


@pytest.mark.slow
def test_the_cold_export_benchmark_prints_both_ratios():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.cold_export", "--tiny"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    naive, realtime = proc.stdout.strip().splitlines()
    assert "faster (goal ≥ 10×" in naive and "naive pyttsx3 + pydub" in naive
    assert "× real time (goal ≥ 300×" in realtime and "default voice" in realtime
