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
    fn = click.option("--voice", "voice", metavar="ENGINE:VOICE",
                      help="Voice, e.g. festival:slt, flite:slt or gmw/en-us (see `voicecoach voices`).")(fn)
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
    """The scripts in scripts/, with title and length, then the program's stages in order."""
    from .library import catalogue, minutes, programs
    folder = Path(folder) if folder else paths.scripts_dir()
    for entry in catalogue(folder, _cache(ctx)):
        if entry.error:
            click.echo(f"{entry.path.name:<34} (cannot be read) {entry.error}")
            continue
        click.echo(f"{entry.path.name:<34} {minutes(entry.length):>8}  {entry.title}")
        if entry.about:
            click.echo(f"{'':<34} {'':>8}  {entry.about}")
    for found in programs(folder, _cache(ctx)):
        if found.error:
            click.echo(f"\n{found.path.name:<34} (cannot be read) {found.error}")
            continue
        click.echo(f"\nProgram: {found.program.title} ({found.path.name}; `voicecoach show {found.path.stem}`)")
        for s in found.stages:
            click.echo(f"{s.number:>4}. {s.stage.name:<28} {minutes(s.length):>8}  {s.stage.label()}")


@cli.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@voice_options
@click.pass_context
@friendly
def show(ctx, script, as_json, sets, voice, rate, volume):
    """The timeline of SCRIPT: every cue with its start time (nothing is played); a program lists its stages."""
    from .library import describe_program, find, open_program
    from .session import prepare
    script = find(script, paths.scripts_dir())
    found = open_program(script, _cache(ctx), voice=voice, rate=rate, volume=volume) if script.is_file() else None
    if found is not None:
        if sets:
            raise VoicecoachError(f"{script}: --set applies to a script; each stage of a program sets its own")
        click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False) if as_json else describe_program(found))
        return
    session = prepare(script, _cache(ctx), **_options(sets, voice, rate, volume))
    if as_json:
        data = session.timeline.to_dict()
        data["voice"] = session.voice.identity()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(describe(session.timeline))


@cli.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(), help="The file to write: .mp3, .m4a, .opus or .wav.")
@click.option("-d", "--dir", "folder", type=click.Path(file_okay=False),
              help="Export a whole program into this folder: numbered files, a playlist and README.txt.")
@click.option("-f", "--format", "fmt", type=click.Choice(["mp3", "m4a", "opus", "wav"]), default="mp3",
              show_default=True, help="With -d: the format of the files.")
@click.option("--discreet", is_flag=True,
              help="Neutral names, titles and chapters (\"Session 03\", \"Relaxation\"); no transcript unless asked.")
@click.option("--transcript/--no-transcript", default=None,
              help="A WebVTT transcript beside each file (default: yes, but not with --discreet).")
@click.option("--force", is_flag=True, help="Export again even when the files are up to date.")
@voice_options
@click.pass_context
@friendly
def export(ctx, script, output, folder, fmt, discreet, transcript, force, sets, voice, rate, volume):
    """Render SCRIPT to a file for a phone (-o), or a whole program to a folder (-d)."""
    from .export import export_program, export_script
    from .library import find
    if bool(output) == bool(folder):
        raise VoicecoachError("say where to write: -o FILE (.mp3 .m4a .opus .wav) for one script, "
                              "or -d FOLDER for a whole program")
    script = find(script, paths.scripts_dir())
    options = _options(sets, voice, rate, volume)
    common = {"discreet": discreet, "transcript": transcript, "force": force}
    if output:
        with _ProgressBar() as bar:
            done = export_script(script, output, _cache(ctx), progress=bar.update, **common, **options)
        note = "all phrases from the cache" if not done.session.synthesised else \
            f"{done.session.synthesised} phrase(s) synthesised"
        length = clock(done.session.timeline.length).rsplit('.', 1)[0]
        if done.skipped:
            click.echo(f"{done.path} is up to date ({length}, {note}); nothing to do.")
        else:
            click.echo(f"Wrote {done.path} ({length}, {done.loudness.integrated:.1f} LUFS, "
                       f"true peak {done.loudness.true_peak:.1f} dBTP, {note}).")
        if done.transcript_written:
            click.echo(f"Wrote the transcript {done.transcript}.")
        return
    with _ProgressBar() as bar:
        done = export_program(script, folder, _cache(ctx), fmt=fmt, progress=bar.update, **common, **options)
    n, written = len(done.files), sum(not f.skipped for f in done.files)
    if done.unchanged:
        click.echo(f"Everything in {done.folder} is up to date ({n} session{'s' if n != 1 else ''}); nothing to do.")
    else:
        click.echo(f"Wrote {written} of {n} sessions to {done.folder} "
                   f"({n - written} already up to date), with {done.playlist.name} and {done.readme.name}.")
    for f in done.files:
        mark = "unchanged" if f.skipped else f"{f.loudness.integrated:.1f} LUFS"
        click.echo(f"  {f.path.name:<44} {clock(f.session.timeline.length).rsplit('.', 1)[0]:>8}  {mark}")
    if done.removed:
        click.echo(f"Removed {len(done.removed)} file(s) the program no longer has.")


