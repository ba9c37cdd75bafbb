"""`voicecoach progress`, `today`, `remind` and `doctor`: how practice is going, today's stage, a reminder, a check-up."""

from __future__ import annotations

import click

from voicecoach import paths
from voicecoach.cli.common import (
    Between,
    background_options,
    cache_of,
    check_hands_free,
    db_option,
    friendly,
    keep_alive_option,
    voice_kwargs,
    voice_options,
)
from voicecoach.cli.layout import paragraphs, row
from voicecoach.errors import VoicecoachError


@click.command("progress")
@click.option("--plot", type=click.Path(dir_okay=False), metavar="FILE.png",
              help="Also draw a chart: days a week and trainer size over time.")
@click.option("--program", "program_file", type=click.Path(dir_okay=False),
              help="The program to follow (default: scripts/program.yaml).")
@db_option
@friendly
def progress_cmd(plot, program_file, db):
    """How this week is going, your stage, and a gentle next step."""
    from datetime import date

    from voicecoach.exercise.library import locate
    from voicecoach.exercise.program import load_program
    from voicecoach.practice.log import read_log
    from voicecoach.practice.progress import report, summarise
    stages, trouble = (), None
    path = locate(program_file) if program_file else paths.scripts_dir() / "program.yaml"
    if program_file or path.is_file():
        try:
            stages = load_program(path).stages
        except VoicecoachError as e:
            if program_file:
                raise
            trouble = f"(The program could not be read, so stages are left out: {e})"
    entries = []
    with read_log(db) as log:       # read only: a log on read-only media works, and none is created
        entries = log.entries()
        skipped = log.skipped_note()
        if skipped:
            click.echo(skipped, err=True)
    progress = summarise(entries, stages, date.today())
    click.echo("\n".join(paragraphs(report(progress))))
    if trouble:
        click.echo(trouble, err=True)
    if plot:
        from voicecoach.practice.chart import write_png
        click.echo(f"Chart: {write_png(progress, plot)}")


@click.command("today")
@click.argument("number", type=Between(whole=True, hint="; `voicecoach show program` lists the stages"),
                required=False, metavar="[STAGE]")
@click.option("--program", "program_file", type=click.Path(dir_okay=False),
              help="The program to follow (default: the library's program).")
@voice_options
@click.option("--hands-free", is_flag=True, help="For the shower, as with `voicecoach play --hands-free`.")
@click.option("--pre-roll", type=Between(0, 600, whole=True, unit="seconds"), default=20,
              show_default=True, metavar="SECONDS",
              help="With --hands-free: seconds between 'Starting in ...' and the session.")
@click.option("--no-log", is_flag=True, help="Do not record this session in the practice log.")
@background_options
@keep_alive_option
@db_option
@click.pass_context
@friendly
def today_cmd(ctx, number, program_file, sets, voice, rate, volume, hands_free, pre_roll, no_log, background,
              background_level, keep_alive, db):
    """Play the stage of the program you are at, or stage STAGE.

    The stage you are at comes from your log; it says which stage and why."""
    from datetime import date
    from pathlib import Path

    from voicecoach.errors import NO_AUDIO_DEVICE
    from voicecoach.exercise.library import locate
    from voicecoach.exercise.program import load_program
    from voicecoach.exercise.script import load_script, parse_overrides
    from voicecoach.player.play import play_script
    from voicecoach.practice.log import db_path, read_log
    from voicecoach.practice.progress import choose_today, summarise
    check_hands_free(ctx, hands_free, keep_alive)
    program = load_program(locate(program_file) if program_file else paths.scripts_dir() / "program.yaml")
    entries = []
    with read_log(db) as log:       # read only: choosing a stage creates no log
        entries = log.entries()
    mine = parse_overrides(list(sets))
    chosen = choose_today(summarise(entries, program.stages, date.today()), program.stages, number, mine)
    options = voice_kwargs(sets, voice, rate, volume)
    options["overrides"] = {**chosen.stage.set, **mine}
    load_script(chosen.stage.script, options["overrides"])     # a --set typo is said before the stage is announced
    click.echo(chosen.why)
    try:
        play_script(chosen.stage.script, cache_of(ctx), **options, hands_free=hands_free, pre_roll=pre_roll,
                    log=None if no_log else db_path(db), background=background, background_level=background_level,
                    keep_alive=keep_alive)
    except VoicecoachError as e:
        if e.exit_code != NO_AUDIO_DEVICE:
            raise
        # As `play` does: a --set typo first, else the export of this stage's session with its settings.
        from voicecoach.cli.suggest import check_asked, export_command, no_device, session_name
        check_asked(Path(chosen.stage.script), cache_of(ctx), overrides=options["overrides"], voice=voice, rate=rate,
                    volume=volume, background=background, background_level=background_level)
        pairs = [f"{name}={value}" for name, value in chosen.stage.set.items() if name not in mine] + list(sets)
        raise no_device(e, export_command(ctx, session_name(Path(chosen.stage.script)), pairs)) from None


@click.command("remind")
@click.option("--days", default="mon,wed,fri", show_default=True, help="Which days, e.g. mon,wed,fri or daily.")
@click.option("--at", "at", default="20:00", show_default=True, metavar="HH:MM", help="The time of day.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The .ics file to write.")
@click.option("--title", help="What the calendar shows (default: a discreet \"A few minutes for me\").")
@click.option("--minutes", type=Between(1, 240, whole=True, unit="minutes"), default=15, show_default=True, help="How long the event is.")
@friendly
def remind_cmd(days, at, output, title, minutes):
    """Write a calendar file with a weekly reminder to practise.

    Import it into any calendar app."""
    from voicecoach.practice.reminders import TITLE, parse_days, parse_time, write_ics
    chosen, when = parse_days(days), parse_time(at)
    title = " ".join((title or TITLE).split())
    if not title:
        raise VoicecoachError("--title is empty; leave it out for the discreet default")
    path = write_ics(output, chosen, when, title=title, minutes=minutes)
    click.echo(f"Wrote {path}: \"{title}\", {','.join(chosen)} at {when:%H:%M}, weekly. "
               "Open it with your calendar app to add it.")


@click.command("doctor")
@db_option
@click.pass_context
@friendly
def doctor_cmd(ctx, db):
    """Check this machine for what voicecoach needs.

    Speech engines and voices, ffmpeg, the audio device, the cache, the log, the config file."""
    from voicecoach.doctor import checks
    from voicecoach.practice.log import db_path
    found = checks(cache_of(ctx).root, db_path(db))
    for c in found:
        mark = "ok" if c.ok else ("!!" if c.needed else "--")
        click.echo("\n".join(row([(mark, 4), (c.what, 19)], c.detail)))
        if not c.ok and c.fix:
            click.echo("\n".join(row([("", 23)], f"fix: {c.fix}")))
    missing = [c.what for c in found if c.needed and not c.ok]
    if missing:
        # The marks above name them: the line stays within 80 columns however many there are.
        many = len(missing) > 1
        raise VoicecoachError(f"{len(missing)} thing{'s' if many else ''} needed {'are' if many else 'is'} missing or "
                              "wrong, marked !! above, each with its fix")
    click.echo("Everything needed is here.")
