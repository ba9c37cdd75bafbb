"""Running ffmpeg: our int16 samples streamed to its stdin, its log read back, and it dies with us."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Callable, Iterable, cast

import numpy as np

from voicecoach.errors import VoicecoachError
from voicecoach.files import FILE_SIZE_LIMIT
from voicecoach.units import RATE

if TYPE_CHECKING:
    from typing_extensions import Buffer

# Raw mono int16 at our internal rate, read from stdin.
PCM_INPUT = ["-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0"]
# The same as a WAV stream (see wav_header): ffmpeg's WAV reader takes twice the samples per packet
# that its raw reader does, which made a 30-minute MP3 encode 3-5 % faster.
WAV_INPUT = ["-f", "wav", "-i", "pipe:0"]


def wav_header(samples: int) -> bytes:
    """The 44-byte header of a mono 16-bit WAV at RATE holding `samples` samples."""
    size = 2 * samples
    return (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16) + b"data" + struct.pack("<I", size))


def stream_input(samples: int) -> tuple[list[str], bytes]:
    """(ffmpeg input arguments, bytes to send first) for streaming `samples` int16 samples to stdin."""
    if 2 * samples + 36 < 1 << 32:
        return WAV_INPUT, wav_header(samples)
    return PCM_INPUT, b""       # beyond what a WAV header can count (24.8 hours): raw
INSTALL_HINT = "this needs ffmpeg: install it (Debian/Ubuntu: sudo apt-get install ffmpeg)"


def _die_with_parent():  # pragma: no cover - runs in the child between fork and exec
    # PR_SET_PDEATHSIG: if we are killed (even with SIGKILL) ffmpeg goes too, instead of
    # finishing a file nobody will rename.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


@lru_cache(maxsize=1)
def _setpriv() -> str | None:
    found = shutil.which("setpriv")
    if found is None:
        return None
    # util-linux's setpriv took --pdeathsig in 2.33 (2018); an older one, or busybox's, would fail every run.
    # Its help says whether it has it, without running another program (an export runs ffmpeg and no other).
    try:
        said = subprocess.run([found, "--help"], stdin=subprocess.DEVNULL, capture_output=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return found if b"--pdeathsig" in said else None


def dying_with_us(command: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    """(command, preexec_fn) that start `command` so that it is killed with the thread that starts it (Linux)."""
    if not sys.platform.startswith("linux"):
        return command, None
    # util-linux's setpriv sets the parent-death signal and execs ffmpeg, so Python can start it with vfork.
    # A preexec_fn makes it fork the whole process instead: 2.8 ms against 0.3 ms at 160 MB (a cold export
    # starts ffmpeg four times from a parent of 150-200 MB), and every page the parent then writes is
    # copied once more.
    setpriv = _setpriv()
    if setpriv is not None:
        return [setpriv, "--pdeathsig", "KILL", *command], None
    return command, _die_with_parent


def executable() -> str:
    """The ffmpeg program, or a clear error when it is missing."""
    found = shutil.which("ffmpeg")
    if found is None:
        raise VoicecoachError(INSTALL_HINT)
    return found


PIPE_BYTES = 1 << 20          # 22 s of our audio: a whole block waits in the pipe while the next is made


def _widen(pipe: IO[bytes]) -> None:
    """Let the pipe to ffmpeg hold a whole block (Linux; elsewhere, or past the system's limit, it stays as it is)."""
    # With the usual 64 KiB (1.4 s of audio, 2 ms of LAME's work) ffmpeg sat idle while the next block was
    # made: an hour's bed, made in 0.9 s, added 0.9 s to the export.
    try:
        import fcntl
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError):
        pass


# ffmpeg reads any name with a `word:` prefix as a URL (`http:`, `tcp:`, `ftp:` ... even when a local
# folder of that name exists): a script handed to a user could name its "bed" so that an export opens
# the network. Only our pipes and local files are ever allowed, and every file goes by its absolute path.
ONLY_LOCAL = ["-protocol_whitelist", "file,pipe"]
_PIPES = {"-", "pipe:0", "pipe:1"}