@cli.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(), required=True, help="The .wav file to write.")
@voice_options
@click.pass_context
@friendly
def render(ctx, script, output, sets, voice, rate, volume):
    """Write SCRIPT's session exactly as `play` plays it, as a WAV (to check timing or edit it)."""
    from .export import render_script
    from .library import find
    session = render_script(find(script, paths.scripts_dir()), output, _cache(ctx), **_options(sets, voice, rate, volume))
    note = "all phrases from the cache" if not session.synthesised else f"{session.synthesised} phrase(s) synthesised"
    click.echo(f"Wrote {output} ({clock(session.timeline.length).rsplit('.', 1)[0]}, {note}; "
               "no loudness change: use export for a phone).")


class _ProgressBar:
    """A click progress bar for an export (for a program: stage k of n), with time left; quiet when not a terminal."""

    def __init__(self):
        self.bar = None
        self.shown = 0
        self.tty = sys.stderr.isatty()

    def __enter__(self):
        if self.tty:
            self.bar = click.progressbar(length=1000, file=sys.stderr, show_eta=True, show_percent=True,
                                         label="Exporting", width=24)
            self.bar.__enter__()
        return self

    def update(self, fraction: float, label: str):
        step = int(fraction * 1000)
        if self.bar is not None:
            self.bar.label = label
            self.bar.update(max(0, step - self.shown))
        self.shown = max(self.shown, step)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


@cli.command()
@click.argument("script", required=False, type=click.Path(dir_okay=False))
@voice_options
@click.option("--hands-free", is_flag=True,
              help="For the shower: a spoken pre-roll, a soft tone before each phase, a slower, louder voice; "
                   "no key is ever needed.")
@click.option("--pre-roll", type=click.IntRange(0, 600), default=20, show_default=True, metavar="SECONDS",
              help="With --hands-free: seconds between 'Starting in ...' and the session.")
@click.option("--from", "section", metavar="SECTION", help='Start at this section, e.g. --from "Closing".')
@click.option("--db", type=click.Path(dir_okay=False), envvar="VOICECOACH_DB",
              help="The practice log this session is recorded in (default: in your user data folder).")
@click.option("--no-log", is_flag=True, help="Do not record this session in the practice log.")
@click.pass_context
@friendly
def play(ctx, script, sets, voice, rate, volume, hands_free, pre_roll, section, db, no_log):
    """Play SCRIPT (default: the pelvic floor release session) with live progress and keys."""
    if not hands_free and ctx.get_parameter_source("pre_roll") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--pre-roll is for --hands-free; add --hands-free, or leave it out")
    from .play import play_script
    from .practice import db_path
    play_script(script or paths.default_script(), _cache(ctx), **_options(sets, voice, rate, volume),
                hands_free=hands_free, pre_roll=pre_roll, section=section, log=None if no_log else db_path(db))


@cli.command()
@friendly
@click.option("--sample", metavar="TEXT", help="Write TEXT in each main voice, to compare them by ear.")
@click.option("-d", "--dir", "folder", type=click.Path(file_okay=False), default="samples", show_default=True,
              help="Folder for the --sample files.")
