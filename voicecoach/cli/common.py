"""What every command shares: one line for an error, the voice options, the cache, the progress line."""

from __future__ import annotations

import errno
import math
import os
import sys
from functools import wraps
from typing import TYPE_CHECKING, Any

import click

from voicecoach import paths
from voicecoach.cli.progressbar import ProgressBar  # noqa: F401 - the commands take it from here
from voicecoach.errors import VoicecoachError, shown

if TYPE_CHECKING:       # the cache imports numpy: not for `--help` or `--version`
    from voicecoach.cache import Cache


class Failure(click.ClickException):
    """A VoicecoachError as click shows it: `Error: message`, with the error's exit code."""

    def __init__(self, error: VoicecoachError):
        super().__init__(str(error))
        # click declares exit_code a ClassVar but reads it from the instance; each error brings its own.
        self.exit_code = error.exit_code  # type: ignore[misc]


class _Refused:
    """A click number range that refuses a value as the tool refuses any, in one line naming the option:
    `--rate 500: give a whole number from 60 to 400 (words a minute)`; help still shows the range."""
    min: Any
    max: Any
    whole = False
    unit = hint = ""

    def span(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        bounds = (f" from {self.min:g} to {self.max:g}" if self.min is not None and self.max is not None
                  else f" of at least {self.min:g}" if self.min is not None
                  else f" of at most {self.max:g}" if self.max is not None else "")
        return kind + bounds + (f" ({self.unit})" if self.unit else "")

    def convert(self, value, param, ctx):
        try:
            number = super().convert(value, param, ctx)  # type: ignore[misc]
            if isinstance(number, float) and not math.isfinite(number):   # click's FloatRange lets nan through
                raise click.BadParameter(str(value))
            return number
        except click.BadParameter:
            name = ((param.opts[-1] if isinstance(param, click.Option) else param.human_readable_name.strip("[]"))
                    if param else "")
            # Exit status 2, as for any other mistake in how the command was written (click's usage errors).
            raise Failure(VoicecoachError(f"{name} {value}: give {self.span()}{self.hint}".strip(), 2)) from None


class _Whole(_Refused, click.IntRange):
    whole = True


class _Number(_Refused, click.FloatRange):
    pass


def Between(lo: float | None = None, hi: float | None = None, *, whole: bool = False, unit: str = "",  # noqa: N802
            hint: str = "") -> click.ParamType:
    """A number from `lo` to `hi` (None: no bound) for an option or argument, refused in the tool's words."""
    kind: _Whole | _Number = (_Whole(None if lo is None else int(lo), None if hi is None else int(hi)) if whole
                              else _Number(lo, hi))
    kind.unit, kind.hint = unit, hint
    return kind


def friendly(fn):
    """Turn VoicecoachError into a one-line message and Ctrl-C into a quiet exit."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except VoicecoachError as e:
            raise Failure(e) from None
        except OSError as e:
            # Any file name a person gives (a script, -o, --dir) can be too long for the file system, and
            # every path check (exists, is_file, stat) raises it: one line for all of them.
            if e.errno != errno.ENAMETOOLONG:
                raise
            name = os.fsdecode(e.filename) if e.filename is not None else "a file name"
            raise Failure(VoicecoachError(f"{shown(name)}: the name is too long for the file system (at most "
                                          "255 bytes a name); give a shorter one")) from None
        except KeyboardInterrupt as e:
            # Ctrl-C, and SIGTERM or SIGHUP (process.Stopped): what was being written is gone already.
            try:
                click.echo("Stopped.", err=True)
            except OSError:
                pass        # the terminal that was closed (SIGHUP) cannot show it
            sys.exit(getattr(e, "exit_code", 130))
    return wrapper


def voice_options(fn):
    fn = click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                      help="Override a script parameter, e.g. --set hold=8 (repeatable).")(fn)
    fn = click.option("--rate", type=Between(60, 400, whole=True, unit="words a minute"),
                      help="Speaking rate in words per minute.")(fn)
    fn = click.option("--voice", "voice", metavar="ENGINE:VOICE",
                      help="Voice, e.g. festival:slt, flite:slt or gmw/en-us (see `voicecoach voices`).")(fn)
    fn = click.option("--volume", type=Between(0.05, 1.0), help="Voice volume, 0.05 to 1.")(fn)
    return fn


def background_options(fn):
    fn = click.option("--background-level", "background_level", type=Between(-40, -6, unit="dB under the voice"),
                      metavar="DB",
                      help="How far under the voice the background sits, in dB (default -20).")(fn)
    fn = click.option("--background", "background", metavar="SOUND",
                      help="A soft bed under the voice that dips for every cue: brown, rain, waves, drone, "
                           "a sound file of your own, or none.")(fn)
    return fn


def hands_free_options(fn):
    fn = click.option("--pre-roll", type=Between(0, 600, whole=True, unit="seconds"), default=20,
                      show_default=True, metavar="SECONDS",
                      help="With --hands-free: seconds between 'Starting in ...' and the session.")(fn)
    fn = click.option("--hands-free", is_flag=True,
                      help="As `play --hands-free` plays it: a spoken pre-roll, a soft tone before each phase, a "
                           "slower, louder voice; no key is ever needed.")(fn)
    return fn


def check_hands_free(ctx: click.Context, hands_free: bool, keep_alive: bool | None = None) -> None:
    """Refuse the options that only mean something with --hands-free when it is not given."""
    if not hands_free and ctx.get_parameter_source("pre_roll") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--pre-roll is for --hands-free; add --hands-free, or leave it out")
    if not hands_free and keep_alive:
        raise click.UsageError(f"`{ctx.info_name}` fills no silence with tones unless --hands-free is given "
                               "(a file from `voicecoach export` does); add --hands-free, or leave out --keep-alive")


def keep_alive_option(fn):
    return click.option("--keep-alive/--no-keep-alive", "keep_alive", default=None,
                        help="A soft tone every 20 s in a silence longer than 30 s, so a file never seems to have "
                             "stopped (default: yes, but not under a background, nor where the script says "
                             "`keep_alive: false`).")(fn)


def cache_of(ctx: click.Context) -> Cache:
    from voicecoach.cache import Cache
    return Cache(paths.cache_dir(ctx.obj.get("cache_dir")))


def voice_kwargs(sets, voice, rate, volume) -> dict:
    return {"overrides": list(sets), "voice": voice, "rate": rate, "volume": volume}


def db_option(fn):
    return click.option("--db", type=click.Path(dir_okay=False), envvar="VOICECOACH_DB",
                        help="The practice log (default: practice.sqlite3 in your user data folder; "
                             "or set VOICECOACH_DB).")(fn)


def entry_options(fn):
    fn = click.option("--when", metavar="DAY", help="When it was: today (default), yesterday, 2 days ago, "
                                                    "monday, 2026-11-20, or 2026-11-20 19:30.")(fn)
    fn = click.option("--note", metavar="TEXT", help="A few words for yourself.")(fn)
    fn = click.option("--comfort", metavar="1-5", help="How it felt: 1 very hard, 2 hard, 3 okay, "
                                                      "4 comfortable, 5 very comfortable (or the words).")(fn)
    return fn
