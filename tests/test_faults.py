"""Faults outside our code: no speech engine, no ffmpeg, a full disk, a hanging engine.
Each is one line naming the fix, a non-zero exit, and no partial file at the output path."""

import os
import resource
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = """
voicecoach: 1
title: Faults
steps:
  - say: Let your shoulders drop.
  - pause: 20
  - say: And breathe out slowly.
"""


def run(args, tmp_path, env=None, preexec=None):
    environment = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(tmp_path / "cache"), *map(str, args)],
                          capture_output=True, text=True, env=environment, preexec_fn=preexec, timeout=120)


def one_line(result, *words):
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [l for l in (result.stdout + result.stderr).splitlines() if l.strip()]
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def no_partials(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix in (".partial", ".tmp")]


@pytest.fixture
def script(write_script):
    return write_script(SCRIPT)


@pytest.mark.slow
def test_no_speech_engine(tmp_path, script):
    # Make libespeak-ng unloadable, as on a machine without the espeak-ng package.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent("""
        import ctypes
        _real = ctypes.CDLL.__init__
        def _refuse(self, name, *args, **kwargs):
            if name and "espeak" in str(name):
                raise OSError(f"{name}: cannot open shared object file: No such file or directory")
            _real(self, name, *args, **kwargs)
        ctypes.CDLL.__init__ = _refuse
        """))
    out = tmp_path / "out"
    out.mkdir()
    result = run(["export", script, "-o", out / "s.wav", "--voice", "pyttsx3:gmw/en"], tmp_path,
                 env={"PYTHONPATH": str(site)})
    one_line(result, "espeak-ng", "apt-get install espeak-ng")
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_no_ffmpeg(tmp_path, script):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    result = run(["export", script, "-o", out / "s.mp3"], tmp_path, env={"PATH": str(empty)})
    one_line(result, "ffmpeg", "apt-get install ffmpeg")
    assert list(out.iterdir()) == []


def _small_files():
    # 64 KiB per file: a rendered phrase fits, a 20-second session does not. Ignore SIGXFSZ so the
    # write fails with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["s.wav", "s.mp3"])
def test_a_file_size_limit(tmp_path, script, name):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_bytes(b"an earlier export that must survive")
    assert run(["show", script], tmp_path).returncode == 0          # phrases cached, under the limit
    result = run(["export", script, "-o", out / name], tmp_path, preexec=_small_files)
    # A limit on the size of one file, not a full disk: freeing space would not help.
    one_line(result, str(out / name), "file-size limit")
    assert "space" not in result.stderr
    assert (out / name).read_bytes() == b"an earlier export that must survive"
    assert no_partials(out) == []


@pytest.mark.slow
def test_hanging_engine(tmp_path, script):
    # The real engine, hanging as it reads its data: espeak-ng's data files are FIFOs nobody writes.
    data = tmp_path / "hanging" / "espeak-ng-data"
    data.mkdir(parents=True)
    for name in ("phontab", "phonindex", "phondata", "intonations"):
        os.mkfifo(data / name)
    out = tmp_path / "out"
    out.mkdir()
    result = run(["export", script, "-o", out / "s.wav", "--voice", "espeak"], tmp_path,
                 env={"ESPEAK_DATA_PATH": str(tmp_path / "hanging"), "VOICECOACH_TTS_TIMEOUT": "1"})
    one_line(result, "did not finish", "espeak-ng \"hello\"")
    assert list(out.iterdir()) == []
