"""The worker pool: phrases into samples, one worker process per phrase, so a stuck engine cannot hang us."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for
from typing import Any, Callable, Iterable, cast

import numpy as np

from voicecoach.errors import VoicecoachError, shown
from voicecoach.speech.clip import to_internal
from voicecoach.speech.engine import Engine, die_with_parent, worker_context
from voicecoach.speech.engines import engine as named_engine
from voicecoach.speech.voice import Voice

PHRASE_TIMEOUT = float(os.environ.get("VOICECOACH_TTS_TIMEOUT", "30"))



# ---------------------------------------------------------------- worker side


def _render_worker(engine: Engine, voice: Voice, store: Callable, texts, conn, timeout: float, many: bool,
                   parent: int, ours: Connection | None = None) -> None:
    """Child process: render what arrives on `texts` (one, unless `many`), hand each to `store`, report on `conn`."""
    die_with_parent(parent)
    if ours is not None:
        # The parent's end of our inbox, copied here by fork: closed, so that our own copy cannot keep the
        # pipe open and our read sees EOF once the parent is gone, should the parent-death signal fail us.
        ours.close()
    # pyttsx3 prints "Audio saved to ..." for every file; keep our stdout clean.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        while True:
            text = texts.recv()
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
        texts.close()
        conn.close()


@dataclass
class _Worker:
    process: Any
    inbox: Connection       # texts to the worker
    outbox: Connection      # results from it


# ---------------------------------------------------------------- parent side

def engine_error(message: str, engine: Engine) -> VoicecoachError:
    """A worker's report of a failure, as one line for people."""
    known = engine.failure(message)
    if known is not None:
        return known
    if message.lower().startswith("timeouterror"):
        return VoicecoachError(f"the speech engine did not finish in time ({message.split(': ', 1)[-1]}); "
                               f"try again, or {engine.check_hint()}")
    if message.startswith("VoicecoachError: "):
        # Our own error in the worker (the cache's disk full, say) already says what happened.
        return VoicecoachError(message[len("VoicecoachError: "):])
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
    # Two one-way pipes a worker, not one duplex pipe: that is a socket pair, and rendering opens no socket.
    running: dict[Connection, tuple[_Worker, str, float]] = {}   # outbox -> (worker, text, deadline) when busy
    idle: list[_Worker] = []
    # One-phrase workers that have reported and are exiting: reaped later, not waited for. Joining each
    # as it reported held the next start back by its exit (1.4-1.9 ms a phrase, measured; 38 of them
    # for a 10-minute session) while a core stood idle.
    exiting: list[_Worker] = []
    retries: dict = {}

    def give(worker: _Worker, text: str) -> None:
        worker.inbox.send(text)
        running[worker.outbox] = (worker, text, time.monotonic() + timeout + 5)

    def stop(worker: _Worker) -> None:
        worker.inbox.close()
        worker.outbox.close()
        worker.process.join()

    try:
        while queue or running:
            if cancelled is not None and cancelled():
                return
            while queue and idle:
                give(idle.pop(), queue.pop(0))
            exiting = [w for w in exiting if w.process.is_alive()]      # is_alive() reaps those that are done
            while queue and len(running) < n:
                texts_out, texts_in = ctx.Pipe(duplex=False)
                results_out, results_in = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_render_worker, daemon=True,
                                   args=(engine, voice, store, texts_out, results_in, timeout, many, os.getpid(),
                                         texts_in if ctx.get_start_method() == "fork" else None))
                proc.start()
                texts_out.close()
                results_in.close()
                give(_Worker(proc, texts_in, results_out), queue.pop(0))
            soonest = min(deadline for _, _, deadline in running.values())
            ready = wait_for(list(running), timeout=max(0.0, soonest - time.monotonic()))
            if not ready:
                stuck = min(running.values(), key=lambda r: r[2])[1]
                raise VoicecoachError(
                    f"the speech engine did not finish {shown(stuck[:60])} within {timeout:g} s; "
                    f"try again, or {engine.check_hint()}")
            for conn in cast(list[Connection], ready):
                worker, text, _ = running.pop(conn)
                try:
                    kind, payload = conn.recv()
                except EOFError:
                    kind, payload = "error", f"the worker for {shown(text[:60])} stopped unexpectedly"
                if many and kind != "error":
                    idle.append(worker)
                elif kind == "error":
                    stop(worker)
                else:       # a one-phrase worker returns once it has reported: it exits on its own
                    worker.inbox.close()
                    worker.outbox.close()
                    exiting.append(worker)
                if kind == "error":
                    raise engine_error(payload, engine)
                if kind == "retry":
                    retries[text] = retries.get(text, 0) + 1
                    if retries[text] > 2:
                        raise VoicecoachError(f"the speech engine gave no sound for {shown(text[:60])}; "
                                              f"{engine.check_hint()}")
                    queue.append(text)
                    continue
                if progress:
                    progress(payload)
    finally:
        for worker in idle:
            try:
                worker.inbox.send(None)         # done: the worker returns
            except OSError:
                pass
        for worker, _, _ in running.values():
            worker.process.kill()
        # Every worker has ended before this returns: the parent-death signal follows the forking thread.
        for worker in idle + [w for w, _, _ in running.values()] + exiting:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.inbox.close()
            worker.outbox.close()
