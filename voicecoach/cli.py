"""The command line: each command parses its options and calls one library function."""

from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path

import click

from . import __version__, paths, speech
from .cache import Cache
from .errors import VoicecoachError
from .timeline import clock, describe


class Failure(click.ClickException):
    """A VoicecoachError as click shows it: `Error: message`, with the error's exit code."""

    def __init__(self, error: VoicecoachError):
        super().__init__(str(error))
        self.exit_code = error.exit_code


def friendly(fn):
    """Turn VoicecoachError into a one-line message and Ctrl-C into a quiet exit."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except VoicecoachError as e:
            raise Failure(e) from None
        except KeyboardInterrupt:
            click.echo("Stopped.", err=True)
            sys.exit(130)
    return wrapper


def voice_options(fn):
    fn = click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                      help="Override a script parameter, e.g. --set hold=8 (repeatable).")(fn)
    fn = click.option("--rate", type=click.IntRange(60, 400), help="Speaking rate in words per minute.")(fn)
    fn = click.option("--voice", "voice", metavar="NAME", help="Voice id or name (see `voicecoach voices`).")(fn)
    fn = click.option("--volume", type=click.FloatRange(0.05, 1.0), help="Voice volume, 0.05 to 1.")(fn)
    return fn


def _cache(ctx: click.Context) -> Cache:
    return Cache(paths.cache_dir(ctx.obj.get("cache_dir")))


def _options(sets, voice, rate, volume) -> dict:
    return {"overrides": list(sets), "voice": voice, "rate": rate, "volume": volume}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicecoach")
@click.option("--cache-dir", type=click.Path(file_okay=False), envvar="VOICECOACH_CACHE",
              help="Where rendered phrases are kept (default: audio_cache/ in a checkout, else the user cache).")
@click.pass_context
def cli(ctx, cache_dir):
    """Voice-guided, exactly timed relaxation and pelvic floor exercises."""
    ctx.ensure_object(dict)
    ctx.obj["cache_dir"] = cache_dir


@cli.command("list")
@click.option("--dir", "folder", type=click.Path(file_okay=False), help="Folder of scripts (default: scripts/).")
@click.pass_context
@friendly
def list_cmd(ctx, folder):
    """The scripts in scripts/, with title and length."""
    from .library import catalogue
    for entry in catalogue(Path(folder) if folder else paths.scripts_dir(), _cache(ctx)):
        if entry.error:
            click.echo(f"{entry.path.name:<34} (cannot be read) {entry.error}")
            continue
        minutes = clock(entry.length).rsplit(".", 1)[0]
        click.echo(f"{entry.path.name:<34} {minutes:>8}  {entry.title}")
        if entry.about:
            click.echo(f"{'':<34} {'':>8}  {entry.about}")


@cli.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@voice_options
@click.pass_context
@friendly
def show(ctx, script, as_json, sets, voice, rate, volume):
    """The timeline of SCRIPT: every cue with its start time (nothing is played)."""
    from .session import prepare
    session = prepare(script, _cache(ctx), **_options(sets, voice, rate, volume))
    if as_json:
        data = session.timeline.to_dict()
        data["voice"] = session.voice.identity()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(describe(session.timeline))


@cli.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(), help="The file to write: .wav or .mp3.")
@voice_options
@click.pass_context
@friendly
def export(ctx, script, output, sets, voice, rate, volume):
    """Render SCRIPT to an audio file for a phone or any player."""
    from .export import export_script
    done = export_script(script, output, _cache(ctx), **_options(sets, voice, rate, volume))
    note = "all phrases from the cache" if not done.session.synthesised else \
        f"{done.session.synthesised} phrase(s) synthesised"
    click.echo(f"Wrote {done.path} ({clock(done.session.timeline.length).rsplit('.', 1)[0]}, {note}).")


@cli.command()
@click.argument("script", required=False, type=click.Path(dir_okay=False))
@voice_options
@click.option("--hands-free", is_flag=True,
              help="For the shower: a spoken pre-roll, a soft tone before each phase, a slower, louder voice; "
                   "no key is ever needed.")
@click.option("--pre-roll", type=click.IntRange(0, 600), default=20, show_default=True, metavar="SECONDS",
              help="With --hands-free: seconds between 'Starting in ...' and the session.")
@click.option("--from", "section", metavar="SECTION", help='Start at this section, e.g. --from "Closing".')
@click.pass_context
@friendly
def play(ctx, script, sets, voice, rate, volume, hands_free, pre_roll, section):
    """Play SCRIPT (default: the pelvic floor release session) with live progress and keys."""
    from .play import play_script
    play_script(script or paths.default_script(), _cache(ctx), **_options(sets, voice, rate, volume),
                hands_free=hands_free, pre_roll=pre_roll, section=section)


@cli.command()
@friendly
def voices():
    """The speech voices this machine has."""
    for v in speech.list_voices():
        langs = ",".join(v["languages"])
        click.echo(f"{v['id']:<28} {v['name']:<28} {langs}")


def main():
    cli(obj={})


if __name__ == "__main__":
    main()
