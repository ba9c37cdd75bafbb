"""`voicecoach progress` and `voicecoach remind`: how practice is going, and a calendar reminder."""

from __future__ import annotations

from pathlib import Path

import click

from voicecoach import paths
from voicecoach.cli.common import db_option, friendly
from voicecoach.errors import VoicecoachError


@click.command("progress")
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.png",
              help="Also draw a chart: days a week and trainer size over time.")
@click.option("--program", "program_file", type=click.Path(dir_okay=False),
              help="The program to follow (default: scripts/program.yaml).")
@db_option
@friendly
def progress_cmd(plot, program_file, db):
    """How this week is going, your current stage, and a gentle next step."""
    from datetime import date

    from voicecoach.exercise.program import load_program
    from voicecoach.practice.log import db_path, open_log
    from voicecoach.practice.progress import report, summarise
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
            skipped = log.skipped_note()
        if skipped:
            click.echo(skipped, err=True)
    progress = summarise(entries, stages, date.today())
    click.echo(report(progress))
    if trouble:
        click.echo(trouble, err=True)
    if plot:
        from voicecoach.practice.chart import write_png
        click.echo(f"Chart: {write_png(progress, plot)}")


@click.command("remind")
@click.option("--days", default="mon,wed,fri", show_default=True, help="Which days, e.g. mon,wed,fri or daily.")
@click.option("--at", "at", default="20:00", show_default=True, metavar="HH:MM", help="The time of day.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The .ics file to write.")
@click.option("--title", help="What the calendar shows (default: a discreet \"A few minutes for me\").")
@click.option("--minutes", type=click.IntRange(1, 240), default=15, show_default=True, help="How long the event is.")
@friendly
def remind_cmd(days, at, output, title, minutes):
    """Write a calendar file with a weekly reminder to practise; import it into any calendar app."""
    from voicecoach.practice.reminders import TITLE, parse_days, parse_time, write_ics
    chosen, when = parse_days(days), parse_time(at)
    title = " ".join((title or TITLE).split())
    if not title:
        raise VoicecoachError("--title is empty; leave it out for the discreet default")
    path = write_ics(output, chosen, when, title=title, minutes=minutes)
    click.echo(f"Wrote {path}: \"{title}\", {','.join(chosen)} at {when:%H:%M}, weekly. "
               "Open it with your calendar app to add it.")
