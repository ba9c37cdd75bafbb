"""The neural Piper engine: voice files by path or from the voices folder, identical samples anywhere,
words per minute that agree with the other engines, and one line for every bad voice file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.cache import Cache, phrase_key
from voicecoach.cli import cli
from voicecoach.speech import engines
from voicecoach.speech.engines.piper import JOE
from voicecoach.speech.voice import Voice
from voicecoach.testing import synthesise_in_worker
from voicecoach.units import RATE

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "voicecoach: 1\ntitle: Piper\nsteps:\n  - say: Let your shoulders soften.\n  - pause: 1\n  - say: And breathe out.\n"


def copy_voice(joe, folder: Path, stem: str, *, config=None, model_bytes: bytes | None = None) -> Path:
    """joe's voice under another name in `folder` (its config changed by `config`, or its model replaced)."""
    model = folder / f"{stem}.onnx"
    if model_bytes is None:
        os.symlink(joe.model, model)
    else:
        model.write_bytes(model_bytes)
    data = json.loads(Path(f"{joe.model}.json").read_text(encoding="utf-8"))
    if config is not None:
        data = config(data)
    if data is not None:
        Path(f"{model}.json").write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return model


def test_piper_is_the_default_when_installed_and_comes_first_in_voices():
    assert engines.names()[0] == "piper"
    assert engines.best_available() == ("piper", JOE)
    result = CliRunner().invoke(cli, ["voices"])
    first = result.output.splitlines()[0]
    assert first.startswith("piper:joe ") and "best-available" in first and "neural" in first


@pytest.mark.slow
def test_a_phrase_is_identical_in_fresh_processes_whatever_came_before(tmp_path):
    code = ("import sys\nfrom pathlib import Path\nfrom voicecoach.cache import Cache, phrase_key\n"
            "from voicecoach.speech.pool import render\nfrom voicecoach.speech.voice import Voice\n"
            "voice = Voice(engine='piper', name='joe')\ncache = Cache(Path(sys.argv[1]))\n"
            "render(voice, sys.argv[2:], lambda t, s: cache.put(phrase_key(voice, t), s), workers=1)\n")
    phrase = "Let the breath go, all the way out."
    runs = [(tmp_path / "a", ["Something else entirely, said first.", phrase]),
            (tmp_path / "b", ["A different sentence.", "Yet another one, longer than the rest of them.", phrase]),
            (tmp_path / "c", [phrase])]
    for folder, texts in runs:
        subprocess.run([sys.executable, "-c", code, str(folder), *texts], check=True, cwd=ROOT, timeout=120)
    voice = Voice(engine="piper", name="joe")
    clips = [Cache(folder).get(phrase_key(voice, phrase)) for folder, _ in runs]
    assert clips[0] is not None and len(clips[0]) > RATE
    assert all(np.array_equal(clips[0], c) for c in clips[1:])


