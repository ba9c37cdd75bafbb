"""pyttsx3 driving espeak-ng: over a hundred voices and languages, fast, and clearly synthetic."""

from __future__ import annotations

import difflib
import io
import os
import sys
import tempfile
import threading
import time
import wave

import numpy as np

from voicecoach.errors import VoicecoachError, shown
from voicecoach.speech import espeak_server
from voicecoach.speech.clip import read_wav, speakable
from voicecoach.speech.engine import Engine, EngineVoice, worker_context
from voicecoach.speech.voice import Voice

INSTALL_HINT = ("no speech engine found: install espeak-ng "
                "(Debian/Ubuntu: sudo apt-get install espeak-ng) and pyttsx3 (pip install pyttsx3)")


def _true_rate(voice_id: str | None) -> int | None:
    if voice_id and ("mb-" in voice_id or voice_id.startswith("mb/")):
        return 16_000
    return None


# On Linux pyttsx3 drives espeak-ng, whose driver can write into memory; other drivers need a path.
_IN_MEMORY = sys.platform.startswith("linux")


# espeak-ng 1.51 (Debian 12, Ubuntu 22.04) opens its audio device in espeak_Initialize whatever the
# output mode, even AUDIO_OUTPUT_RETRIEVAL, which only hands samples to a callback (1.52 opens it only
# for playback, upstream commit cd0dd090): pcaudiolib tries the PulseAudio server first, so every
# render connected to it (a TCP connection with PULSE_SERVER=tcp:...). No mode or ctypes call avoids
# that create_audio_device_object, so the worker, which only ever retrieves samples, names a server
# that libpulse itself skips before making any socket: a "{machine-id}" prefix that matches no
# machine means "not this host", and a named server turns off autospawn. The samples are unchanged.
NO_SOUND_SERVER = espeak_server.NO_SOUND_SERVER


def _no_sound_server() -> None:
    """Keep espeak-ng's start-up from reaching a sound server, in this (worker) process only."""
    os.environ["PULSE_SERVER"] = NO_SOUND_SERVER


def _open_engine(voice: Voice):
    import pyttsx3
    _no_sound_server()
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
        return read_wav(target, true_rate)
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
                return read_wav(path, true_rate)
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
        _no_sound_server()
        engine = pyttsx3.init("espeak") if sys.platform.startswith("linux") else pyttsx3.init()
        voices = [(v.id, v.name, list(v.languages or []), v.gender) for v in engine.getProperty("voices")]
        conn.send(("voices", voices))
    except BaseException as e:
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def list_voices(timeout: float = 20.0) -> list[dict]:
    """The voices the speech engine offers: id, name, languages, gender."""
    ctx = worker_context()
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
        raise Pyttsx3().failure(payload) or VoicecoachError(f"the speech engine failed: {payload}")
    return [{"id": i, "name": n, "languages": l, "gender": g} for i, n, l, g in payload]


def resolve_voice_name(name: str, voices: list[dict]) -> str:
    """The engine id for a voice given by id, name or language; an unknown one is an error."""
    wanted = name.strip().lower()
    for v in voices:
        if wanted in (v["id"].lower(), v["name"].strip().lower()):     # espeak-ng's "Cherokee " ends in a space
            return v["id"]
    for v in voices:
        if v["id"].lower().split("/")[-1] == wanted or wanted in [l.lower() for l in v["languages"]]:
            return v["id"]
    # By edit distance over the short ids (en-us) and the full ones (gmw/en-us), nearest first.
    spellings = {v["id"].lower().split("/")[-1]: v["id"] for v in voices}
    spellings.update({v["id"].lower(): v["id"] for v in voices})
    close = list(dict.fromkeys(spellings[c] for c in difflib.get_close_matches(wanted, list(spellings), n=3, cutoff=0.6)))
    hint = f"did you mean {' or '.join(map(_listed(voices), close))}? " if close else ""
    raise VoicecoachError(f"there is no voice {shown(name)}; {hint}`voicecoach voices --all` lists every one")


