"""Speech: turning phrases into samples with pyttsx3, in worker processes that cannot hang us."""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .errors import VoicecoachError

RATE = 24_000                 # internal sample rate: 24 samples per millisecond, exactly
SAMPLES_PER_MS = RATE // 1000
DEFAULT_RATE_WPM = 140        # calm: slower than espeak's 175
DEFAULT_VOLUME = 1.0
# |sample| at or above this (about -42 dBFS) counts as audible; trimming to it
# makes a cue's first audible sample land on its scheduled time.
AUDIBLE = 256
PHRASE_TIMEOUT = float(os.environ.get("VOICECOACH_TTS_TIMEOUT", "30"))

INSTALL_HINT = ("no speech engine found: install espeak-ng "
                "(Debian/Ubuntu: sudo apt-get install espeak-ng) and pyttsx3 (pip install pyttsx3)")


@dataclass(frozen=True)
class Voice:
    """Everything that decides how a phrase sounds (and so its cache key)."""
    engine: str = "pyttsx3"
    name: str | None = None          # engine voice id; None is the engine's default
    rate: int = DEFAULT_RATE_WPM     # words per minute
    volume: float = DEFAULT_VOLUME   # 0..1

    def identity(self) -> dict:
        return {"engine": self.engine, "voice": self.name or "", "rate": int(self.rate),
                "volume": round(float(self.volume), 3)}


