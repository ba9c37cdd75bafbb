"""With no sound device: the exact `voicecoach export` command for what was asked to play, in one calm line."""

from __future__ import annotations

import shlex
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import click

from voicecoach.errors import NO_AUDIO_DEVICE, VoicecoachError, one_line

OUTPUT = "session.mp3"


class NoDevice(click.ClickException):
    """Nothing to play on here: not the user's mistake, so one plain line without `Error:`, and status 3."""

    exit_code = NO_AUDIO_DEVICE

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True)


def session_name(path: Path, typed: str | None = None) -> str:
    """How to name `path` in a command: by name when that finds this very file from any folder, else as given."""
    from voicecoach.exercise.library import locate
    try:
        if locate(path.stem).resolve() == Path(path).resolve():
            return path.stem
    except (VoicecoachError, OSError):
        pass
    return typed if typed is not None else str(path)


def _long(option: click.Option, secondary: bool = False) -> str:
    names = option.secondary_opts if secondary else option.opts
    return max(names, key=len)


def export_command(ctx: click.Context, name: str, sets: Sequence[str] | None = None) -> list[str]:
    """`voicecoach export NAME ... -o session.mp3` with every option of `ctx`'s command that export shares, as given.

    An option the user did not type is left out (export's default is play's); `sets` replaces the --set values."""
    root = ctx.find_root()
    export = root.command.get_command(root, "export") if isinstance(root.command, click.Group) else None
    shared = {p.name: p for p in (export.params if export else ()) if isinstance(p, click.Option)}
    words = ["voicecoach"]
    if root.get_parameter_source("cache_dir") == click.core.ParameterSource.COMMANDLINE:
        words += ["--cache-dir", str(root.params["cache_dir"])]
    words += ["export", name]
    for param in ctx.command.params:
        target = shared.get(param.name or "")
        if not isinstance(param, click.Option) or target is None or param.name == "sets":
            continue
        if ctx.get_parameter_source(param.name or "") != click.core.ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[param.name or ""]
        if target.is_flag and target.secondary_opts:        # --this/--no-this
            words.append(_long(target, secondary=not value))
        elif target.is_flag:
            if value:
                words.append(_long(target))
        elif target.multiple:
            for one in value:
                words += [_long(target), str(one)]
        elif value is not None:
            words += [_long(target), f"{value:g}" if isinstance(value, float) else str(value)]
    for pair in (ctx.params.get("sets") or ()) if sets is None else sets:
        words += ["--set", pair]
    return [*words, "-o", OUTPUT]


def no_device(error: VoicecoachError, command: list[str], section: str | None = None) -> NoDevice:
    """The one line for a machine that cannot play: why, and the command that writes the same session to a file."""
    text = str(error)
    # simpleaudio's own words (the ALSA error) help nobody here; a missing simpleaudio says what to install.
    why = text.split("; or ", 1)[0] if text.startswith("playing needs") else "There is no sound device here to play on"
    why = why[0].upper() + why[1:]
    whole = " (the whole session: a player shows its sections as chapters)" if section else ""
    return NoDevice(one_line(f"{why}; to listen on another device, write the session to a file with "
                             f"`{shlex.join(command)}`{whole}."))


def check_asked(path: Path, cache, *, overrides, voice: str | None, rate: int | None, volume: float | None,
                section: str | None = None, background: str | None = None,
                background_level: float | None = None) -> None:
    """Raise what export would say about these settings (a --set or --from typo, a voice, a bed), rendering nothing."""
    from voicecoach.exercise.script import load_script
    from voicecoach.exercise.timeline import build_timeline, check_limits, section_index
    from voicecoach.session import background_for, choose_voice
    script = load_script(path, overrides)
    check_limits(script)
    choose_voice(script, name=voice, rate=rate, volume=volume)
    background_for(script, background, background_level, cache)
    if section is not None:
        # Sections and their names do not depend on how long anything is said.
        section_index(build_timeline(script, defaultdict(int)), section)