def _listed(voices: list[dict]):
    """id -> the spec `voicecoach voices --all` shows for that voice (espeak:lojban, espeak:gmw/en-gb-x-rp)."""
    from voicecoach.speech.engines import short_spec
    listed = [EngineVoice("pyttsx3", v["id"], v["name"], tuple(v["languages"])) for v in voices]
    by_id = {v.id: v for v in listed}
    return lambda ident: short_spec(by_id[ident], listed)


# pyttsx3 offers over a hundred espeak-ng voices; a sample of each language would bury the
# comparison, so samples use the English ones a listener would pick between.
PYTTSX3_MAIN = ("gmw/en", "gmw/en-us", "gmw/en-gb-x-rp", "gmw/en-gb-scotland")


SOUND = "espeak-ng: fast and clear, plainly robotic"
# What pyttsx3's espeak driver loads on Linux, in its order (Debian's libespeak-ng1 is the first).
ESPEAK_LIBRARIES = ("libespeak-ng.so.1", "/usr/local/lib/libespeak-ng.so.1", "libespeak.so.1")


class Pyttsx3(Engine):
    name = "pyttsx3"
    install = "sudo apt-get install espeak-ng, and pip install pyttsx3"
    program = "espeak-ng"
    check = 'espeak-ng "hello"'
    main = PYTTSX3_MAIN

    def installed(self) -> bool:
        try:
            import pyttsx3  # noqa: F401
        except ImportError:
            return False
        if sys.platform.startswith("linux"):
            # Loaded by the names pyttsx3's driver loads it by: find_library runs `ldconfig -p` (a process,
            # twice an export), and the library is loaded for the workers anyway.
            import ctypes
            for name in ESPEAK_LIBRARIES:
                try:
                    ctypes.CDLL(name)
                    return True
                except OSError:
                    continue
            return False
        import ctypes.util
        return ctypes.util.find_library("espeak-ng") is not None or not os.path.isdir("/usr/lib")

    def voices(self) -> list[EngineVoice]:
        return [EngineVoice(self.name, v["id"], v["name"], tuple(v["languages"]), sound=SOUND) for v in list_voices()]

    def resolve(self, wanted: str | None) -> str | None:
        return resolve_voice_name(wanted, list_voices()) if wanted else None

    def require(self) -> None:
        if not self.installed():
            raise VoicecoachError(INSTALL_HINT)

    def warm_up(self, voice: Voice) -> None:
        try:
            # Loaded once here, engine not started, so each forked worker skips the imports and the
            # loading of libespeak-ng (they were most of a worker's start-up).
            import pyttsx3  # noqa: F401
            if _IN_MEMORY:
                import pyttsx3.drivers.espeak  # noqa: F401
        except (ImportError, OSError, RuntimeError):   # pyttsx3 raises RuntimeError when libespeak-ng is missing
            raise VoicecoachError(INSTALL_HINT) from None

    def server(self, voice: Voice) -> tuple[list[str], int] | None:
        # On Linux every phrase is forked from a small process that started espeak-ng once
        # (speech/espeak_server.py): the same samples as synthesise below, for about a third of the work.
        if not _IN_MEMORY:
            return None
        return (espeak_server.command(voice.name, voice.rate, voice.volume),
                _true_rate(voice.name) or espeak_server.RATE)

    def synthesise(self, voice: Voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        # espeak-ng carries state from one utterance to the next, so the same phrase comes out a few
        # samples different after other phrases: the pool gives every phrase a fresh process, and
        # this a fresh engine, so every render of a phrase is identical whatever came before.
        engine = _open_engine(voice)
        finished = threading.Event()
        engine.connect("finished-utterance", lambda name=None, completed=True: finished.set())
        return _synthesise(engine, finished, text, timeout, _true_rate(voice.name))

    def failure(self, message: str) -> VoicecoachError | None:
        lowered = message.lower()
        if "espeak" in lowered and any(sign in lowered for sign in (
                "could not", "no such file", "oserror", "cannot open", "not found", "installed")):
            return VoicecoachError(INSTALL_HINT)
        if "modulenotfounderror" in lowered:
            return VoicecoachError(INSTALL_HINT)
        return None


ENGINE = Pyttsx3()
