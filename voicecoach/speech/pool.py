"""The worker pool: phrases into samples, in processes of their own (one per phrase, or many phrases for an engine
that keeps no state, or copies forked by the engine's phrase server), so a stuck engine cannot hang us."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for
from typing import IO, Any, Callable, Iterable, cast

import numpy as np

from voicecoach.errors import VoicecoachError, shown
from voicecoach.speech import espeak_server
from voicecoach.speech.clip import speakable, to_internal
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

def _again(text: str, retries: dict[str, int], queue: list[str], engine: Engine) -> None:
    """Queue `text` once more after the engine gave no sound for it; the third time, fail."""
    retries[text] = retries.get(text, 0) + 1
    if retries[text] > 2:
        raise VoicecoachError(f"the speech engine gave no sound for {shown(text[:60])}; {engine.check_hint()}")
    queue.append(text)


def _stuck(engine: Engine, text: str, timeout: float) -> VoicecoachError:
    return VoicecoachError(f"the speech engine did not finish {shown(text[:60])} within {timeout:g} s; "
                           f"try again, or {engine.check_hint()}")


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
    timeout = PHRASE_TIMEOUT if timeout is None else timeout
    queue = list(texts) if in_order else sorted(texts, key=len, reverse=True)
    served = engine.server(voice)
    if served is not None:
        command, rate = served
        # Its copies are small and short-lived: one more than the cores keeps each core busy.
        n = max(1, min(workers or (os.cpu_count() or 1) + 1, len(texts)))
        _render_served(engine, command, rate, queue, store, n, timeout, progress, cancelled)
        return
    engine.warm_up(voice)
    # soxr's first call in a process builds its tables; doing it here spares every worker.
    to_internal(np.full(256, 1000, np.int16), 22_050)
    # A pyttsx3 worker spends much of its short life waiting (on its start, on espeak-ng's thread), so
    # two per core keep the cores busy (benchmarks/README.md has the figures); piper computes all the time.
    n = max(1, min(workers or engine.per_core * (os.cpu_count() or 1), len(texts)))
    # A fresh process per phrase unless the engine keeps no state from one phrase to the next (espeak-ng
    # keeps some); an engine that does not (piper, measured) serves many phrases from one worker.
    many = engine.reuse_worker
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
                raise _stuck(engine, stuck, timeout)
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
                    _again(text, retries, queue, engine)
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


def _render_served(engine: Engine, command: list[str], rate: int, queue: list[str],
                   store: Callable[[str, np.ndarray], None], n: int, timeout: float,
                   progress: Callable[[str], None] | None, cancelled: Callable[[], bool] | None) -> None:
    """render() through the engine's phrase server: `n` phrases at a time, each stored here as it arrives."""
    try:
        # Pipes only (no socket); the server goes with this process (it asks the kernel to kill it with us).
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise VoicecoachError(f"the speech engine could not start: {e}") from None
    inbox = cast(IO[bytes], proc.stdin)
    replies = _Replies(proc)
    running: dict[int, tuple[str, float]] = {}          # id -> (text, deadline)
    retries: dict[str, int] = {}
    try:
        try:
            ident, status, payload = replies.next(time.monotonic() + timeout + 5)
        except TimeoutError:
            # As the user sees it, the first phrase did not come: an engine that hangs as it starts is one
            # that hangs on its first phrase.
            raise _stuck(engine, queue[0], timeout) from None
        if ident != espeak_server.READY or status != espeak_server.DONE:
            raise engine_error(payload.decode("utf-8", "replace"), engine)
        sent = 0
        while queue or running:
            if cancelled is not None and cancelled():
                return
            while queue and len(running) < n:
                text = queue.pop(0)
                data = speakable(text).encode("utf-8")
                inbox.write(espeak_server.REQUEST.pack(sent, len(data)) + data)
                inbox.flush()
                running[sent] = (text, time.monotonic() + timeout + 5)
                sent += 1
            soonest = min(deadline for _, deadline in running.values())
            try:
                ident, status, payload = replies.next(soonest)
            except TimeoutError:
                stuck = min(running.values(), key=lambda r: r[1])[0]
                raise _stuck(engine, stuck, timeout) from None
            text, _ = running.pop(ident)
            if status != espeak_server.DONE:
                raise engine_error(payload.decode("utf-8", "replace"), engine)
            clip = to_internal(np.frombuffer(payload, dtype="<i2"), rate)
            if not len(clip) and any(c.isalnum() for c in text):
                _again(text, retries, queue, engine)       # silent words: an engine hiccup, not a result
                continue
            store(text, clip)
            if progress:
                progress(text)
    except (BrokenPipeError, EOFError):
        raise engine_error(replies.why(), engine) from None
    finally:
        # Every phrase asked for has been answered, or none is wanted any more: its copies go with it.
        proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            try:
                cast(IO[bytes], pipe).close()
            except OSError:
                pass


class _Replies:
    """The phrase server's replies, whole, as they arrive on its standard output."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.fd = cast(IO[bytes], proc.stdout).fileno()
        self.buffer = bytearray()

    def next(self, deadline: float) -> tuple[int, int, bytes]:
        """(id, status, payload) of the next reply; TimeoutError after `deadline` (time.monotonic())."""
        size = espeak_server.REPLY.size
        while True:
            if len(self.buffer) >= size:
                ident, status, length = espeak_server.REPLY.unpack_from(self.buffer)
                if len(self.buffer) >= size + length:
                    payload = bytes(self.buffer[size: size + length])
                    del self.buffer[: size + length]
                    return ident, status, payload
            if not wait_for([self.fd], timeout=max(0.0, deadline - time.monotonic())):
                raise TimeoutError
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk

    def why(self) -> str:
        """What the server said as it stopped (its last line on standard error)."""
        self.proc.kill()
        self.proc.wait()
        said = cast(IO[bytes], self.proc.stderr).read().decode("utf-8", "replace").strip().splitlines()
        return said[-1] if said else "the speech engine stopped unexpectedly"