def samples_to_ms(n: int) -> int:
    """Length in whole milliseconds that `n` samples occupy (rounded up)."""
    return -(-n // SAMPLES_PER_MS)


def to_internal(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono int16 at any rate -> int16 at RATE with leading and trailing silence trimmed."""
    x = np.asarray(samples, dtype=np.int16)
    if rate != RATE and len(x):
        import soxr  # a well-kept, fast, high-quality resampler
        y = soxr.resample(x.astype(np.float32), rate, RATE, quality="HQ")
        x = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    loud = np.flatnonzero(np.abs(x.astype(np.int32)) >= AUDIBLE)
    if not len(loud):
        return np.zeros(0, dtype=np.int16)
    return np.ascontiguousarray(x[loud[0]: loud[-1] + 1])


def _read_wav(path, expected_rate: int | None) -> tuple[np.ndarray, int]:
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise VoicecoachError(f"the speech engine wrote {8 * w.getsampwidth()}-bit audio; expected 16-bit")
        frames = w.readframes(w.getnframes())
        channels, rate = w.getnchannels(), w.getframerate()
    x = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1).astype(np.int16)
    # pyttsx3 writes a 22050 Hz header whatever the voice; MBROLA voices are 16 kHz.
    return x, expected_rate or rate


def _true_rate(voice_id: str | None) -> int | None:
    if voice_id and ("mb-" in voice_id or voice_id.startswith("mb/")):
        return 16_000
    return None


# ---------------------------------------------------------------- worker side

# On Linux pyttsx3 drives espeak-ng, whose driver can write into memory; other drivers need a path.
_IN_MEMORY = sys.platform.startswith("linux")


def _open_engine(voice: Voice):
    import pyttsx3
    engine = pyttsx3.init("espeak") if sys.platform.startswith("linux") else pyttsx3.init()
    if voice.name:
        engine.setProperty("voice", voice.name)
    engine.setProperty("rate", int(voice.rate))
    engine.setProperty("volume", float(voice.volume))
    if sys.platform.startswith("linux"):
        _keep_settings(engine)
    return engine


def _keep_settings(engine) -> None:
    """Stop runAndWait from cancelling the settings we just made."""
    # runAndWait calls the driver's stop(), which Cancel()s espeak-ng's command queue
    # whenever that queue is still busy, here with our voice, rate and volume: about
    # one phrase in a hundred came out at the driver's default 200 wpm under load.
    # This engine speaks exactly one phrase, so there is never anything to stop.
    engine.proxy._driver.stop = lambda: None


def _render_worker(voice: Voice, text: str, store: Callable, conn, timeout: float) -> None:
    """Child process: render one text with a fresh engine, hand it to `store`, report on `conn`."""
    # pyttsx3 prints "Audio saved to ..." for every file; keep our stdout clean.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        if voice.engine != "pyttsx3":
            from .engines import engine as named_engine
            samples, rate = named_engine(voice.engine).synthesise(voice, text, timeout)
        else:
            engine = _open_engine(voice)
            finished = threading.Event()
            engine.connect("finished-utterance", lambda name=None, completed=True: finished.set())
            samples, rate = _synthesise(engine, finished, text, timeout, _true_rate(voice.name))
        clip = to_internal(samples, rate)
        if not len(clip) and any(c.isalnum() for c in text):
            # Words that came out silent are an engine hiccup, not a result to cache.
            conn.send(("retry", text))
            return
        store(text, clip)
        conn.send(("done", text))
    except BaseException as e:  # reported to the parent, which decides what the user sees
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def speakable(text: str) -> str:
    """The text as the engine gets it: control characters (espeak-ng's in-text commands) become spaces."""
    # espeak-ng takes commands inside the text after a control character (e.g. \x01 to change
    # speed); scripts cannot contain them, and no caller of render() can smuggle them in either.
    return "".join(" " if (ord(c) < 32 or 127 <= ord(c) < 160) else c for c in text)


def _synthesise(engine, finished, text: str, timeout: float, true_rate: int | None):
    text = speakable(text)
    if _IN_MEMORY:
        # The espeak driver writes its WAV with `wave`, which takes a file object, and reports the
        # end of the utterance only after writing it: no file, no polling for a complete one.
        target = io.BytesIO()
        engine.save_to_file(text, target)
        # runAndWait sleeps 10 ms per turn of its loop and still returns before the utterance
        # ends; the finished event is the real end. This engine speaks once, so its loop may
        # run out on a daemon thread while we go on (the process exits without waiting for it).
        threading.Thread(target=engine.runAndWait, daemon=True).start()
        if not finished.wait(timeout):
            raise TimeoutError("the speech engine did not finish the phrase")
        target.seek(0)
        return _read_wav(target, true_rate)
    with tempfile.TemporaryDirectory(prefix="voicecoach-tts-") as tmp:
        path = os.path.join(tmp, "phrase.wav")
        engine.save_to_file(text, path)
        engine.runAndWait()
        # runAndWait may return before the file is written (pyttsx3 #149):
        # wait for the driver's end-of-utterance, then for a complete file.
        finished.wait(timeout)
        return _wait_for_wav(path, timeout, true_rate)


def _wait_for_wav(path: str, timeout: float, true_rate: int | None):
    deadline = time.monotonic() + timeout
    last_size = -1
    while True:
        try:
            size = os.path.getsize(path)
            if size == last_size and size >= 44:
                return _read_wav(path, true_rate)
            last_size = size
        except (OSError, EOFError, wave.Error):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the speech engine wrote no complete file")
        time.sleep(0.002)


def _voices_worker(conn) -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    try:
        import pyttsx3
        engine = pyttsx3.init("espeak") if sys.platform.startswith("linux") else pyttsx3.init()
        voices = [(v.id, v.name, list(v.languages or []), v.gender) for v in engine.getProperty("voices")]
        conn.send(("voices", voices))
    except BaseException as e:
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


# ---------------------------------------------------------------- parent side

def _context():
    # Fork is fast and the parent never loads espeak itself, so children start clean.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


CHECKS = {"pyttsx3": ("espeak-ng", 'espeak-ng "hello"'), "festival": ("festival", "echo hello | festival --tts"),
          "flite": ("flite", 'flite -t "hello"')}


def check_hint(engine: str) -> str:
    """How a person checks that the program behind `engine` speaks at all."""
    program, command = CHECKS.get(engine, CHECKS["pyttsx3"])
    return f"check that {program} works ({command})"


def _engine_error(message: str, engine: str = "pyttsx3") -> VoicecoachError:
    lowered = message.lower()
    if "espeak" in lowered and any(sign in lowered for sign in (
            "could not", "no such file", "oserror", "cannot open", "not found", "installed")):
        return VoicecoachError(INSTALL_HINT)
    if "modulenotfounderror" in lowered:
        return VoicecoachError(INSTALL_HINT)
    if lowered.startswith("timeouterror"):
        return VoicecoachError(f"the speech engine did not finish in time ({message.split(': ', 1)[-1]}); "
                               f"try again, or {check_hint(engine)}")
    return VoicecoachError(f"the speech engine failed: {message}")


def list_voices(timeout: float = 20.0) -> list[dict]:
    """The voices the speech engine offers: id, name, languages, gender."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_voices_worker, args=(child,), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise VoicecoachError(f"the speech engine did not list its voices within {timeout:g} s")
        kind, payload = parent.recv()
    except EOFError:
        raise VoicecoachError(INSTALL_HINT) from None
    finally:
        proc.kill()
        proc.join()
    if kind == "error":
        raise _engine_error(payload)
    return [{"id": i, "name": n, "languages": l, "gender": g} for i, n, l, g in payload]


def resolve_voice_name(name: str, voices: list[dict]) -> str:
    """The engine id for a voice given by id, name or language; an unknown one is an error."""
    wanted = name.strip().lower()
    for v in voices:
        if wanted in (v["id"].lower(), v["name"].lower()):
            return v["id"]
    for v in voices:
        if v["id"].lower().split("/")[-1] == wanted or wanted in [l.lower() for l in v["languages"]]:
            return v["id"]
    close = [v["id"] for v in voices if wanted.split("-")[0] in v["id"].lower()][:8]
    hint = f"; close ones: {', '.join(close)}" if close else ""
    raise VoicecoachError(f"there is no voice {name!r} (see `voicecoach voices`{hint})")


def render(voice: Voice, texts: Iterable[str], store: Callable[[str, np.ndarray], None],
           *, workers: int | None = None, timeout: float | None = None,
           progress: Callable[[str], None] | None = None) -> None:
    """Render every text with `voice`, calling `store(text, samples)` in worker processes."""
    texts = list(dict.fromkeys(texts))
    if not texts:
        return
    if voice.engine != "pyttsx3":
        from .engines import engine as named_engine
        named_engine(voice.engine).require()   # one line naming what to install, before any worker starts
    else:
        try:
            # Loaded once here, engine not started, so each forked worker skips the imports and the
            # loading of libespeak-ng (they were most of a worker's start-up).
            import pyttsx3  # noqa: F401
            if _IN_MEMORY:
                import pyttsx3.drivers.espeak  # noqa: F401
        except (ImportError, OSError, RuntimeError):   # pyttsx3 raises RuntimeError when libespeak-ng is missing
            raise VoicecoachError(INSTALL_HINT) from None
    # soxr's first call in a process builds its tables; doing it here spares every worker.
    to_internal(np.full(256, 1000, np.int16), 22_050)
    timeout = PHRASE_TIMEOUT if timeout is None else timeout
    # A worker spends much of its short life waiting (on its start, on espeak-ng's thread), so two
    # per core keep the cores busy (benchmarks/README.md has the figures).
    n = max(1, min(workers or 2 * (os.cpu_count() or 1), len(texts)))
    # espeak-ng carries state from one utterance to the next, so the same phrase
    # comes out a few samples different after other phrases. One fresh engine per
    # phrase makes every render of a phrase identical, whatever was rendered before.
    queue = sorted(texts, key=len, reverse=True)
    ctx = _context()
    running: dict = {}   # connection -> (process, text, deadline)
    retries: dict = {}
    try:
        while queue or running:
            while queue and len(running) < n:
                text = queue.pop(0)
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_render_worker, args=(voice, text, store, child, timeout), daemon=True)
                proc.start()
                child.close()
                running[parent] = (proc, text, time.monotonic() + timeout + 5)
            soonest = min(deadline for _, _, deadline in running.values())
            ready = wait_for(list(running), timeout=max(0.0, soonest - time.monotonic()))
            if not ready:
                stuck = min(running.values(), key=lambda r: r[2])[1]
                raise VoicecoachError(
                    f"the speech engine did not finish {stuck[:60]!r} within {timeout:g} s; "
                    f"try again, or {check_hint(voice.engine)}")
            for conn in ready:
                proc, text, _ = running.pop(conn)
                try:
                    kind, payload = conn.recv()
                except EOFError:
                    kind, payload = "error", f"the worker for {text[:60]!r} stopped unexpectedly"
                conn.close()
                proc.join()
                if kind == "error":
                    raise _engine_error(payload, voice.engine)
                if kind == "retry":
                    retries[text] = retries.get(text, 0) + 1
                    if retries[text] > 2:
                        raise VoicecoachError(f"the speech engine gave no sound for {text[:60]!r}; "
                                              f"{check_hint(voice.engine)}")
                    queue.append(text)
                    continue
                if progress:
                    progress(payload)
    finally:
        for proc, _, _ in running.values():
            proc.kill()
            proc.join()