@pytest.mark.slow
def test_four_exports_sharing_an_empty_cache_write_identical_files(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    cache = tmp_path / "cache"
    children = [subprocess.Popen([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(cache), "export", str(script),
                                  "-o", str(tmp_path / f"out{n}.wav"), "--voice", "piper:joe"], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(4)]
    for child in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err.decode()
    files = [(tmp_path / f"out{n}.wav").read_bytes() for n in range(4)]
    assert len(files[0]) > RATE and all(f == files[0] for f in files[1:])


def speech_seconds(voice: Voice, text: str) -> float:
    from voicecoach.speech.clip import to_internal
    samples, rate = synthesise_in_worker(voice, text)
    return len(to_internal(samples, rate)) / RATE


@pytest.mark.slow
@pytest.mark.parametrize("rate", [100, 140, 180])
def test_words_per_minute_agree_across_engines(rate):
    text = ("Now gently tighten the muscles of your pelvic floor. Hold it there. And let go, "
            "noticing the difference between tension and release. There is no hurry.")
    espeak = speech_seconds(Voice(engine="pyttsx3", rate=rate), text)
    for other in (Voice(engine="festival", name="cmu_us_slt_arctic_hts", rate=rate), Voice(engine="flite", name="slt", rate=rate),
                  Voice(engine="piper", name=JOE, rate=rate)):
        assert speech_seconds(other, text) == pytest.approx(espeak, rel=0.10), other


@pytest.mark.slow
def test_volume_scales_piper_and_its_own_normalising_is_off(joe):
    loud, _ = synthesise_in_worker(Voice(engine="piper", name=JOE, volume=1.0), "Breathe in.")
    soft, _ = synthesise_in_worker(Voice(engine="piper", name=JOE, volume=0.5), "Breathe in.")
    ratio = np.abs(soft.astype(np.int32)).max() / np.abs(loud.astype(np.int32)).max()
    assert ratio == pytest.approx(0.5, abs=0.02)
    assert np.abs(loud.astype(np.int32)).max() < 32000     # not scaled up to full scale


def test_a_voice_file_from_a_path_and_from_the_voices_folder_both_render(joe, data_home, tmp_path, write_script):
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    by_path = copy_voice(joe, elsewhere, "en_US-elsewhere-medium")
    copy_voice(joe, data_home, "en_US-dropped-medium")
    listed = CliRunner().invoke(cli, ["voices"])
    assert "piper:en_US-dropped-medium " in listed.output, listed.output
    script = write_script(SCRIPT)
    for spec in (f"piper:{by_path}", "piper:en_US-dropped-medium"):
        result = CliRunner().invoke(cli, ["--cache-dir", str(tmp_path / "cache"), "show", str(script), "--voice", spec])
        assert result.exit_code == 0, result.output
        assert "Let your shoulders soften." in result.output


def _bad(joe, folder: Path):
    return {
        "missing model": (lambda: folder / "gone.onnx", "no such voice file"),
        "damaged model": (lambda: copy_voice(joe, folder, "junk", model_bytes=b"\0" + os.urandom(2_000_000)),
                          "not a whole Piper voice model"),
        "cut-short model": (lambda: copy_voice(joe, folder, "cut", model_bytes=joe.model.read_bytes()[:3_000_000]),
                            "cannot be loaded"),
        "missing config": (lambda: copy_voice(joe, folder, "noconfig", config=lambda d: None), ".onnx.json beside"),
        "invalid config": (lambda: copy_voice(joe, folder, "badjson", config=lambda d: "{not json"),
                           "not a valid voice config"),
        "config of something else": (lambda: copy_voice(joe, folder, "other", config=lambda d: {"hello": 1}),
                                     "not a Piper voice config"),
        "another language": (lambda: copy_voice(joe, folder, "de_DE-x-medium", config=lambda d: {
            **d, "language": {"code": "de_DE", "family": "de"}, "espeak": {"voice": "de"}}), "choose an English"),
    }


@pytest.mark.parametrize("case", ["missing model", "damaged model", "cut-short model", "missing config", "invalid config",
                                  "config of something else", "another language"])
def test_each_bad_voice_file_is_one_line_naming_it_and_nothing_is_cached(joe, tmp_path, write_script, case):
    make, says = _bad(joe, tmp_path)[case]
    model = make()
    script = write_script(SCRIPT)
    cache = tmp_path / "cache"
    result = CliRunner().invoke(cli, ["--cache-dir", str(cache), "show", str(script), "--voice", f"piper:{model}"])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and str(model.name) in lines[0], lines
    assert "Traceback" not in result.output
    assert not cache.exists() or not any(cache.rglob("*.wav"))


def test_an_unknown_piper_voice_name_says_where_voices_go(data_home, write_script):
    result = CliRunner().invoke(cli, ["show", str(write_script(SCRIPT)), "--voice", "piper:nobody"])
    assert result.exit_code == 1
    assert "piper has no voice 'nobody'" in result.output and str(data_home) in result.output


def test_a_broken_file_in_the_voices_folder_is_left_out_of_the_list_and_named_when_asked_for(joe, data_home, write_script):
    copy_voice(joe, data_home, "en_US-broken-medium", config=lambda d: "{")
    listed = CliRunner().invoke(cli, ["voices"])
    assert listed.exit_code == 0 and "en_US-broken-medium" not in listed.output
    result = CliRunner().invoke(cli, ["show", str(write_script(SCRIPT)), "--voice", "piper:en_US-broken-medium"])
    assert result.exit_code == 1 and "not a valid voice config" in result.output


def test_the_cache_keeps_piper_voices_apart(joe, data_home, tmp_path):
    model = copy_voice(joe, data_home, "en_US-twin-medium")
    a = phrase_key(Voice(engine="piper", name=JOE), "Hello.")
    b = phrase_key(Voice(engine="piper", name=engines.engine("piper").resolve("en_US-twin-medium")), "Hello.")
    assert a != b and str(model) in b_name(model)


def b_name(model: Path) -> str:
    return engines.engine("piper").resolve(str(model)) or ""


PREPARED = ("import sys, json\nimport numpy as np\nfrom voicecoach.speech.engines import piper\n"
            "from voicecoach.speech.voice import Voice\n"
            "engine = piper.Piper()\nfound = engine._file(None)\n"
            "voice = engine._load(None)\n"
            "samples, _ = engine.synthesise(Voice(engine='piper', name='joe'), sys.argv[1], 30)\n"
            "print(json.dumps({'loaded_from': voice.session._model_path, 'prepared': str(piper.prepared_path(found.model)),"
            " 'samples': np.asarray(samples).tolist()}))\n")


def load_joe(cache_home: Path, text: str = "Let the breath go, all the way out.") -> dict:
    """joe loaded in a fresh process whose user cache folder is `cache_home`: where from, and `text`'s samples."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PREPARED, text], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow
def test_a_voice_is_prepared_once_then_loaded_prepared_with_every_sample_the_same(joe, tmp_path):
    first = load_joe(tmp_path / "cache")
    prepared = Path(first["prepared"])
    assert first["loaded_from"] == str(joe.model)                 # the first load prepares it as it loads
    assert prepared.is_file() and prepared.parent == tmp_path / "cache" / "voicecoach" / "voices"
    assert not [p for p in prepared.parent.iterdir() if p != prepared]   # no partial left beside it
    assert prepared.stat().st_mode & 0o077 == 0 and prepared.parent.stat().st_mode & 0o077 == 0   # the owner's
    made = prepared.stat().st_mtime_ns
    second = load_joe(tmp_path / "cache")
    assert second["loaded_from"] == str(prepared)
    assert prepared.stat().st_mtime_ns == made
    assert second["samples"] == first["samples"] and len(first["samples"]) > RATE


@pytest.mark.slow
def test_a_damaged_prepared_voice_is_made_again_and_no_room_to_keep_one_still_loads(joe, tmp_path):
    first = load_joe(tmp_path / "cache")
    prepared = Path(first["prepared"])
    prepared.write_bytes(b"not a model")
    again = load_joe(tmp_path / "cache")
    assert again["loaded_from"] == str(joe.model) and again["samples"] == first["samples"]
    assert prepared.stat().st_size > 1_000_000                   # made again, whole
    # A copy made by another onnxruntime, or from an older file, goes when a new one is made; others stay.
    older, other_voice = prepared.with_name(f"en_US-joe-medium-{'0' * 32}.onnx"), prepared.with_name(f"alba-{'0' * 32}.onnx")
    older.write_bytes(b"old"), other_voice.write_bytes(b"other")
    prepared.unlink()
    load_joe(tmp_path / "cache")
    assert sorted(p.name for p in prepared.parent.iterdir()) == sorted([prepared.name, other_voice.name])
    blocked = tmp_path / "a-file"
    blocked.write_text("the cache folder's place is taken by a file")
    plain = load_joe(blocked)
    assert plain["loaded_from"] == str(joe.model) and plain["samples"] == first["samples"]
