"""Speech under hostile conditions: workers that die with a killed parent, Piper voice configs that are
damaged, huge or not files at all, and samples of the voices a user dropped in the voices folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_output import alsa_home

from voicecoach.cli import cli
from voicecoach.units import RATE

ROOT = Path(__file__).resolve().parent.parent
SHORT = "voicecoach: 1\ntitle: Short\nsteps:\n  - say: Let your shoulders soften.\n"


# ---------------------------------------------------------------- workers die with their parent


def long_script(folder: Path) -> Path:
    """A script of many different phrases: rendering it keeps workers busy for a while."""
    lines = ["voicecoach: 1", "title: Long", "steps:"]
    lines += [f"  - say: Sentence {n} of a long and patient session, breathing slowly and letting go." for n in range(80)]
    path = folder / "long.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def group(pgid: int) -> set[int]:
    """The live processes (not zombies) of process group `pgid`, read from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = stat[stat.rindex(")") + 2:].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            found.add(int(entry))
    return found


def until(condition, seconds: float):
    """Poll `condition` until it gives something true, or `seconds` pass; return its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def kill_parent_and_find_survivors(command: list[str], env: dict, log: Path, ready) -> set[int]:
    """Run `command` in a process group of its own until `ready(its children)`, SIGKILL it, and return the
    processes of its group still alive 2 s later."""
    with open(log, "wb") as err:
        parent = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=err)
    try:
        until(lambda: parent.poll() is not None or ready(group(parent.pid) - {parent.pid}), 120)
        assert parent.poll() is None, f"it ended before it was killed: {log.read_text()[-500:]}"
        assert group(parent.pid) - {parent.pid}, "no speech worker started in two minutes"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        until(lambda: not group(parent.pid), 2)
        return group(parent.pid)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in group(parent.pid):      # what the test found is not left behind either
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "voicecoach.cli", *args]


@pytest.mark.slow
def test_a_killed_export_leaves_no_speech_worker_behind(tmp_path):
    # piper's workers serve many phrases and wait on their pipe between them: that is where they were left
    # (12 of them, about 245 MB each). espeak-ng's serve one phrase each and end by themselves.
    command = cli_command("--cache-dir", str(tmp_path / "cache"), "export", str(long_script(tmp_path)),
                          "-o", str(tmp_path / "out.wav"), "--voice", "piper:joe")
    survivors = kill_parent_and_find_survivors(command, {**os.environ, "PYTHONPATH": str(ROOT)},
                                               tmp_path / "err.txt", bool)
    assert not survivors, f"workers outlived their parent: {sorted(survivors)}"


@pytest.mark.slow
def test_a_killed_export_leaves_no_espeak_server_behind(tmp_path):
    # espeak-ng's phrase server hangs as it starts (its data files are FIFOs nobody writes), so it is surely
    # alive when its parent is killed.
    data = tmp_path / "hanging" / "espeak-ng-data"
    data.mkdir(parents=True)
    for name in ("phontab", "phonindex", "phondata", "intonations"):
        os.mkfifo(data / name)
    command = cli_command("--cache-dir", str(tmp_path / "cache"), "export", str(long_script(tmp_path)),
                          "-o", str(tmp_path / "out.wav"), "--voice", "espeak")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ESPEAK_DATA_PATH": str(tmp_path / "hanging")}
    seen: list[float] = []

    def hanging(processes: set[int]) -> bool:
        # Past its start (a server whose parent is gone by then ends at once, without the kernel's help).
        if not seen and any("espeak_server" in _cmdline(pid) for pid in processes):
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] > 1.0
    survivors = kill_parent_and_find_survivors(command, env, tmp_path / "err.txt", hanging)
    assert not survivors, f"the phrase server outlived its parent: {sorted(survivors)}"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.slow
def test_a_killed_play_leaves_no_worker_of_its_render_ahead_thread_behind(tmp_path):
    # play renders its first words in the main thread and the rest in a thread of their own: the
    # parent-death signal follows the thread that forked, so this is the case that could slip through.
    cache = tmp_path / "cache"
    command = cli_command("--cache-dir", str(cache), "play", str(long_script(tmp_path)), "--voice", "piper:joe")

    def rendering_ahead(workers: set[int]) -> bool:
        return bool(workers) and len(list(cache.rglob("*.wav"))) >= 2

    survivors = kill_parent_and_find_survivors(command, alsa_home(tmp_path, "type null"), tmp_path / "err.txt",
                                               rendering_ahead)
    assert not survivors, f"workers outlived their parent: {sorted(survivors)}"


# ---------------------------------------------------------------- a Piper voice's .onnx.json


def joe_config(joe) -> dict:
    return json.loads(Path(f"{joe.model}.json").read_text(encoding="utf-8"))


def dropped(joe, folder: Path, stem: str, config: bytes | str | dict | None = None) -> Path:
    """joe's model under `stem` in `folder`, with `config` (joe's own when None) as its .onnx.json."""
    model = folder / f"{stem}.onnx"
    os.symlink(joe.model, model)
    data = joe_config(joe) if config is None else config
    text = json.dumps(data) if isinstance(data, dict) else data
    Path(f"{model}.json").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return model


def changed(path: str, value):
    """A change to joe's config: `path` ("audio.sample_rate") set to `value` (removed when it is DROP)."""
    def change(data: dict) -> dict:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        if value is DROP:
            del node[last]
        else:
            node[last] = value
        return data
    return change


