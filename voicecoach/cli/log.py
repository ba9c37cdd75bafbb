"""`voicecoach log`: the private practice log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voicecoach.cli.common import Between, db_option, entry_options, friendly
from voicecoach.errors import VoicecoachError


def _noted(log, entry_id: int) -> str:
    from voicecoach.practice.log import COMFORT, what_was_done
    from voicecoach.practice.settings import unchosen
    e = log.get(entry_id)
    what = what_was_done(e, unchosen(e.script) if e.script else None)
    felt = f", {COMFORT[e.comfort]}" if e.comfort else ""
    # The whole note, as it is now kept: a note given to `log rate` is added to the one before, and this shows it.
    note = f" Note: {_one_line(e.note)}" if e.note else ""
    return f"Noted: {what}{felt}, {e.started:%a %d %b}. Entry {e.id}.{note}"


def _confirm(question: str, command: str) -> bool:
    """Ask `question`; with no one to answer (stdin closed, or at its end), refuse in one line that names --yes."""
    refusal = VoicecoachError(f"no answer could be read (the input is closed or empty), so nothing was deleted; "
                              f"`voicecoach {command} --yes` deletes without asking")
    if sys.stdin is None or sys.stdin.closed:
        raise refusal
    try:
        return click.confirm(question, default=False)
    except click.Abort as e:
        # click turns both the end of the input and Ctrl-C into Abort; only the first is a missing answer.
        if isinstance(e.__context__, EOFError):
            click.echo("")      # the question was left without its line's end
            raise refusal from None
        raise
    except (OSError, RuntimeError):     # an input that cannot be read at all (a folder, a socket closed under us)
        click.echo("")
        raise refusal from None


def _note_of(words: tuple, note: str | None) -> str | None:
    """The note given as plain words, as --note, or both (joined as two notes are: "tense at first; better")."""
    from voicecoach.practice.values import joined_notes
    parts = [text for text in (" ".join(words).strip(), (note or "").strip()) if text]
    return joined_notes(*parts) if len(parts) == 2 else (parts[0] if parts else None)


def _add_entry(db, kind, comfort, note, when, **fields) -> None:
    from voicecoach.practice.log import open_log, parse_comfort, parse_when
    with open_log(db) as log:
        entry_id = log.add(kind, comfort=parse_comfort(comfort), note=note,
                           when=parse_when(when) if when else None, **fields)
        click.echo(_noted(log, entry_id))


@click.group("log")
def log_group():
    """Your private practice log.

    Note practice, say how it felt, take it with you or delete it. It stays on this computer.
    """


@log_group.command("trainer")
@click.argument("words", nargs=-1, metavar="[NOTE]")
@click.option("--size", required=True, metavar="SIZE", help="The trainer size you used (one of the program's).")
@entry_options
@db_option
@friendly
def log_trainer(words, size, comfort, note, when, db):
    """Note trainer practice done without the player.

    A NOTE of your own may follow, e.g. `voicecoach log trainer --size 2 "easier today"`.
    """
    from voicecoach.practice.values import given_size, trainer_sizes
    _add_entry(db, "trainer", comfort, _note_of(words, note), when, size=given_size(size, trainer_sizes()))


@log_group.command("session")
@click.argument("script")
@click.argument("words", nargs=-1, metavar="[NOTE]")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="The settings you used, e.g. size=2.")
@click.option("--minutes", type=Between(0, 600, unit="minutes"), help="About how long it took.")
@entry_options
@db_option
@friendly
def log_session(script, words, sets, minutes, comfort, note, when, db):
    """Note a session you did from memory, without the player.

    SCRIPT is the session's name; a NOTE of your own may follow.
    """
    from voicecoach.exercise.library import locate
    from voicecoach.exercise.script import load_script, parse_overrides
    path = locate(script)
    params = parse_overrides(sets)
    load_script(path, params)       # the settings are checked as `play` checks them, before anything is noted
    _add_entry(db, "session", comfort, _note_of(words, note), when, script=path.name, params=params, minutes=minutes)


@log_group.command("other")
@click.argument("words", nargs=-1, metavar="[WHAT]")
@click.option("--minutes", type=Between(0, 600, unit="minutes"), help="About how long it took.")
@entry_options
@db_option
@friendly
def log_other(words, minutes, comfort, note, when, db):
    """Note any other practice; it counts for the week.

    Say WHAT in a few words, e.g. `voicecoach log other "shower routine" --minutes 10`.
    """
    _add_entry(db, "other", comfort, _note_of(words, note), when, minutes=minutes)


@log_group.command("rate")
@click.argument("words", nargs=-1, metavar="[ENTRY] COMFORT [NOTE]")
@click.option("--comfort", metavar="1-5", help="How it felt: 1 very hard .. 5 very comfortable (or the words).")
@click.option("--note", metavar="TEXT", help="A few words for yourself, added to the entry's note.")
@click.option("--replace-note", is_flag=True, help="Put the new note in place of the one the entry has.")
@db_option
@friendly
def log_rate(words, comfort, note, replace_note, db):
    """Say how an entry felt: 1 very hard to 5 very comfortable.

    `voicecoach log rate 4` rates the entry noted or played last; `voicecoach log rate 12 4 "easier"` rates entry
    12. A note is added to the one the entry has (--replace-note puts it in its place); `voicecoach log note`
    adds one without a rating.
    """
    from voicecoach.practice.log import open_log, parse_comfort, split_rating
    entry: int | None
    if comfort is not None and words and words[0].isdigit():
        entry, said, rest = int(words[0]), None, tuple(words[1:])     # `log rate 12 --comfort 4`
    else:
        entry, said, rest = split_rating(words)
    if said is not None and comfort is not None:
        raise VoicecoachError("give how it felt once: `voicecoach log rate 4`, or --comfort 4")
    comfort = said if said is not None else parse_comfort(comfort)
    note = _note_of(rest, note)
    if replace_note and note is None:
        raise VoicecoachError("--replace-note needs the new note, e.g. `voicecoach log rate 4 \"easier\" --replace-note`")
    if comfort is None and note is None:
        raise VoicecoachError("say how it felt, e.g. `voicecoach log rate 4` (1 very hard .. 5 very comfortable); "
                              "give --comfort, --note or both")
    with open_log(db, existing="to rate") as log:
        e = log.rate(entry, comfort=comfort, note=note, replace_note=replace_note)
        click.echo(_noted(log, e.id))


@log_group.command("note")
@click.argument("words", nargs=-1, metavar="[ENTRY] NOTE")
@click.option("--replace-note", is_flag=True, help="Put the new note in place of the one the entry has.")
@db_option
@friendly
def log_note(words, replace_note, db):
    """Add a few words to an entry's note, without rating it.

    `voicecoach log note "calmer today"` adds to the entry noted or played last; `voicecoach log note 3 "calmer
    today"` to entry 3 (`log rate 3` would rate the last entry 3).
    """
    from voicecoach.practice.log import open_log
    entry = int(words[0]) if words and words[0].isdigit() else None
    note = _note_of(tuple(words[1:]) if entry is not None else tuple(words), None)
    if note is None:
        # A lone number is an entry without its words, not a note that says "3".
        raise VoicecoachError(f"give the note's words{' after the entry' if entry is not None else ''}, e.g. "
                              f"`voicecoach log note {entry or 3} \"calmer today\"`")
    with open_log(db, existing="to add a note to") as log:
        e = log.rate(entry, note=note, replace_note=replace_note)
        click.echo(_noted(log, e.id))


@log_group.command("delete")
@click.argument("entry", type=Between(whole=True, hint="; `voicecoach log list` shows each entry's number"))
@click.option("--yes", is_flag=True, help="Do not ask first.")
@db_option
@friendly
def log_delete(entry, yes, db):
    """Delete one entry, after asking; the rest of the log stays.

    The entry's number is in `voicecoach log list`.
    """
    from voicecoach.practice.log import open_log, what_was_done
    with open_log(db, existing="to delete") as log:
        e = log.get(entry)
        said = f"entry {e.id}: {what_was_done(e)}, {e.started:%a %d %b %H:%M}"
        if not yes and not _confirm(f"Delete {said}?", f"log delete {e.id}"):
            click.echo("Nothing was deleted.")
            return
        log.delete(entry)
    click.echo(f"Deleted {said}. The other entries are unchanged.")


@log_group.command("list")
@click.option("--last", type=Between(1, whole=True), default=20, show_default=True, help="How many entries to show.")
@db_option
@friendly
def log_list(last, db):
    """The latest entries in the log.

    Each with its number, when, what (with the settings you chose), how it went, and your note.
    """
    from voicecoach.cli.layout import row, width
    from voicecoach.practice.log import COMFORT, SOURCES, read_log, what_was_done
    from voicecoach.practice.settings import unchosen_of
    with read_log(db) as log:
        entries = log.entries()[-last:]
        skipped = log.skipped_note()
    if skipped:
        click.echo(skipped, err=True)
    if not entries and not skipped:
        click.echo("The log is empty. Playing a session, or `voicecoach log trainer --size 1`,\nadds to it.")
    defaults = unchosen_of(e.script for e in entries)
    rows = []
    for e in entries:
        done = "partial" if e.kind == "session" and e.status == "partial" else ""
        comfort = COMFORT.get(e.comfort, "") if e.comfort is not None else ""   # not every entry rates comfort
        # Where it came from: played here, noted by hand, or sent by the phone page (blank: from before sources).
        source = SOURCES.get(e.source, "") if e.source else ""
        how = ", ".join(t for t in (done, comfort, source) if t)
        note = _one_line(e.note or "")
        rows.append((e, what_was_done(e, defaults.get(e.script or "")), f"{how}: {note}" if how and note else how or note))
    # What was done in a column as wide as the widest, and how it went after it, wrapping under its own start; where
    # that would leave too narrow a column, it follows straight on and wraps under what was done.
    head = 24
    column = head + max((len(what) for _, what, _ in rows), default=0) + 2
    for e, what, rest in rows:
        lead = [(f"{e.id:>4}", 6), (f"{e.started:%Y-%m-%d %H:%M}", head - 6)]
        if width() - column >= 24:
            lines = row(lead + [(what, column - head)], rest, split_long=True)
        else:
            lines = row(lead, f"{what}, {rest}" if rest else what, split_long=True)
        for line in lines:
            click.echo(line.rstrip())


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
    from voicecoach.practice.log import read_log
    with read_log(db) as log:
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
    from voicecoach.practice.log import db_path, forget, forgettable
    path = db_path(db)
    if not path.exists():
        click.echo(f"There is no practice log at {path}; nothing to delete.")
        return
    if not yes:
        count = forgettable(path)      # another program's file is refused before anyone is asked
        if not _confirm(f"This deletes all {count} entries in {path}, for good. Delete them?", "log forget"):
            click.echo("Nothing was deleted.")
            return
    count = forget(path)
    click.echo(f"Deleted the practice log ({count} entries).")


@log_group.command("check")
@db_option
@friendly
def log_check(db):
    """Check that the practice log file is sound.

    It should hold nothing the log does not define, and only you should be able to read it.
    """
    from voicecoach.practice.log import db_path, read_log
    path = db_path(db)
    if not path.exists():
        click.echo(f"There is no practice log at {path} yet; playing a session, or `voicecoach log trainer "
                   "--size 1`, starts it.")
        return
    with read_log(path) as log:
        problems, count = log.check(), log.count()
    if problems:
        raise VoicecoachError(f"{log.path}: " + "; ".join(problems))
    click.echo(f"{log.path}: sound, {count} entries.")
