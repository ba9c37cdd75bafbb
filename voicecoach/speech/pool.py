"""The worker pool: phrases into samples, one worker process per phrase, so a stuck engine cannot hang us."""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for
from typing import Any, Callable, Iterable, cast

import numpy as np

from voicecoach.errors import VoicecoachError
from voicecoach.speech.clip import to_internal
from voicecoach.speech.engine import Engine, worker_context
from voicecoach.speech.engines import engine as named_engine
from voicecoach.speech.voice import Voice

PHRASE_TIMEOUT = float(os.environ.get("VOICECOACH_TTS_TIMEOUT", "30"))



# ---------------------------------------------------------------- worker side


def _render_worker(engine: Engine, voice: Voice, store: Callable, conn, timeout: float, many: bool) -> None:
    """Child process: render the texts `conn` sends (one, unless `many`), hand each to `store`, report on `conn`."""
    # pyttsx3 prints "Audio saved to ..." for every file; keep our stdout clean.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        while True:
            text = conn.recv()
            if text is None:
                return
            samples, rate = engine.synthesise(voice, text, timeout)
            clip = to_internal(samples, rate)
            if not len(clip) and any(c.isalnum() for c in text):
                # Words that came out silent are an engine hiccup, not a result to cache.
                conn.send(("retry", text))
            else:
                store(text, clip)
                conn.send(("done", text))
            if not many:
                return
    except EOFError:
        return                  # the parent went away
    except BaseException as e:  # reported to the parent, which decides what the user sees
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


# ---------------------------------------------------------------- parent side

def engine_error(message: str, engine: Engine) -> VoicecoachError:
    """A worker's report of a failure, as one line for people."""
    known = engine.failure(message)
    if known is not None:
        return known
    if message.lower().startswith("timeouterror"):
        return VoicecoachError(f"the speech engine did not finish in time ({message.split(': ', 1)[-1]}); "
                               f"try again, or {engine.check_hint()}")
    return VoicecoachError(f"the speech engine failed: {message}")


def render(voice: Voice, texts: Iterable[str], store: Callable[[str, np.ndarray], None],
           *, workers: int | None = None, timeout: float | None = None,
           progress: Callable[[str], None] | None = None, in_order: bool = False,
           cancelled: Callable[[], bool] | None = None) -> None:
    """Render every text with `voice`, calling `store(text, samples)` in worker processes.

    `in_order` starts the texts in the order given (a player needs the first ones first); otherwise the
    longest start first, which finishes soonest. `cancelled()` true stops it, killing the workers."""
    texts = list(dict.fromkeys(texts))
    if not texts:
        return
    engine = named_engine(voice.engine)
    engine.require()      # one line naming what to install, before any worker starts
    engine.warm_up(voice)
    # soxr's first call in a process builds its tables; doing it here spares every worker.
    to_internal(np.full(256, 1000, np.int16), 22_050)
    timeout = PHRASE_TIMEOUT if timeout is None else timeout
    # A pyttsx3 worker spends much of its short life waiting (on its start, on espeak-ng's thread), so
    # two per core keep the cores busy (benchmarks/README.md has the figures); piper computes all the time.
    n = max(1, min(workers or engine.per_core * (os.cpu_count() or 1), len(texts)))
    # A fresh process per phrase unless the engine keeps no state from one phrase to the next (espeak-ng
    # keeps some); an engine that does not (piper, measured) serves many phrases from one worker.
    many = engine.reuse_worker
    queue = list(texts) if in_order else sorted(texts, key=len, reverse=True)
    ctx = worker_context()
    running: dict[Connection, tuple] = {}   # connection -> (process, text, deadline) of a busy worker
    idle: list[tuple[Connection, Any]] = []  # (connection, process) of workers waiting for a text
    retries: dict = {}

    def give(conn: Connection, proc, text: str) -> None:
        conn.send(text)
        running[conn] = (proc, text, time.monotonic() + timeout + 5)

    try:
        while queue or running:
            if cancelled is not None and cancelled():
                return
            while queue and idle:
                conn, proc = idle.pop()
                give(conn, proc, queue.pop(0))
            while queue and len(running) < n:
                parent, child = ctx.Pipe(duplex=True)
                proc = ctx.Process(target=_render_worker, args=(engine, voice, store, child, timeout, many), daemon=True)
                proc.start()
                child.close()
                give(parent, proc, queue.pop(0))
            soonest = min(deadline for _, _, deadline in running.values())
            ready = wait_for(list(running), timeout=max(0.0, soonest - time.monotonic()))
            if not ready:
                stuck = min(running.values(), key=lambda r: r[2])[1]
                raise VoicecoachError(
                    f"the speech engine did not finish {stuck[:60]!r} within {timeout:g} s; "
                    f"try again, or {engine.check_hint()}")
            for conn in cast(list[Connection], ready):
                proc, text, _ = running.pop(conn)
                try:
                    kind, payload = conn.recv()
                except EOFError:
                    kind, payload = "error", f"the worker for {text[:60]!r} stopped unexpectedly"
                if many and kind != "error":
                    idle.append((conn, proc))
                else:
                    conn.close()
                    proc.join()
                if kind == "error":
                    raise engine_error(payload, engine)
                if kind == "retry":
                    retries[text] = retries.get(text, 0) + 1
                    if retries[text] > 2:
                        raise VoicecoachError(f"the speech engine gave no sound for {text[:60]!r}; "
                                              f"{engine.check_hint()}")
                    queue.append(text)
                    continue
                if progress:
                    progress(payload)
    finally:
        for conn, _ in idle:
            try:
                conn.send(None)         # done: the worker returns
            except OSError:
                pass
            conn.close()
        for proc, _, _ in running.values():
            proc.kill()
        for proc in [proc for _, proc in idle] + [proc for proc, _, _ in running.values()]:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