@click.option("--rate", type=click.IntRange(60, 400), help="Speaking rate for the samples, words per minute.")
def voices(sample, folder, rate):
    """The voices of every speech engine here (engine:voice), marked best and default; --sample to compare."""
    from .config import load_config
    from .engines import best_available, listing, main_voices, write_samples
    config = load_config()
    best = best_available()
    default = best if not config.voice else None
    found = listing()
    for item in found:
        if not item.installed:
            click.echo(f"{item.engine}: not installed ({item.install})")
            continue
        for v in item.voices:
            marks = [m for m, on in (("best-available", (v.engine, v.id) == best),
                                     ("default", (v.engine, v.id) == default)) if on]
            click.echo(f"{v.spec:<40} {v.name:<24} {','.join(v.languages):<12} {' '.join(marks)}".rstrip())
    if config.voice:
        click.echo(f"default: {config.voice} (from {config.path})")
    if sample:
        for path in write_samples(sample, folder, main_voices(found),
                                  rate or config.rate or speech.DEFAULT_RATE_WPM):
            click.echo(f"wrote {path}")


@cli.group("cache")
def cache_group():
    """The phrase cache: how big it is, check it, tidy it."""


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@cache_group.command("info")
@click.pass_context
@friendly
def cache_info(ctx):
    """How many phrases the cache holds, and their size."""
    info = _cache(ctx).info()
    click.echo(f"{info.root}: {info.count} phrase(s), {_megabytes(info.bytes)}")


@cache_group.command("verify")
@click.pass_context
@friendly
def cache_verify(ctx):
    """Re-check every entry; damaged ones are removed (and rendered again when next needed)."""
    done = _cache(ctx).verify()
    click.echo(f"Checked {done.checked} phrase(s): {len(done.removed)} damaged and removed, "
               f"{len(done.temporaries)} leftover temporary file(s) removed.")


@cache_group.command("prune")
@click.option("--days", type=click.FloatRange(0), default=90, show_default=True,
              help="Remove phrases not used for this many days.")
@click.pass_context
@friendly
def cache_prune(ctx, days):
    """Remove phrases not used for a while."""
    done = _cache(ctx).prune(days)
    click.echo(f"Removed {len(done.removed)} of {done.checked} phrase(s) unused for {days:g} days.")


def db_option(fn):
    return click.option("--db", type=click.Path(dir_okay=False), envvar="VOICECOACH_DB",
                        help="The practice log (default: practice.sqlite3 in your user data folder; "
                             "or set VOICECOACH_DB).")(fn)


def entry_options(fn):
    fn = click.option("--when", metavar="DAY", help="When it was: today (default), yesterday, 2026-11-20, "
                                                    "or 2026-11-20 19:30.")(fn)
    fn = click.option("--note", metavar="TEXT", help="A few words for yourself.")(fn)
    fn = click.option("--comfort", metavar="1-5", help="How it felt: 1 very hard, 2 hard, 3 okay, "
                                                      "4 comfortable, 5 very comfortable (or the words).")(fn)
    return fn


def _noted(log, entry_id: int) -> str:
    from .practice import COMFORT
    e = log.get(entry_id)
    what = {"trainer": f"trainer size {e.size}", "session": e.script or "a session"}.get(e.kind, "other practice")
    if e.kind == "session" and e.script:
        what = f"{e.script}" + "".join(f" {k}={v}" for k, v in e.params.items())
    felt = f", {COMFORT[e.comfort]}" if e.comfort else ""
    return f"Noted: {what}{felt}, {e.started:%a %d %b}. Entry {e.id}."


def _add_entry(db, kind, comfort, note, when, **fields) -> None:
    from .practice import open_log, parse_comfort, parse_when
    with open_log(db) as log:
        entry_id = log.add(kind, comfort=parse_comfort(comfort), note=note,
                           when=parse_when(when) if when else None, **fields)
        click.echo(_noted(log, entry_id))


@cli.group("log")
def log_group():
    """Your private practice log: note practice, say how it felt, take it with you or delete it."""


@log_group.command("trainer")
@click.option("--size", type=click.IntRange(1, 10), required=True, help="The trainer size you used.")
@entry_options
@db_option
@friendly
def log_trainer(size, comfort, note, when, db):
    """Note trainer practice done without the player."""
    _add_entry(db, "trainer", comfort, note, when, size=size)


