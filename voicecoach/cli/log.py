"""`voicecoach log`: the private practice log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voicecoach import paths
from voicecoach.cli.common import db_option, entry_options, friendly
from voicecoach.errors import VoicecoachError, shown


def _noted(log, entry_id: int) -> str:
    from voicecoach.practice.log import COMFORT
    e = log.get(entry_id)
    what = {"trainer": f"trainer size {e.size}", "session": e.script or "a session"}.get(e.kind, "other practice")
    if e.kind == "session" and e.script:
        what = f"{e.script}" + "".join(f" {k}={v}" for k, v in e.params.items())
    felt = f", {COMFORT[e.comfort]}" if e.comfort else ""
    return f"Noted: {what}{felt}, {e.started:%a %d %b}. LogEntry {e.id}."


def _add_entry(db, kind, comfort, note, when, **fields) -> None:
    from voicecoach.practice.log import open_log, parse_comfort, parse_when
    with open_log(db) as log:
        entry_id = log.add(kind, comfort=parse_comfort(comfort), note=note,
                           when=parse_when(when) if when else None, **fields)
        click.echo(_noted(log, entry_id))


@click.group("log")
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
    from voicecoach.exercise.script import parse_overrides
    name = Path(script).name if Path(script).suffix == ".yaml" else f"{Path(script).name}.yaml"
    # A name too long for the file system raises here, and `friendly` says so in one line.
    if not (Path(script).is_file() or (paths.scripts_dir() / name).is_file()):
        raise VoicecoachError(f"there is no script {shown(script)} (`voicecoach list` shows them)")
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
    from voicecoach.practice.log import open_log, parse_comfort
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
    from voicecoach.practice.log import COMFORT, open_log
    with open_log(db) as log:
        entries = log.entries()[-last:]
        skipped = log.skipped_note()
    if skipped:
        click.echo(skipped, err=True)
    if not entries and not skipped:
        click.echo("The log is empty. Playing a session, or `voicecoach log trainer --size 1`, adds to it.")
    for e in entries:
        what = f"trainer size {e.size}" if e.kind == "trainer" else e.script or e.kind
        done = ""
        if e.kind == "session":
            done = "partial" if e.status == "partial" else "complete"
        comfort = COMFORT.get(e.comfort, "") if e.comfort is not None else ""   # not every entry rates comfort
        cells = [f"{e.id:>4}", f"{e.started:%Y-%m-%d %H:%M}", f"{what:<28}", f"{done:<8}",
                 f"{comfort:<16}", _one_line(e.note or "")]
        click.echo("  ".join(cells).rstrip())


def _one_line(text: str) -> str:
    # A note keeps its own line breaks in the file; the list shows each entry on one line.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@log_group.command("export")
@click.option("--csv", "as_csv", is_flag=True, default=True, help="As CSV (the default and only format).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (mode 0600) "
                                                                       "instead of the screen.")
@db_option
@friendly
def log_export(as_csv, output, db):
    """Take your data with you: every entry as CSV."""
    import io

    from voicecoach.files import atomic_path, written
    from voicecoach.practice.log import open_log
    with open_log(db) as log:
        if output is None:
            log.export_csv(sys.stdout)
            if log.skipped_note():
                click.echo(log.skipped_note(), err=True)
            return
        text = io.StringIO()
        count = log.export_csv(text)
        skipped = log.skipped_note()
    if skipped:
        click.echo(skipped, err=True)
    with written(Path(output)), atomic_path(Path(output), mode=0o600) as tmp:
        tmp.write_text(text.getvalue(), encoding="utf-8")
    click.echo(f"Wrote {count} entries to {output}.", err=True)


@log_group.command("forget")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@db_option
@friendly
def log_forget(yes, db):
    """Delete the whole practice log, for good."""
    from voicecoach.practice.log import db_path, forget, open_log
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
    from voicecoach.practice.log import open_log
    with open_log(db) as log:
        problems, count = log.check(), log.count()
    if problems:
        raise VoicecoachError(f"{log.path}: " + "; ".join(problems))
    click.echo(f"{log.path}: sound, {count} entries.")
