"""What a cold export pays once, whatever its length (issue 26, item 12): no worker waited for as it exits,
no helper program run to find a library, ffmpeg started while the numbers it needs are still being worked out."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from multiprocessing import util
from pathlib import Path

import numpy as np
import pytest

from tests.test_sockets import needs_strace
from voicecoach.audio import ffmpeg, libavfilter, loudness
from voicecoach.errors import VoicecoachError
from voicecoach.export import mastering
from voicecoach.session import prepare
from voicecoach.speech import pool
from voicecoach.speech.voice import Voice
from voicecoach.testing import SlowEngine


def _linger(log: str, text: str) -> None:
    time.sleep(0.3)          # a worker slow to exit after it has reported its phrase
    with open(log, "a") as f:
        f.write(f"exit {text}\n")


class Lingering(SlowEngine):
    """espeak-ng, one phrase a process; each worker takes a while to exit after it has reported."""

    def __init__(self, log):
        super().__init__(0.0)
        self.name = "lingering"
        self.log = str(log)

    def synthesise(self, voice, text, timeout):
        with open(self.log, "a") as f:
            f.write(f"start {text}\n")
        util.Finalize(None, _linger, args=(self.log, text), exitpriority=0)    # runs as the worker exits
        return super().synthesise(voice, text, timeout)


def test_the_next_phrase_starts_while_the_last_worker_is_still_exiting(tmp_path, monkeypatch):
    from voicecoach.speech import engines
    log = tmp_path / "order.log"
    monkeypatch.setitem(engines._engines(), "lingering", Lingering(log))
    done: list[str] = []
    pool.render(Voice(engine="lingering"), ["First phrase.", "Second phrase."], lambda text, samples: None,
                workers=1, in_order=True, progress=done.append)
    assert done == ["First phrase.", "Second phrase."]
    lines = log.read_text().splitlines()
    # One worker at a time, and the second started before the first had finished exiting ...
    assert lines.index("start Second phrase.") < lines.index("exit First phrase.")
    # ... but every worker has ended by the time render returns.
    assert sorted(lines) == sorted(["start First phrase.", "start Second phrase.", "exit First phrase.",
                                    "exit Second phrase."])


# ---------------------------------------------------------------- ffmpeg started before its graph is known

GRAPH = loudness.chain(6.0, loudness.CEILING, -30.0)


def _speech_like(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(24_000 * seconds)) / 24_000
    return (np.sin(2 * np.pi * 180 * t) * np.sin(2 * np.pi * 3 * t) * 20_000).astype(np.int16)


def test_ffmpeg_started_ahead_runs_while_its_graph_is_still_unknown_and_filters_exactly_as_a_plain_run():
    samples = _speech_like()
    started = ffmpeg.Started(samples)
    try:
        assert started._proc.poll() is None         # running (started up, reading its input) with no graph yet
    finally:
        out = started.result(GRAPH)
    assert np.array_equal(out, ffmpeg.filtered(samples, GRAPH))


def test_ffmpeg_started_ahead_and_never_given_a_graph_is_stopped():
    started = ffmpeg.Started(_speech_like(0.5))
    proc = started._proc
    started.close()
    assert proc.poll() is not None


def test_a_broken_graph_given_late_is_one_line_for_people():
    with pytest.raises(VoicecoachError) as caught:
        ffmpeg.Started(_speech_like(0.5)).result("no_such_filter=1")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("ffmpeg failed")


MASTERED = """
voicecoach: 1
title: Mastering order
steps:
  - say: Let your jaw soften, and let your breath slow down.
  - pause: 1
  - breathe: {in: 3, out: 4, cycles: 1}
  - chime: {}
  - say: Well done.