def confined(args: list[str]) -> list[str]:
    """`args` with every input and the output (the last argument) as an absolute local path, each under the
    file-and-pipe whitelist."""
    out: list[str] = []
    last = len(args) - 1
    for i, arg in enumerate(args):
        if arg == "-i" or i == last:
            out += ONLY_LOCAL
        if ((i > 0 and args[i - 1] == "-i") or i == last) and arg not in _PIPES:
            arg = local_name(arg)
        out.append(arg)
    return out


def local_name(path) -> str:
    """The name ffmpeg reads as the local file `path`: absolute, so that no prefix of it is taken for a protocol."""
    # An absolute name starts with '/', which is not a protocol's character: ffmpeg reads it as a file.
    return os.path.abspath(os.fsdecode(path))


def run(args: list[str], feed: Iterable[np.ndarray] | None = None,
        progress: Callable[[int], None] | None = None, stdout: IO[bytes] | None = None, head: bytes = b"") -> str:
    """Run ffmpeg with `args`, writing `head` and then each block of `feed` to its stdin (and its stdout to
    `stdout`); return its log."""
    command, preexec = dying_with_us([executable(), "-hide_banner", "-nostats", "-y"]
                                     + ([] if feed is not None else ["-nostdin"]) + confined(args))
    with tempfile.TemporaryFile() as log:   # a file, not a pipe: a chatty ffmpeg cannot block us
        proc = subprocess.Popen(command, stdin=subprocess.PIPE if feed is not None else subprocess.DEVNULL,
                                stdout=stdout if stdout is not None else subprocess.DEVNULL, stderr=log,
                                preexec_fn=preexec)
        try:
            if feed is not None:
                stdin = proc.stdin
                if stdin is None:   # cannot happen: stdin is a pipe whenever there is a feed
                    raise VoicecoachError("ffmpeg was started without a pipe to its stdin")
                _widen(stdin)
                try:
                    if head:
                        stdin.write(head)
                    for block in feed:
                        # numpy's stubs only declare __buffer__ for Python 3.12+; an int16 array is a buffer.
                        stdin.write(memoryview(cast("Buffer", np.ascontiguousarray(block, dtype="<i2"))).cast("B"))
                        if progress:
                            progress(len(block))
                    stdin.close()
                except BrokenPipeError:
                    pass        # ffmpeg stopped reading; its exit status and log say why
            status = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            try:
                proc.stdin and proc.stdin.close()
            except OSError:
                pass
            raise
        log.seek(0)
        text = log.read().decode("utf-8", errors="replace")
    if status != 0:
        raise VoicecoachError(failure(text, status))
    return text


PROBE_TIMEOUT_S = 30


def audio_streams(path) -> list[dict]:
    """The audio streams of the local file `path` as ffprobe reads them (codec_name, sample_rate, channels)."""
    found = shutil.which("ffprobe")     # installed with ffmpeg
    if found is None:
        raise VoicecoachError(INSTALL_HINT)
    try:
        command, preexec = dying_with_us([found, "-v", "error", *ONLY_LOCAL, "-select_streams", "a", "-show_entries",
                                          "stream=codec_name,sample_rate,channels", "-of", "json", local_name(path)])
        done = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL,
                              preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        raise VoicecoachError(f"ffprobe did not finish reading it in {PROBE_TIMEOUT_S} s") from None
    text = done.stderr.decode("utf-8", errors="replace")
    if done.returncode != 0:
        raise VoicecoachError(failure(text, done.returncode))
    try:
        streams = json.loads(done.stdout or b"{}").get("streams", [])
    except ValueError:
        raise VoicecoachError("ffprobe gave an answer that is not JSON") from None
    return [s for s in streams if isinstance(s, dict)]


def filtered(samples: np.ndarray, graph: str) -> np.ndarray:
    """int16 samples at RATE through the ffmpeg filter `graph`, back as int16 samples."""
    with tempfile.TemporaryFile() as out:   # a file: ffmpeg's output never has to fit in a pipe
        run(PCM_INPUT + ["-af", graph, "-f", "s16le", "pipe:1"], feed=[samples], stdout=out)
        out.seek(0)
        return np.frombuffer(out.read(), dtype="<i2").astype(np.int16)