DROP = object()
# (what is wrong, how joe's config is changed, a word the message must hold)
BAD_CONFIGS = [
    ("sample rate 1", changed("audio.sample_rate", 1), "sample_rate"),
    ("sample rate 0", changed("audio.sample_rate", 0), "sample_rate"),
    ("sample rate -5", changed("audio.sample_rate", -5), "sample_rate"),
    ("sample rate 1e9", changed("audio.sample_rate", 1e9), "sample_rate"),
    ("sample rate as text", changed("audio.sample_rate", "22050"), "sample_rate"),
    ("sample rate true", changed("audio.sample_rate", True), "sample_rate"),
    ("sample rate 22050.5", changed("audio.sample_rate", 22050.5), "sample_rate"),
    ("sample rate NaN", lambda d: json.dumps(d).replace('"sample_rate": 22050', '"sample_rate": NaN'), "sample_rate"),
    ("no speakers", changed("num_speakers", 0), "num_speakers"),
    ("a trillion speakers", changed("num_speakers", 10 ** 12), "num_speakers"),
    ("speakers as text", changed("num_speakers", "1"), "num_speakers"),
    ("no symbols", changed("num_symbols", 0), "num_symbols"),
    ("phoneme map as a list", changed("phoneme_id_map", [[0], [1]]), "phoneme_id_map"),
    ("phoneme ids as text", changed("phoneme_id_map.a", ["14"]), "phoneme_id_map"),
    ("a phoneme id, not a list", changed("phoneme_id_map.a", 14), "phoneme_id_map"),
    ("a phoneme id past the model's symbols", changed("phoneme_id_map.a", [5000]), "phoneme_id_map"),
    ("no start symbol", changed("phoneme_id_map.^", DROP), "phoneme_id_map"),
    ("espeak voice as a number", changed("espeak.voice", 5), "espeak.voice"),
    ("espeak voice as a path", changed("espeak.voice", "../../../etc/passwd"), "espeak.voice"),
    ("espeak voice empty", changed("espeak.voice", ""), "espeak.voice"),
    ("language as text", changed("language", "en"), "language"),
    ("speaker map as a list", changed("speaker_id_map", [1]), "speaker_id_map"),
    ("inference as a list", changed("inference", [0.6]), "inference"),
    ("hop length as text", changed("hop_length", "256"), "hop_length"),
    ("vowel clusters as a number", changed("vowel_clusters", 5), "vowel_clusters"),
    ("default speaker past the speakers", changed("default_speaker_id", 3), "default_speaker_id"),
    ("nested thousands deep", lambda d: "[" * 100_000, "valid"),
]


@pytest.mark.parametrize("case, change, says", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_each_bad_voice_config_is_one_line_naming_it(joe, data_home, tmp_path, case, change, says):
    model = dropped(joe, data_home, "en_US-bad-medium", change(joe_config(joe)))
    script = tmp_path / "s.yaml"
    script.write_text(SHORT, encoding="utf-8")
    cache = tmp_path / "cache"
    for spec in (f"piper:{model}", "piper:en_US-bad-medium"):
        result = CliRunner().invoke(cli, ["--cache-dir", str(cache), "export", str(script), "-o",
                                          str(tmp_path / "out.wav"), "--voice", spec])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit), lines
        assert len(lines) == 1 and f"{model.name}.json" in lines[0] and says in lines[0], lines
    assert not (tmp_path / "out.wav").exists() and not any(cache.rglob("*.wav")) if cache.exists() else True
    listed = CliRunner().invoke(cli, ["voices"])      # left out of the list, and the list still works
    assert listed.exit_code == 0 and "en_US-bad-medium" not in listed.output, listed.output