"""


@pytest.mark.slow
def test_mastering_starts_each_pass_of_ffmpeg_before_it_knows_the_pass_settings(write_script, shared_cache,
                                                                              monkeypatch):
    # Where the filters cannot run in this process, each pass is an ffmpeg program, started early.
    monkeypatch.setattr(libavfilter, "available", lambda: False)
    session = prepare(write_script(MASTERED), shared_cache)
    events: list[str] = []
    real_init, real_result = ffmpeg.Started.__init__, ffmpeg.Started.result
    real_level, real_gain = mastering.level, loudness.next_gain

    def init(self, samples):
        events.append("ffmpeg started")
        real_init(self, samples)

    def result(self, graph):
        events.append("graph " + ("compressor" if graph.startswith("acompressor") else "limiter"))
        return real_result(self, graph)
    monkeypatch.setattr(ffmpeg.Started, "__init__", init)
    monkeypatch.setattr(ffmpeg.Started, "result", result)
    monkeypatch.setattr(mastering, "level", lambda *a, **k: events.append("loudness measured") or real_level(*a, **k))
    monkeypatch.setattr(loudness, "next_gain", lambda *a, **k: events.append("gain chosen") or real_gain(*a, **k))
    done = mastering.master(session)
    assert done.loudness.integrated == pytest.approx(loudness.TARGET_LUFS, abs=mastering.AIM + 0.01)
    runs = mastering.WORKERS
    # The compressor's runs start before the voice's loudness (which sets its threshold) is measured ...
    assert events[:runs + 1] == ["ffmpeg started"] * runs + ["loudness measured"]
    # ... and the first limiter pass's runs before its gain is chosen.
    limiter_started = events.index("ffmpeg started", runs)
    assert limiter_started < events.index("gain chosen") < events.index("graph limiter")


@pytest.mark.slow
def test_mastering_started_ahead_gives_the_same_samples_as_ffmpeg_run_when_the_graph_is_known(
        write_script, shared_cache, monkeypatch):
    monkeypatch.setattr(libavfilter, "available", lambda: False)
    session = prepare(write_script(MASTERED), shared_cache)
    ahead = mastering.master(session)

    class WhenKnown:
        """The old way: nothing runs until the graph is known, then one plain ffmpeg run."""
        def __init__(self, samples):
            self.samples = samples

        def result(self, graph):
            return ffmpeg.filtered(self.samples, graph)

        def close(self):
            pass
    monkeypatch.setattr(ffmpeg, "Started", WhenKnown)
    plain = mastering.master(session)
    assert (plain.gain, plain.threshold, plain.ceiling) == (ahead.gain, ahead.threshold, ahead.ceiling)
    assert plain.session.clips.keys() == ahead.session.clips.keys()
    for key, samples in plain.session.clips.items():
        assert np.array_equal(ahead.session.clips[key], samples), key


# ---------------------------------------------------------------- programs a cold export runs

TINY = """
voicecoach: 1
title: Programs
voice: {name: pyttsx3}
steps:
  - say: Let your shoulders soften.
  - pause: 1
  - say: Well done.