class Started:
    """int16 samples at RATE on their way through an ffmpeg filter graph that is given later (`result`).

    ffmpeg takes about 50 ms to start before it reads anything (measured: `ffmpeg -version` alone), as
    long as a mastering run's own work on a few minutes of sound; started early, that start-up passes
    while the caller works out the graph. The graph reaches ffmpeg through a pipe it reads as its filter
    script once it has opened its input."""

    def __init__(self, samples: np.ndarray | None = None):
        """Start ffmpeg; its input is `samples`, or what `feed` sends later (it waits for them, started)."""
        self._samples = np.zeros(0, dtype="<i2")
        self._feeding: threading.Thread | None = None
        self._out = tempfile.TemporaryFile()        # a file: ffmpeg's output never has to fit in a pipe
        self._log = tempfile.TemporaryFile()
        script, self._script = os.pipe()
        command, preexec = dying_with_us([executable(), "-hide_banner", "-nostats", "-y", *ONLY_LOCAL, *PCM_INPUT,
                                          "-filter_script:a", f"/dev/fd/{script}", "-f", "s16le", *ONLY_LOCAL,
                                          "pipe:1"])
        try:
            self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=self._out, stderr=self._log,
                                          pass_fds=(script,), preexec_fn=preexec)
        except BaseException:
            os.close(self._script)
            self._out.close()
            self._log.close()
            raise
        finally:
            os.close(script)
        if samples is not None:
            self.feed(samples)

    def feed(self, samples: np.ndarray) -> None:
        """Send ffmpeg its input (once), on a thread of its own."""
        if self._feeding is not None:
            raise ValueError("this ffmpeg run has its input already")
        self._samples = np.ascontiguousarray(samples, dtype="<i2")
        self._feeding = threading.Thread(target=self._feed, daemon=True, name="ffmpeg-feed")
        self._feeding.start()

    def _feed(self) -> None:
        stdin = cast(IO[bytes], self._proc.stdin)
        try:
            _widen(stdin)
            stdin.write(memoryview(cast("Buffer", self._samples)).cast("B"))
            stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass        # ffmpeg stopped reading (or was stopped); its exit status and log say why

    def result(self, graph: str) -> np.ndarray:
        """The samples through `graph` (an ffmpeg audio filter chain)."""
        if self._feeding is None:
            self.close()
            raise ValueError("an ffmpeg run asked for its result before it was fed")
        try:
            try:
                os.write(self._script, graph.encode())
            except BrokenPipeError:
                pass    # ffmpeg ended before reading it; its status says why
            os.close(self._script)
            self._script = -1
            status = self._proc.wait()
            self._feeding.join()
            if status != 0:
                self._log.seek(0)
                raise VoicecoachError(failure(self._log.read().decode("utf-8", errors="replace"), status))
            self._out.seek(0)
            return np.frombuffer(self._out.read(), dtype="<i2").astype(np.int16)
        finally:
            self.close()

    def close(self) -> None:
        """Stop it if it still runs (the graph was never given), and let go of its files."""
        if self._proc.poll() is None and self._script >= 0:
            self._proc.kill()
        self._proc.wait()
        if self._script >= 0:
            os.close(self._script)
            self._script = -1
        if self._feeding is not None:
            self._feeding.join()
        self._out.close()
        self._log.close()


_FULL = ("no space left on device", "disk quota exceeded")


def failure(log: str, status: int) -> str:
    """The part of ffmpeg's log a person can act on."""
    lowered = log.lower()
    # A file-size limit kills ffmpeg with SIGXFSZ (subprocess restores its default action), or fails its
    # write with EFBIG: not a full disk, and freeing space would not help.
    if "file too large" in lowered or status == -getattr(signal, "SIGXFSZ", 0):
        return FILE_SIZE_LIMIT
    if any(sign in lowered for sign in _FULL):
        return "there is not enough space to write it; free some space on the disk and try again"
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    # The last line is often encoder metadata; the line naming an error says what went wrong.
    errors = [line for line in lines if "error" in line.lower() or "invalid" in line.lower()]
    return f"ffmpeg failed: {(errors or lines or [f'exit status {status}'])[-1]}"
