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
from voicecoach.player.player import Player
from voicecoach.player.terminal import HELP, Keys, StatusLine
from voicecoach.session import prepare
from voicecoach.units import SAMPLES_PER_MS, minutes

TICK = 0.05   # seconds between status redraws while playing


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
            if now.state == "waiting":
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
                background_level: float | None = None) -> str:
    """Play a script with live progress and keys, recording it in the practice log `log` if given."""
    # Open the device first: a machine without one says so before any waiting.
    output = output if output is not None else SimpleaudioOutput()
    try:
        if hands_free:
            from voicecoach.handsfree import prepare_hands_free
            session = prepare_hands_free(path, cache, overrides=overrides, voice=voice, rate=rate,
                                         volume=volume, pre_roll_s=pre_roll, section=section,
                                         background=background, background_level=background_level)
            start_ms = 0
        else:
            session = prepare(path, cache, overrides=overrides, voice=voice, rate=rate, volume=volume,
                              background=background, background_level=background_level)
            start_ms = session.timeline.sections[section_index(session.timeline, section)].start \
                if section is not None else 0
        timeline = session.timeline
        status = StatusLine(session.script.title, stdout)
        with Keys(stdin) as keys:
            player = Player(timeline, session.audio(), output, waits=keys.interactive and not hands_free,
                            start_ms=start_ms, clock=clock_fn)
            length = minutes(timeline.length - start_ms)
            mode = " hands-free" if hands_free else ""
            status.note(f"Playing{mode}: {session.script.title} ({length}). "
                        + (HELP if keys.interactive else "Ctrl-C stops."))
            total = timeline.length - start_ms
            with _logged(log, path, session.script.params, total, status.note) as record:
                try:
                    how = run(player, keys, status)
                finally:
                    record.completed_ms = player.position() // SAMPLES_PER_MS - start_ms
                    status.end()
        status.note("Stopped. Come back whenever you like." if how == "quit" else "Done. Well done for taking this time.")
        return how
    finally:
        output.close()


def _logged(log, path, params, total_ms, warn):
    """The practice-log record of this session, or a stand-in when nothing is logged."""
    if log is None:
        return nullcontext(SimpleNamespace(completed_ms=0))
    from voicecoach.practice.recording import recording
    return recording(log, path, params, total_ms, warn=warn)