"""


def _programs_run(tmp_path, script: Path, out: Path) -> tuple[list[str], str]:
    """The programs a cold `voicecoach export` starts (their base names), and strace's trace of them."""
    trace = tmp_path / "trace.txt"
    env = {**os.environ, "HOME": str(tmp_path / "home"), "VOICECOACH_CONFIG": str(tmp_path / "none.yaml"),
           "VOICECOACH_DB": str(tmp_path / "log.sqlite3")}
    done = subprocess.run(["strace", "-f", "-qq", "-v", "-s", "64", "-e", "trace=execve", "-e", "signal=none",
                           "-o", str(trace),
                           sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(tmp_path / "cache"),
                           "export", str(script), "-o", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    ran = [line.split('execve("', 1)[1].split('"', 1)[0] for line in trace.read_text().splitlines()
           if 'execve("' in line and "= 0" in line]
    return [os.path.basename(p) for p in ran[1:]], trace.read_text()   # the first is voicecoach's own interpreter


@needs_strace
def test_a_cold_export_to_wav_runs_no_program_but_the_phrase_server(tmp_path):
    script = tmp_path / "tiny.yaml"
    script.write_text(TINY, encoding="utf-8")
    programs, _ = _programs_run(tmp_path, script, tmp_path / "out.wav")
    # ctypes' find_library ran `ldconfig -p` (twice) just to ask whether espeak-ng is installed, and mastering
    # ran ffmpeg four times (80 ms of CPU each to start): its filters now run in this process. What is left is
    # our own interpreter once more: espeak-ng's phrase server (speech/espeak_server.py).
    assert programs == [os.path.basename(sys.executable)], programs


@needs_strace
def test_a_cold_export_to_mp3_runs_ffmpeg_only_to_encode(tmp_path):
    script = tmp_path / "tiny.yaml"
    script.write_text(TINY, encoding="utf-8")
    programs, trace = _programs_run(tmp_path, script, tmp_path / "out.mp3")
    # ffmpeg (through util-linux's setpriv, which becomes it, where there is one: its help is read once, to
    # see that it can) for the encoder alone: the encoder's measured effect, the file's tags, its audio.
    assert programs.count("setpriv") <= programs.count("ffmpeg") + 1, programs
    assert set(programs) - {"setpriv"} == {"ffmpeg", os.path.basename(sys.executable)}, programs
    assert programs.count(os.path.basename(sys.executable)) == 1, programs
    assert "-filter_script" not in trace and "acompressor" not in trace


def test_an_export_draws_no_cover_it_carries_the_shipped_one(write_script, tmp_path, monkeypatch):
    from voicecoach.cache import Cache
    from voicecoach.export import cover, file
    cover.cover_png.cache_clear()
    drawn: list[tuple] = []
    real_picture = cover._picture
    monkeypatch.setattr(cover, "_picture", lambda *args: drawn.append(args) or real_picture(*args))
    done = file.export_script(write_script(TINY), tmp_path / "out.mp3", Cache(tmp_path / "cache"))
    assert drawn == []
    import mutagen
    shipped = (Path(cover.__file__).parent / "static" / "cover.png").read_bytes()
    assert mutagen.File(str(done.path)).tags.getall("APIC")[0].data == shipped
    cover.cover_png.cache_clear()


def test_ffmpeg_started_before_its_input_is_known_filters_it_when_fed():
    samples = _speech_like()
    started = ffmpeg.Started()
    try:
        assert started._proc.poll() is None             # started up, waiting for its input and its graph
        started.feed(samples)
    finally:
        out = started.result(GRAPH)
    assert np.array_equal(out, ffmpeg.filtered(samples, GRAPH))


def test_ffmpeg_started_never_fed_is_stopped_and_asked_for_a_result_says_so():
    started = ffmpeg.Started()
    proc = started._proc
    with pytest.raises(ValueError, match="before it was fed"):
        started.result(GRAPH)
    assert proc.poll() is not None


def test_the_head_start_loads_the_filters_with_the_first_rendered_phrase(monkeypatch):
    loads: list[str] = []
    monkeypatch.setattr(libavfilter, "available", lambda: loads.append(threading.current_thread().name) or True)
    head = mastering.HeadStart()
    assert loads == []                                  # nothing rendered: nothing loaded
    sound = _speech_like(0.5)
    head.add("Breathe in.", sound)
    head.add("Breathe out.", sound[:6000])
    energies = head.energies({"Breathe in.": sound, "other": sound})
    # Once, on the head start's own threads: the rendering goes on meanwhile.
    assert len(loads) == 1 and loads[0].startswith("head-start")
    # Its energy a millisecond at a time (all that placing it on the session's milliseconds needs).
    assert set(energies) == {"Breathe in."}
    assert np.allclose(energies["Breathe in."], np.append(loudness.energy(sound)[:-1:24], loudness.energy(sound)[-1]),
                       rtol=1e-6)
    # A sound with the same name but other samples is not taken for the one measured.
    assert head.energies({"Breathe in.": sound.copy()}) == {}
    head.close()


@pytest.mark.slow
def test_mastering_in_this_process_gives_the_samples_the_ffmpeg_program_gives(write_script, shared_cache, monkeypatch):
    session = prepare(write_script(MASTERED), shared_cache)
    inside = mastering.master(session)
    monkeypatch.setattr(libavfilter, "available", lambda: False)
    program = mastering.master(session)
    assert (inside.gain, inside.threshold, inside.ceiling, inside.loudness) == \
        (program.gain, program.threshold, program.ceiling, program.loudness)
    assert inside.session.clips.keys() == program.session.clips.keys()
    for key, samples in program.session.clips.items():
        assert np.array_equal(inside.session.clips[key], samples), key


def _threads_after_numpy(env: dict) -> tuple[int, str]:
    code = ("import os, voicecoach, numpy; "
            "print(len(os.listdir('/proc/self/task')), os.environ['OPENBLAS_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    count, value = out.stdout.split()
    return int(count), value


@pytest.mark.skipif(not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2,
                    reason="counts the threads of a process through Linux's /proc, on more than one core")
def test_numpy_starts_no_spinning_blas_threads():
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    # Without the package's setting numpy's OpenBLAS adds a thread per extra core; with it, one thread.
    bare = subprocess.run([sys.executable, "-c", "import os, numpy; print(len(os.listdir('/proc/self/task')))"],
                          env=env, capture_output=True, text=True, check=True)
    assert int(bare.stdout) > 1, "this numpy starts no BLAS threads: the test shows nothing here"
    assert _threads_after_numpy(env) == (1, "1")
    # The user's own choice stands.
    assert _threads_after_numpy({**env, "OPENBLAS_NUM_THREADS": "2"})[1] == "2"