@log_group.command("session")
@click.argument("script")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="The settings you used, e.g. size=2.")
@click.option("--minutes", type=click.FloatRange(0, 600), help="About how long it took.")
@entry_options
@db_option
@friendly
def log_session(script, sets, minutes, comfort, note, when, db):
    """Note a session from SCRIPT that you did from memory, without the player."""
    from .script import parse_overrides
    name = Path(script).name if Path(script).suffix == ".yaml" else f"{Path(script).name}.yaml"
    if not (Path(script).is_file() or (paths.scripts_dir() / name).is_file()):
        raise VoicecoachError(f"there is no script {script!r} (`voicecoach list` shows them)")
    _add_entry(db, "session", comfort, note, when, script=name, params=parse_overrides(sets), minutes=minutes)


@log_group.command("other")
@click.option("--minutes", type=click.FloatRange(0, 600), help="About how long it took.")
@entry_options
@db_option
@friendly
def log_other(minutes, comfort, note, when, db):
    """Note any other practice (a shower routine, time with a partner, ...); it counts for the week."""
    _add_entry(db, "other", comfort, note, when, minutes=minutes)


@log_group.command("rate")
@click.argument("entry", type=int, required=False)
@click.option("--comfort", metavar="1-5", help="How it felt: 1 very hard .. 5 very comfortable (or the words).")
@click.option("--note", metavar="TEXT", help="A few words for yourself.")
@db_option
@friendly
def log_rate(entry, comfort, note, db):
    """Say how an entry felt (default: the latest one, e.g. the session just played)."""
    from .practice import open_log, parse_comfort
    if comfort is None and note is None:
        raise VoicecoachError("give --comfort, --note or both")
    with open_log(db) as log:
        e = log.rate(entry, comfort=parse_comfort(comfort), note=note)
        click.echo(_noted(log, e.id))


@log_group.command("list")
@click.option("--last", type=click.IntRange(1), default=20, show_default=True, help="How many entries to show.")
@db_option
@friendly
def log_list(last, db):
    """The latest entries in the log."""
    from .practice import COMFORT, open_log
    with open_log(db) as log:
        entries = log.entries()[-last:]
    if not entries:
        click.echo("The log is empty. Playing a session, or `voicecoach log trainer --size 1`, adds to it.")
    for e in entries:
        what = f"trainer size {e.size}" if e.kind == "trainer" else e.script or e.kind
        done = ""
        if e.kind == "session":
            done = "partial" if e.status == "partial" else "complete"
        cells = [f"{e.id:>4}", f"{e.started:%Y-%m-%d %H:%M}", f"{what:<28}", f"{done:<8}",
                 f"{COMFORT.get(e.comfort, ''):<16}", e.note or ""]
        click.echo("  ".join(cells).rstrip())


@log_group.command("export")
@click.option("--csv", "as_csv", is_flag=True, default=True, help="As CSV (the default and only format).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (mode 0600) "
                                                                       "instead of the screen.")
@db_option
@friendly
def log_export(as_csv, output, db):
    """Take your data with you: every entry as CSV."""
    import io
    import os
    from .export import atomic_path
    from .practice import open_log
    with open_log(db) as log:
        if output is None:
            log.export_csv(sys.stdout)
            return
        text = io.StringIO()
        count = log.export_csv(text)
    try:
        with atomic_path(Path(output), mode=0o600) as tmp:
            tmp.write_text(text.getvalue(), encoding="utf-8")
    except OSError as e:
        raise VoicecoachError(f"{output}: could not be written ({e.strerror or e}); nothing was left behind") \
            from None
    click.echo(f"Wrote {count} entries to {output}.", err=True)


@log_group.command("forget")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@db_option
@friendly
def log_forget(yes, db):
    """Delete the whole practice log, for good."""
    from .practice import db_path, forget, open_log
    path = db_path(db)
    if not path.exists():
        click.echo(f"There is no practice log at {path}; nothing to delete.")
        return
    if not yes:
        with open_log(path) as log:
            count = log.count()
        if not click.confirm(f"This deletes all {count} entries in {path}, for good. Delete them?", default=False):
            click.echo("Nothing was deleted.")
            return
    count = forget(path)
    click.echo(f"Deleted the practice log ({count} entries).")


