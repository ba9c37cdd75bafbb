"""The speech engine interface: every engine (one file each in engines/) implements it in full.

An engine says whether it is installed, lists and resolves its voices, and turns text into
samples at a rate it reports. `synthesise` runs inside a worker process that the pool starts
(speech/pool.py) with a timeout; `warm_up` runs once in the parent before any worker starts, so
what it loads is shared by every worker. Its audio enters the cache through clip.to_internal,
so nothing past speech/ knows which engine spoke.
"""

from __future__ import annotations

import ctypes
import difflib
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from voicecoach.errors import VoicecoachError, shown
from voicecoach.speech.clip import read_wav, speakable
from voicecoach.speech.voice import Voice


def worker_context():
    """The multiprocessing context speech workers start in."""
    # Fork is fast, and the parent loads only what warm_up shares, so children start clean.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Have the kernel kill this process when its parent dies, even by SIGKILL (Linux; elsewhere nothing)."""
    # A worker blocked on its pipe outlived a parent killed with SIGKILL (measured: 12 piper workers of
    # about 245 MB each, adopted by PID 1, alive until killed by hand); nothing in Python runs on SIGKILL.
    # The signal comes when the *thread* that forked us ends: the pool's caller (play's render-ahead
    # thread, say) returns only after every worker it started has ended, so that is never too early.
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)         # the parent died before the request took hold: nobody is left to serve


@dataclass(frozen=True)
class EngineVoice:
    """One voice of one engine, as `voicecoach voices` lists it."""
    engine: str
    id: str
    name: str
    languages: tuple[str, ...] = ()
    best: bool = False        # the engine's most natural voice
    sound: str = ""           # one line on how it sounds, for `voicecoach voices`

    @property
    def spec(self) -> str:
        return f"{self.engine}:{self.id}"


class Engine:
    """One speech engine: install state, voices, and text -> samples at a known rate."""
    name = ""                 # as in --voice NAME:VOICE
    install = ""              # the command that installs it
    program = ""              # the program behind it, as messages name it
    check = ""                # a command that shows whether that program speaks at all
    best_voice: str | None = None
    native_wpm = 175          # the engine's own speaking rate, so a wpm rate maps to its stretch
    main: tuple[str, ...] | None = None   # the voices worth comparing by ear; None: all of them
    revision = 1              # bump when the same settings come out sounding different: cached phrases are made anew
    reuse_worker = False      # True: one worker process may render many phrases (the engine keeps no state)
    per_core = 2              # worker processes per core: one that mostly waits (on a program it runs) wants two

    def installed(self) -> bool:
        """Whether this engine can speak on this machine."""
        raise NotImplementedError

    def voices(self) -> list[EngineVoice]:
        """Every voice it has here."""
        raise NotImplementedError

    def synthesise(self, voice: Voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        """Mono int16 samples and their true rate for `text` (called in a worker process)."""
        raise NotImplementedError

    def warm_up(self, voice: Voice) -> None:
        """Load, once and before any worker starts, what every worker would otherwise load itself."""

    def server(self, voice: Voice) -> tuple[list[str], int] | None:
        """(a command that renders `voice`'s phrases on request, speaking speech/espeak_server.py's protocol, and
        the rate of the samples it sends), or None: the pool starts worker processes that call `synthesise`."""
        return None

    def require(self) -> None:
        """An error naming what to install when the engine is missing."""
        if not self.installed():
            raise VoicecoachError(f"the speech engine {shown(self.name)} is not installed: {self.install}")

    def check_hint(self) -> str:
        """How a person checks that the program behind this engine speaks at all."""
        return f"check that {self.program or self.name} works ({self.check})"

    def failure(self, message: str) -> VoicecoachError | None:
        """A message for people for what a worker reported, when this engine knows better than the pool."""
        return None

    def resolve(self, wanted: str | None) -> str | None:
        """The voice id for a name the user gave (id, short name or language); unknown ones are errors."""
        if not wanted:
            return None
        voices = self.voices()
        w = wanted.strip().lower()
        for v in voices:
            if w in (v.id.lower(), v.name.lower()):
                return v.id
        for v in voices:
            if w in v.id.lower().split("_") or w in (lang.lower() for lang in v.languages):
                return v.id
        if not voices:
            raise VoicecoachError(f"{self.name} has no voice {shown(wanted)}; it has no voices installed")
        spellings = {v.name.lower(): v.name.lower() for v in voices if " " not in v.name}
        spellings.update({v.id.lower(): v.id for v in voices})
        close = difflib.get_close_matches(w, list(spellings), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(f'{self.name}:{spellings[c]}' for c in close)}? " if close else ""
        short = ", ".join(dict.fromkeys(v.name.lower() if " " not in v.name else v.id for v in voices))
        raise VoicecoachError(f"{self.name} has no voice {shown(wanted)}; {hint}pick one of: {short}")

    def _run(self, args: list[str], text: str, timeout: float) -> tuple[np.ndarray, int]:
        """Run the engine with {text} and {wav} in `args` standing for a text file and the WAV it writes."""
        # Files, not pipes: both engines seek back to finish the WAV header, and a pipe cannot.
        with tempfile.TemporaryDirectory(prefix="voicecoach-tts-") as tmp:
            src, wav = os.path.join(tmp, "phrase.txt"), os.path.join(tmp, "phrase.wav")
            Path(src).write_text(speakable(text), encoding="utf-8")
            try:
                # The program goes with its worker, which goes with voicecoach (die_with_parent).
                done = subprocess.run([a.format(text=src, wav=wav) for a in args], capture_output=True,
                                      timeout=timeout, check=False,
                                      preexec_fn=partial(die_with_parent, os.getpid()))
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"{self.name} did not finish the phrase") from None
            except FileNotFoundError:
                raise VoicecoachError(f"the speech engine {shown(self.name)} is not installed: {self.install}") from None
            if done.returncode != 0 or not os.path.exists(wav):
                raise VoicecoachError(f"{self.name} failed: {done.stderr.decode(errors='replace').strip()[:200]}")
            # These engines write their true rate in the header (16 kHz flite, 32 kHz slt-hts, ...).
            return read_wav(wav, None)
