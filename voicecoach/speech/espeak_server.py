"""The program the pyttsx3 engine renders espeak-ng phrases with: it starts espeak-ng once, with the voice's
settings, and forks a fresh copy of itself for each phrase.

espeak-ng carries state from one utterance to the next (benchmarks/README.md, "Tried and rejected"), so every
phrase needs an engine that has spoken nothing before: a copy forked from this process, which never speaks,
is exactly that, and it comes without starting Python, loading the library and starting the engine again.
A copy of voicecoach itself (numpy and all) cost about 14 ms of CPU a phrase, 3.5 ms of it the fork of a
large process; a copy of this small one costs about 5 ms beside the synthesis.

It imports neither numpy nor the rest of voicecoach, so that it starts in a few tens of milliseconds, and it
talks over its standard input and output only (no socket). The samples are those pyttsx3's espeak driver
writes, byte for byte (tested), in the same order of settings: the driver's defaults, then the voice's.

Requests, on standard input: `<II` (id, length) and the UTF-8 text. Replies, on standard output: `<IiI`
(id, status, length) and the payload: int16 samples at RATE for status 0, a message for status 1. Id READY
answers the start: empty when the engine started, else why it did not.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import struct
import sys

REQUEST = struct.Struct("<II")
REPLY = struct.Struct("<IiI")
READY = 0xFFFFFFFF
DONE, FAILED = 0, 1
RATE = 22_050            # what pyttsx3's espeak driver writes in its WAV header, whatever the voice
# espeak-ng 1.51 connects to a sound server as it starts, even when it only hands samples back (see
# engines/pyttsx3.py); a server name that libpulse skips without making a socket keeps it from that.
NO_SOUND_SERVER = "{voicecoach:no-sound-server}"
PR_SET_PDEATHSIG = 1


def command(voice_name: str | None, rate: int, volume: float) -> list[str]:
    """The command line that starts this program for a voice: isolated, so nothing in the current folder
    (a file named like a module) or in PYTHONPATH can stand in for the code it runs."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    settings = json.dumps({"voice": voice_name, "rate": int(rate), "volume": float(volume), "parent": os.getpid()})
    code = f"import sys; sys.path.insert(0, {package!r}); from voicecoach.speech.espeak_server import main; main()"
    return [sys.executable, "-I", "-c", code, settings]


def _die_with_parent(parent: int) -> None:
    # Gone with the process that started us, even when it is killed with SIGKILL (nothing runs then).
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _reply(fd: int, ident: int, status: int, payload: bytes) -> None:
    _write_all(fd, REPLY.pack(ident, status, len(payload)) + payload)


class _Espeak:
    """espeak-ng started in synchronous mode (no thread of its own, so a fork copies all of it), voice set."""

    def __init__(self, voice: str | None, rate: int, volume: float):
        os.environ["PULSE_SERVER"] = NO_SOUND_SERVER
        from pyttsx3.drivers import _espeak
        self.lib = _espeak
        if _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 1000) == -1:
            raise RuntimeError("could not initialize espeak")
        self.parts: list[bytes] = []
        self.finished = False
        _espeak.SetSynthCallback(self._collect)
        current = _espeak.GetCurrentVoice()
        default = current.contents.name.decode("utf-8") if current and current.contents.name else "gmw/en"
        # The driver's own start (its default voice, 200 words a minute, full volume), then the voice's.
        for name, rate_wpm, vol in ((default, 200, 1.0), (voice, rate, volume)):
            if name and _espeak.SetVoiceByName(name.encode("utf-8")) != 0:
                raise ValueError(f"SetVoiceByName failed for voice: {name}")
            _espeak.SetParameter(_espeak.RATE, int(rate_wpm), 0)
            _espeak.SetParameter(_espeak.VOLUME, int(round(vol * 100, 2)), 0)

    def _collect(self, wav, count, events) -> int:
        # As the driver does: the samples before the end-of-message event, none from the call that brings it.
        i = 0
        while events[i].type != self.lib.EVENT_LIST_TERMINATED:
            if events[i].type == self.lib.EVENT_MSG_TERMINATED:
                self.finished = True
                return 0
            i += 1
        if count > 0 and not self.finished:
            self.parts.append(ctypes.string_at(wav, count * 2))
        return 0

    def speak(self, text: bytes) -> bytes:
        """The samples of one phrase (called once, in a fresh copy of the process)."""
        self.lib.Synth(text, flags=self.lib.ENDPAUSE | self.lib.CHARS_UTF8)
        return b"".join(self.parts)


def _phrase(engine: _Espeak, ident: int, text: bytes, out: int) -> None:
    """In the forked copy: speak, reply on `out`, and end without running anything the parent set up."""
    try:
        _die_with_parent(os.getppid())
        try:
            _reply(out, ident, DONE, engine.speak(text))
        except BaseException as e:  # reported to voicecoach, which says it in one line
            _reply(out, ident, FAILED, f"{type(e).__name__}: {e}".encode("utf-8", "replace"))
    finally:
        os._exit(0)


def main() -> None:
    """Serve phrases until standard input closes."""
    settings = json.loads(sys.argv[1])
    _die_with_parent(int(settings["parent"]))
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    try:
        engine = _Espeak(settings["voice"], settings["rate"], settings["volume"])
    except BaseException as e:
        _reply(stdout, READY, FAILED, f"{type(e).__name__}: {e}".encode("utf-8", "replace"))
        return
    _reply(stdout, READY, DONE, b"")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)             # espeak-ng's warnings would only be noise in voicecoach's terminal
    selector = selectors.DefaultSelector()
    selector.register(stdin, selectors.EVENT_READ)
    pending = b""
    copies: dict[int, tuple[int, int, bytearray]] = {}      # read end -> (pid, id, what it sent so far)
    while True:
        for key, _ in selector.select():
            fd = int(key.fd)
            if fd == stdin:
                chunk = os.read(stdin, 1 << 16)
                if not chunk:
                    for pid, _, _ in copies.values():
                        os.kill(pid, signal.SIGKILL)
                    return
                pending += chunk
                while len(pending) >= REQUEST.size:
                    ident, size = REQUEST.unpack_from(pending)
                    if len(pending) < REQUEST.size + size:
                        break
                    text, pending = pending[REQUEST.size: REQUEST.size + size], pending[REQUEST.size + size:]
                    read, write = os.pipe()
                    pid = os.fork()
                    if pid == 0:
                        os.close(read)
                        _phrase(engine, ident, text, write)
                    os.close(write)
                    copies[read] = (pid, ident, bytearray())
                    selector.register(read, selectors.EVENT_READ)
                continue
            pid, ident, got = copies[fd]
            chunk = os.read(fd, 1 << 20)
            if chunk:
                got += chunk
                continue
            selector.unregister(fd)
            os.close(fd)
            del copies[fd]
            _, status = os.waitpid(pid, 0)
            if len(got) >= REPLY.size and len(got) == REPLY.size + REPLY.unpack_from(got)[2]:
                _write_all(stdout, bytes(got))
            else:
                why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {os.waitstatus_to_exitcode(status)}"
                _reply(stdout, ident, FAILED, f"RuntimeError: espeak-ng stopped ({why})".encode())


if __name__ == "__main__":
    main()
