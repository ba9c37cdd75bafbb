"""Running ffmpeg: the pipe that feeds it, and its failures in a person's words."""

import fcntl
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicecoach.audio import ffmpeg
from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.export.encode import BLOCK_MS
from voicecoach.units import SAMPLES_PER_MS

F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)


def test_the_pipe_to_ffmpeg_holds_a_whole_block_of_an_export():
    # Otherwise ffmpeg waits while the next block is made (an hour's bed added 0.9 s to its export).
    assert ffmpeg.PIPE_BYTES >= BLOCK_MS * SAMPLES_PER_MS * 2
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "wb") as pipe:
        before = fcntl.fcntl(pipe.fileno(), F_GETPIPE_SZ)
        ffmpeg._widen(pipe)
        after = fcntl.fcntl(pipe.fileno(), F_GETPIPE_SZ)
    with open("/proc/sys/fs/pipe-max-size") as f:
        allowed = int(f.read())
    assert after >= min(ffmpeg.PIPE_BYTES, max(allowed, before)) and after > before


@pytest.mark.parametrize("log, status, words", [
    ("[out] Error writing trailer: No space left on device\n", 1, "not enough space"),
    ("Input #0\nfoo.ogg: Invalid data found when processing input\n", 1, "Invalid data found"),
    ("[out] Error writing trailer: File too large\n", 1, "file-size limit"),
    ("", -getattr(signal, "SIGXFSZ", 25), "file-size limit"),
])
def test_a_failure_is_the_line_a_person_can_act_on(log, status, words):
    assert words in ffmpeg.failure(log, status)


# ---------------------------------------------------------------- only local files, never the network

class Listener:
    """A real TCP listener on 127.0.0.1 that counts the connections it is offered."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    found = Listener()
    yield found
    found.close()


def _decoy(folder: Path) -> None:
    """A real 3-second sound at `folder`'s relative path, so the local name exists beside the script."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=3", "-f", "wav", str(folder)],
                   check=True)


SHARED = """
voicecoach: 1
title: Shared
{background}
steps:
  - say: Let your shoulders soften.
  - pause: 2
"""