@pytest.mark.parametrize("case, change, says", [
    ("an espeak voice espeak-ng lacks", changed("espeak.voice", "zz-nothing"), "zz-nothing"),
    ("many speakers for a one-speaker model", changed("num_speakers", 4), "num_speakers"),
], ids=["unknown espeak voice", "speakers the model lacks"])
def test_a_config_the_model_disagrees_with_is_one_line_naming_it_before_anything_is_rendered(
        joe, data_home, tmp_path, case, change, says):
    model = dropped(joe, data_home, "en_US-odd-medium", change(joe_config(joe)))
    script = tmp_path / "s.yaml"
    script.write_text(SHORT, encoding="utf-8")
    cache = tmp_path / "cache"
    result = CliRunner().invoke(cli, ["--cache-dir", str(cache), "export", str(script), "-o", str(tmp_path / "o.wav"),
                                      "--voice", f"piper:{model}"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, lines
    assert f"{model.name}.json" in lines[0] and says in lines[0], lines
    assert not cache.exists() or not any(cache.rglob("*.wav"))


def hostile_files(joe, folder: Path) -> dict[str, Path]:
    """Voice files that are not what their names say: huge, devices, pipes, garbage."""
    made = {}
    huge = dropped(joe, folder, "en_US-huge-medium")
    with open(f"{huge}.json", "r+b") as f:      # joe's config, then 50 MB of spaces: valid JSON, whole
        f.seek(0, 2)
        f.write(b" " * 50_000_000)
    made["a 50 MB config"] = Path(f"{huge}.json")
    zero = folder / "en_US-zero-medium.onnx"
    os.symlink(joe.model, zero)
    os.symlink("/dev/zero", f"{zero}.json")
    made["a config that is /dev/zero"] = Path(f"{zero}.json")
    fifo = folder / "en_US-fifo-medium.onnx"
    os.symlink(joe.model, fifo)
    os.mkfifo(f"{fifo}.json")
    made["a config that is a FIFO"] = Path(f"{fifo}.json")
    for stem, make in (("en_US-zeromodel-medium", lambda p: os.symlink("/dev/zero", p)),
                       ("en_US-fifomodel-medium", os.mkfifo),
                       ("en_US-garbage-medium", lambda p: Path(p).write_bytes(b"\x08" + os.urandom(3_000_000)))):
        model = folder / f"{stem}.onnx"
        make(model)
        Path(f"{model}.json").write_text(json.dumps(joe_config(joe)), encoding="utf-8")
        made[f"a model: {stem}"] = model
    return made


def test_huge_devices_pipes_and_garbage_in_the_data_home_are_named_and_never_read_whole(joe, data_home, tmp_path):
    made = hostile_files(joe, data_home)
    dropped(joe, data_home, "en_US-fine-medium")
    tracemalloc.start()
    try:
        listed = CliRunner().invoke(cli, ["voices"])
        doctor = CliRunner().invoke(cli, ["doctor"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Read whole, the 50 MB config alone is 50 MB of bytes and as much again of text.
    assert peak < 20_000_000, f"{peak / 1e6:.0f} MB read to list the voices"
    assert listed.exit_code == 0 and "piper:en_US-fine-medium " in listed.output, listed.output
    assert not any(f"en_US-{word}-medium" in listed.output for word in ("huge", "zero", "fifo", "zeromodel", "fifomodel"))
    assert "5 voice file(s) there cannot be used" in listed.output, listed.output
    assert "Traceback" not in doctor.output and "5 voice file(s) left out" in doctor.output, doctor.output
    script = tmp_path / "s.yaml"
    script.write_text(SHORT, encoding="utf-8")
    for what, named in made.items():
        model = named if named.suffix == ".onnx" else named.with_suffix("")
        result = CliRunner().invoke(cli, ["show", str(script), "--voice", f"piper:{model}"])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1 and named.name in lines[0], (what, lines)


def test_doctor_says_why_a_dropped_voice_is_left_out_of_the_list(joe, data_home):
    model = dropped(joe, data_home, "en_US-slow-medium", changed("audio.sample_rate", 1)(joe_config(joe)))
    listed = CliRunner().invoke(cli, ["voices"])
    assert "en_US-slow-medium" not in listed.output and "1 voice file(s) there cannot be used" in listed.output
    doctor = CliRunner().invoke(cli, ["doctor"])
    lines = doctor.output.splitlines()
    at = next(i for i, line in enumerate(lines) if "your voices" in line)
    # Its detail, wrapped under its column until the next check or its fix.
    detail = " ".join(lines[at: next(i for i in range(at + 1, len(lines)) if not lines[i].startswith(" " * 23)
                                     or "fix:" in lines[i])])
    assert f"{model.name}.json" in detail and "sample_rate is 1" in detail, doctor.output


# ---------------------------------------------------------------- samples of the user's own voices


def test_samples_include_a_voice_from_the_data_home_as_real_speech(joe, data_home, tmp_path):
    dropped(joe, data_home, "en_US-dropped-medium")
    out = tmp_path / "samples"
    result = CliRunner().invoke(cli, ["voices", "--sample", "Let your shoulders drop.", "-d", str(out)])
    assert result.exit_code == 0, result.output
    sample = out / "piper-en_US-dropped-medium.wav"
    assert f"wrote {sample}" in result.output
    with wave.open(str(sample)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    assert 0.5 * RATE < len(samples) < 5 * RATE
    assert np.sqrt(np.mean(samples ** 2)) > 300          # speech, not silence (about -40 dBFS and up)
    # The same words in the same model: the folder's copy of joe (timed against joe once loaded) is as long.
    with wave.open(str(out / "piper-joe.wav")) as w:
        assert w.getnframes() == pytest.approx(len(samples), rel=0.2)


def test_a_damaged_model_in_the_data_home_costs_its_own_sample_only(joe, data_home, tmp_path):
    # Its first bytes look like a model, so it is listed; only loading it shows the damage.
    garbage = data_home / "en_US-garbage-medium.onnx"
    garbage.write_bytes(b"\x08" + os.urandom(3_000_000))
    Path(f"{garbage}.json").write_text(json.dumps(joe_config(joe)), encoding="utf-8")
    out = tmp_path / "samples"
    result = CliRunner().invoke(cli, ["voices", "--sample", "Breathe out.", "-d", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"no sample of piper:en_US-garbage-medium: {garbage}: this Piper voice cannot be loaded" in result.output
    assert "1 of" in result.output.strip().splitlines()[-1]
    made = sorted(p.name for p in out.iterdir())
    assert "piper-joe.wav" in made and "espeak-gmw-en-us.wav" in made and not any("garbage" in n for n in made)


def test_voice_names_from_files_and_configs_cannot_write_to_the_terminal(joe, data_home):
    config = joe_config(joe)
    config.update(dataset="\x1b[2J\x1b[31mjoe", language={"code": "en_US\x1b[5m", "family": "en"})
    dropped(joe, data_home, "en_US-plain-medium", config)
    dropped(joe, data_home, "en_US-\x1b[2Jescape-medium")
    listed = CliRunner().invoke(cli, ["voices", "--all"])
    assert listed.exit_code == 0 and "\x1b" not in listed.output, repr(listed.output)
    assert "piper:en_US-plain-medium " in listed.output and "1 voice file(s) there cannot be used" in listed.output
    doctor = CliRunner().invoke(cli, ["doctor"])
    assert "\x1b" not in doctor.output and "must be printable" in doctor.output


@pytest.mark.parametrize("wanted", ["x" * 5000, "~nobody-here-at-all/voice.onnx"],
                         ids=["a name too long for a file", "an unknown user's home"])
def test_an_odd_piper_voice_name_is_one_line_from_the_command_line_and_from_the_config(data_home, tmp_path,
                                                                                     monkeypatch, wanted):
    script = tmp_path / "s.yaml"
    script.write_text(SHORT, encoding="utf-8")
    shown = CliRunner().invoke(cli, ["show", str(script), "--voice", f"piper:{wanted}"])
    assert shown.exit_code == 1 and len(shown.output.strip().splitlines()) == 1, shown.output
    config = tmp_path / "config.yaml"
    config.write_text(f"voice: 'piper:{wanted}'\n", encoding="utf-8")
    monkeypatch.setenv("VOICECOACH_CONFIG", str(config))
    doctor = CliRunner().invoke(cli, ["doctor"])
    assert doctor.exception is None or isinstance(doctor.exception, SystemExit), doctor.output
    assert "config file" in doctor.output and "Traceback" not in doctor.output
