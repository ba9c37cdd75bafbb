"""Recording a played session in the log: started when it starts, finished (complete or partial) however it ends."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from voicecoach.errors import VoicecoachError
from voicecoach.practice.log import LogEntry, open_log


def start(db: str | os.PathLike | None, script: str | os.PathLike, params: Mapping[str, object] | None = None,
          total_ms: int | None = None) -> int:
    """Record a played session as begun, in its own short connection; returns its id for finish()."""
    with open_log(db) as log:
        return log.start(script, params, total_ms)


def finish(db: str | os.PathLike | None, entry: int, completed_ms: int, total_ms: int | None = None) -> None:
    """Mark a session recorded by start() as ended, with how many milliseconds were played."""
    with open_log(db) as log:
        log.finish(entry, completed_ms, total_ms)


def rate(db: str | os.PathLike | None, entry: int, comfort: int | None) -> LogEntry:
    """Record how a session just played felt (None: skipped); returns the entry as saved."""
    with open_log(db) as log:
        return log.rate(entry, comfort=comfort) if comfort is not None else log.get(entry)


@dataclass
class Record:
    """A played session being recorded: set `completed_ms` as it plays; `id` is None if the log was unusable."""
    id: int | None
    completed_ms: int = 0
    total_ms: int | None = None     # the session's length, when it is only known once it has played


@contextmanager
def recording(db: str | os.PathLike | None, script: str | os.PathLike, params: Mapping[str, object] | None,
              total_ms: int, warn: Callable[[str], None] = lambda message: None) -> Iterator[Record]:
    """Record a session for the length of a with-block; a log that cannot be written never stops the session."""
    try:
        record = Record(start(db, script, params, total_ms))
    except VoicecoachError as e:
        warn(f"This session is not being logged: {e}")
        record = Record(None)
    try:
        yield record
    finally:
        # Reached on a normal end, on q and on Ctrl-C; a killed process leaves the entry partial instead.
        if record.id is not None:
            try:
                total = total_ms if record.total_ms is None else record.total_ms
                finish(db, record.id, max(0, min(int(record.completed_ms), total)), total)
            except VoicecoachError as e:
                warn(f"The end of this session could not be logged: {e}")