@pytest.mark.parametrize("protocol", ["http", "tcp"])
@pytest.mark.parametrize("command, given", [("export", "key"), ("export", "option"), ("show", "key")])
def test_a_shared_script_or_bed_option_opens_no_network(tmp_path, monkeypatch, listener, protocol, given, command):
    # The name normalises to `http:/127.0.0.1:PORT/bed`, which exists as a local folder shipped beside the
    # script; handed to ffmpeg as a relative name, ffmpeg fetched the remote audio instead.
    name = f"{protocol}://127.0.0.1:{listener.port}/bed"
    _decoy(tmp_path / f"{protocol}:" / f"127.0.0.1:{listener.port}" / "bed")
    background = f"background: {name!r}" if given == "key" else ""
    (tmp_path / "shared.yaml").write_text(SHARED.format(background=background), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["--cache-dir", str(tmp_path / "cache"), command, "shared.yaml"]
    args += ["-o", "out.mp3"] if command == "export" else []
    args += ["--background", name] if given == "option" else []
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert listener.connections == 0
    # The local file of that name is what is used: it exists, so the command works.
    assert result.exit_code == 0, result.output


def test_ffmpeg_itself_refuses_any_protocol_but_files_and_pipes(tmp_path, listener):
    # Whatever name reaches run(), ffmpeg is told to open nothing but local files and its pipes.
    with pytest.raises(VoicecoachError):
        ffmpeg.run(["-i", f"http://127.0.0.1:{listener.port}/x.wav", "-f", "null", "-"])
    assert listener.connections == 0


def test_every_file_ffmpeg_gets_is_absolute_and_only_local():
    args = ffmpeg.confined(["-f", "ffmetadata", "-i", "tcp:x", "-i", "pipe:0", "-c:a", "aac", "http:/h/out.m4a"])
    assert args[args.index("pipe:0") - 3: args.index("pipe:0")] == ["-protocol_whitelist", "file,pipe", "-i"]
    files = [args[i + 1] for i, a in enumerate(args) if a == "-i" and args[i + 1] != "pipe:0"] + [args[-1]]
    assert all(os.path.isabs(f) for f in files)
    assert args.count("-protocol_whitelist") == 3


STARTS_FFMPEG = """
import sys, time
sys.path.insert(0, sys.argv[1])
from voicecoach.audio import ffmpeg
run = ffmpeg.Started()          # waits for its input, as mastering's head start leaves it
print(run._proc.pid, flush=True)
time.sleep(60)
"""


def test_an_ffmpeg_run_dies_with_the_process_that_started_it(tmp_path):
    child = subprocess.Popen([os.sys.executable, "-c", STARTS_FFMPEG, str(Path(__file__).parents[1])],
                             stdout=subprocess.PIPE, text=True)
    try:
        pid = int(child.stdout.readline())
        # It is ffmpeg itself (setpriv, when used, becomes it within a few milliseconds), waiting for input.
        for _ in range(500):
            if Path(f"/proc/{pid}/comm").read_text().strip() == "ffmpeg":
                break
            threading.Event().wait(0.01)
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "ffmpeg"
        child.kill()
        child.wait()
        for _ in range(500):
            if not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
                break
            threading.Event().wait(0.01)
        else:
            pytest.fail("ffmpeg outlived the process that started it")
    finally:
        child.kill()
        child.wait()


def test_ffmpeg_starts_without_forking_voicecoach_through_a_setpriv_with_a_parent_death_signal(tmp_path, monkeypatch):
    # A preexec_fn makes Python fork the whole process (numpy, the session's sounds) for every run: 2.8 ms
    # at 160 MB against 0.3 ms for vfork, and the parent's pages are copied again as it writes them. A
    # stand-in setpriv (which says it has --pdeathsig, and runs the command it is given) makes this the same
    # on every machine.
    setpriv = tmp_path / "setpriv"
    setpriv.write_text('#!/bin/sh\nif [ "$1" = --help ]; then echo " --pdeathsig <sig>"; exit 0; fi\n'
                       'shift 2\nexec "$@"\n')
    setpriv.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    ffmpeg._setpriv.cache_clear()
    seen = []
    real = subprocess.Popen

    def popen(command, **kwargs):
        seen.append((command, kwargs.get("preexec_fn")))
        return real(command, **kwargs)
    monkeypatch.setattr(ffmpeg.subprocess, "Popen", popen)
    try:
        samples = ffmpeg.np.arange(2400, dtype=ffmpeg.np.int16)
        assert ffmpeg.np.array_equal(ffmpeg.filtered(samples, "anull"), samples)
        assert ffmpeg.np.array_equal(ffmpeg.Started(samples).result("anull"), samples)
    finally:
        ffmpeg._setpriv.cache_clear()
    runs = [(command, preexec) for command, preexec in seen if command[1:] != ["--help"]]   # its help, once
    assert len(runs) == 2 and len(seen) == 3
    for command, preexec in runs:
        assert preexec is None
        assert command[:3] == [str(setpriv), "--pdeathsig", "KILL"]
        assert os.path.basename(command[3]) == "ffmpeg"


def test_a_setpriv_without_a_parent_death_signal_is_not_used(tmp_path, monkeypatch):
    # util-linux took --pdeathsig in 2.33 (2018); with an older setpriv first on the PATH every ffmpeg run
    # had failed ("Try 'setpriv --help'"), blamed on ffmpeg.
    old = tmp_path / "setpriv"
    old.write_text("#!/bin/sh\necho \"setpriv: unrecognized option '--pdeathsig'\" >&2\nexit 1\n")
    old.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    ffmpeg._setpriv.cache_clear()
    try:
        command, preexec = ffmpeg.dying_with_us(["ffmpeg", "-version"])
        assert command == ["ffmpeg", "-version"] and preexec is not None
        samples = ffmpeg.np.arange(2400, dtype=ffmpeg.np.int16)
        assert ffmpeg.np.array_equal(ffmpeg.filtered(samples, "anull"), samples)
    finally:
        ffmpeg._setpriv.cache_clear()
