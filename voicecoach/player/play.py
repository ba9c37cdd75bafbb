"""`voicecoach play`: a prepared session through an output, with a status line and keys."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Mapping

from voicecoach.cache import Cache
from voicecoach.exercise.timeline import section_index
from voicecoach.player.output import Output
from voicecoach.player.outputs.simpleaudio import SimpleaudioOutput
from voicecoach.player.player import Player, Status
from voicecoach.player.terminal import HELP, Keys, StatusLine
from voicecoach.session import stream
from voicecoach.stream import SessionStream
from voicecoach.units import SAMPLES_PER_MS, minutes

TICK = 0.05   # seconds between status redraws while playing
# ... and between looks while holding for words still rendering: they are played within this of arriving
# (at TICK the first words of a cold start waited 25 ms on average, up to 50, after they were ready).
HOLD_TICK = 0.005
ASK_FOR = 300   # seconds the "how did that feel" question waits before it is skipped
ASK = ("How did that feel? 1 very hard, 2 hard, 3 okay, 4 comfortable, 5 very comfortable "
       "(a key; Enter to skip)")


def run(player: Player, keys: Keys, status: StatusLine, tick: float = TICK) -> str:
    """Play to the end or until `q`; returns "done" or "quit". The sound stops on any way out."""
    try:
        status.show(player.status())
        player.start()
        while True:
            now = player.poll()
            status.show(now)
            if now.state == "done":
                return "done"
            timeout = tick
            if now.state == "holding":
                timeout = min(tick, HOLD_TICK)
            elif now.state == "waiting":
                timeout = min(tick * 4, max(0.0, now.wait_left / 1000))
            key = keys.read(timeout)
            if key is None:
                continue
            if key in "qQ":
                return "quit"
            if key == " ":
                player.toggle_pause()
            elif key in "\r\n":
                player.go_on()
            elif key in "nN":
                player.next_section()
            elif key in "pP":
                player.previous_section()
    finally:
        player.stop()


def play_script(path: str | Path, cache: Cache, *, overrides: Mapping[str, object] | None = None,
                voice: str | None = None, rate: int | None = None, volume: float | None = None,
                hands_free: bool = False, pre_roll: int = 20, section: str | None = None,
                output: Output | None = None, stdin=None, stdout=None, clock_fn=time.monotonic,
                log: str | Path | None = None, background: str | None = None,
                background_level: float | None = None, keep_alive: bool | None = None) -> str:
    """Play a script with live progress and keys, recording it in the practice log `log` if given."""
    # Open the device first: a machine without one says so before any waiting.
    output = output if output is not None else SimpleaudioOutput()
    try:
        if hands_free:
            from voicecoach.handsfree import stream_hands_free
            source = stream_hands_free(path, cache, overrides=overrides, voice=voice, rate=rate, volume=volume,
                                       pre_roll_s=pre_roll, section=section, background=background,
                                       background_level=background_level, keep_alive=keep_alive)
        else:
            source = stream(path, cache, overrides=overrides, voice=voice, rate=rate, volume=volume, background=background,
                            background_level=background_level)
        script = source.script
        assert script is not None
        status = StatusLine(script.title, stdout)
        if source.missing:
            status.note(f"Getting the voice ready ({source.missing} phrase{'s' if source.missing != 1 else ''} "
                        "to render; it starts as soon as the first is ready).")
        try:
            source.start()
            start_ms = 0
            if section is not None and not hands_free:
                start_ms = _section_start(source, section_index(source.timeline, section), status)
            with Keys(stdin) as keys:
                player = Player(None, None, output, source=source, waits=keys.interactive and not hands_free,
                                start_ms=start_ms, clock=clock_fn)
                length = minutes(source.timeline.length - start_ms)
                about = "" if source.total() is not None else "about "
                mode = " hands-free" if hands_free else ""
                status.note(f"Playing{mode}: {script.title} ({about}{length}). "
                            + (HELP if keys.interactive else "Ctrl-C stops."))
                with _logged(log, path, script.params, source.timeline.length - start_ms, status.note) as record:
                    try:
                        how = run(player, keys, status)
                    finally:
                        record.completed_ms = player.position() // SAMPLES_PER_MS - start_ms
                        record.total_ms = source.timeline.length - start_ms
                        status.end()
                status.note("Stopped. Come back whenever you like." if how == "quit"
                            else "Done. Well done for taking this time.")
                entry = getattr(record, "id", None)
                if log is not None and entry is not None:
                    comfort = ask_comfort(keys, status.note) if keys.interactive else None
                    status.note(_saved(log, entry, comfort, status.note))
        finally:
            source.close()
        return how
    finally:
        output.close()


def _section_start(source: SessionStream, index: int, status: StatusLine) -> int:
    """Where section `index` starts, once everything before it is rendered (its start depends on it)."""
    while source.timeline.sections[index].start * SAMPLES_PER_MS > source.available():
        failed = source.error()
        if failed is not None:
            raise failed
        status.show(Status("holding", 0, source.timeline.length, source.timeline.sections[index].name, None,
                           estimated=True))
        source.wait(0.1)
    return source.timeline.sections[index].start


def ask_comfort(keys: Keys, say, timeout: float = ASK_FOR) -> int | None:
    """One key for how the session felt, 1 to 5; Enter, any other key or no key at all skips."""
    say(ASK)
    key = keys.read(timeout)
    return int(key) if key is not None and key in "12345" else None


def _saved(log, entry: int, comfort: int | None, warn) -> str:
    """The closing line: what the log now holds for this session."""
    from voicecoach.errors import VoicecoachError
    from voicecoach.practice.log import COMFORT, what_was_done
    from voicecoach.practice.recording import rate
    from voicecoach.practice.settings import unchosen
    try:
        e = rate(log, entry, comfort)
    except VoicecoachError as error:
        warn(f"How it felt could not be saved: {error}")
        return "The session itself is in your log."
    how = "complete" if e.status == "complete" else \
        f"partial, {minutes(e.completed_ms or 0)} of {minutes(e.total_ms or 0)}"
    felt = f", felt {COMFORT[e.comfort]}" if e.comfort else ""
    later = "" if e.comfort else f" (to say how it felt later: `voicecoach log rate {e.id} 4`)"
    done = what_was_done(e, unchosen(e.script) if e.script else None)
    return f"Saved in your log as entry {e.id}: {done}, {how}{felt}.{later}"


def _logged(log, path, params, total_ms, warn):
    """The practice-log record of this session, or a stand-in when nothing is logged."""
    if log is None:
        return nullcontext(SimpleNamespace(completed_ms=0, total_ms=None))
    from voicecoach.practice.recording import recording
    return recording(log, path, params, total_ms, warn=warn)