@log_group.command("check")
@db_option
@friendly
def log_check(db):
    """Check that the practice log file is sound."""
    from .practice import open_log
    with open_log(db) as log:
        problems, count = log.check(), log.count()
    if problems:
        raise VoicecoachError(f"{log.path}: " + "; ".join(problems))
    click.echo(f"{log.path}: sound, {count} entries.")


@cli.command("progress")
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.png",
              help="Also draw a chart: days a week and trainer size over time.")
@click.option("--program", "program_file", type=click.Path(dir_okay=False),
              help="The program to follow (default: scripts/program.yaml).")
@db_option
@friendly
def progress_cmd(plot, program_file, db):
    """How this week is going, your current stage, and a gentle next step."""
    from datetime import date
    from .practice import db_path, open_log
    from .program import load_program
    from .progress import describe, summarise
    stages, trouble = (), None
    path = Path(program_file) if program_file else paths.scripts_dir() / "program.yaml"
    if program_file or path.is_file():
        try:
            stages = load_program(path).stages
        except VoicecoachError as e:
            if program_file:
                raise
            trouble = f"(The program could not be read, so stages are left out: {e})"
    entries = []
    if db_path(db).exists():    # looking at progress should not create a log
        with open_log(db) as log:
            entries = log.entries()
    progress = summarise(entries, stages, date.today())
    click.echo(describe(progress))
    if trouble:
        click.echo(trouble, err=True)
    if plot:
        from .chart import write_png
        click.echo(f"Chart: {write_png(progress, plot)}")


@cli.command("remind")
@click.option("--days", default="mon,wed,fri", show_default=True, help="Which days, e.g. mon,wed,fri or daily.")
@click.option("--at", "at", default="20:00", show_default=True, metavar="HH:MM", help="The time of day.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The .ics file to write.")
@click.option("--title", help="What the calendar shows (default: a discreet \"A few minutes for me\").")
@click.option("--minutes", type=click.IntRange(1, 240), default=15, show_default=True, help="How long the event is.")
@friendly
def remind_cmd(days, at, output, title, minutes):
    """Write a calendar file with a weekly reminder to practise; import it into any calendar app."""
    from .reminders import TITLE, parse_days, parse_time, write_ics
    chosen, when = parse_days(days), parse_time(at)
    title = " ".join((title or TITLE).split())
    if not title:
        raise VoicecoachError("--title is empty; leave it out for the discreet default")
    path = write_ics(output, chosen, when, title=title, minutes=minutes)
    click.echo(f"Wrote {path}: \"{title}\", {','.join(chosen)} at {when:%H:%M}, weekly. "
               "Open it with your calendar app to add it.")


@cli.command("serve")
@click.argument("program", required=False, type=click.Path(dir_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="The port to listen on (0: any free one).")
@click.option("--lan", is_flag=True, help="Listen on this computer's Wi-Fi address, so your phone can reach it "
                                         "(default: this computer only).")
@click.option("--https", "use_https", is_flag=True,
              help="Encrypt with a self-signed certificate made on this computer (the phone warns once).")
@click.option("--discreet", is_flag=True, help="Neutral titles on the page and in the phone's media controls.")
@click.option("--dir", "folder", type=click.Path(file_okay=False),
              help="Where the sessions are exported to and shared from (default: in your user data folder).")
@click.pass_context
@friendly
def serve_cmd(ctx, program, port, lan, use_https, discreet, folder):
    """Share PROGRAM's sessions (default: scripts/program.yaml) with your phone through a private page."""
    from .library import find
    from .serve import default_folder, open_share
    path = find(program, paths.scripts_dir()) if program else paths.scripts_dir() / "program.yaml"
    if not path.is_file():
        raise VoicecoachError(f"{path}: there is no such program or script (`voicecoach list` shows them)")
    with _ProgressBar() as bar:
        sharing = open_share(path, _cache(ctx), Path(folder) if folder else default_folder(path, discreet),
                             port=port, lan=lan, https=use_https, discreet=discreet, progress=bar.update,
                             on_visit=lambda address: click.echo(f"The page was opened from {address}."))
    sharing.announce(click.echo)
    try:
        sharing.run()
    except KeyboardInterrupt:
        click.echo("\nStopped sharing; the page and sessions can no longer be reached.")


def main():
    cli(obj={})


if __name__ == "__main__":
    main()
