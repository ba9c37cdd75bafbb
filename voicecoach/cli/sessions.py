"""Commands over sessions: list, show, export, render, play."""

from __future__ import annotations

import json
from pathlib import Path

import click

from voicecoach import paths
from voicecoach.cli.common import (
    ProgressBar,
    background_options,
    cache_of,
    friendly,
    voice_kwargs,
    voice_options,
)
from voicecoach.errors import VoicecoachError
from voicecoach.units import length_text, minutes


@click.command("list")
@click.option("--dir", "folder", type=click.Path(file_okay=False),
              help="Folder of scripts (default: the library, and your own scripts folder when it has any).")
@click.pass_context
@friendly
def list_cmd(ctx, folder):
    """The scripts, with title and length, then the program's stages in order; any of them plays by name."""
    folders = [Path(folder)] if folder else [paths.scripts_dir()]
    own = paths.user_scripts_dir()
    if not folder and any(own.glob("*.yaml")):
        folders.append(own)
    for n, where in enumerate(folders):
        if n:
            click.echo(f"\nYour own scripts, in {where}:")
        _list_folder(ctx, where)
    if not folder:
        click.echo(f"\nPlay any of them by name, e.g. `voicecoach play {Path(paths.DEFAULT_SCRIPT).stem}`. "
                   f"Scripts of your own go in {own}.")


def _list_folder(ctx, folder: Path) -> None:
    from voicecoach.catalogue import catalogue, programs
    for entry in catalogue(folder, cache_of(ctx)):
        if entry.error or entry.length is None:     # a script that cannot be read has no length
            click.echo(f"{entry.path.name:<34} (cannot be read) {entry.error}")
            continue
        click.echo(f"{entry.path.name:<34} {length_text(entry.length, entry.estimated):>11}  {entry.title}")
        if entry.about:
            click.echo(f"{'':<34} {'':>11}  {entry.about}")
    for found in programs(folder, cache_of(ctx)):
        if found.error or found.program is None:    # a program that cannot be read is None
            click.echo(f"\n{found.path.name:<34} (cannot be read) {found.error}")
            continue
        click.echo(f"\nProgram: {found.program.title} ({found.path.name}; `voicecoach show {found.path.stem}`)")
        for s in found.stages:
            click.echo(f"{s.number:>4}. {s.stage.name:<28} {length_text(s.length, s.estimated):>11}  {s.stage.label()}")


@click.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@voice_options
@click.pass_context
@friendly
def show(ctx, script, as_json, sets, voice, rate, volume):
    """The timeline of SCRIPT: every cue with its start time (nothing is played); a program lists its stages."""
    from voicecoach.catalogue import describe_program, open_program
    from voicecoach.exercise.library import locate
    from voicecoach.session import prepare
    script = locate(script)
    found = open_program(script, cache_of(ctx), voice=voice, rate=rate, volume=volume)
    if found is not None:
        if sets:
            raise VoicecoachError(f"{script}: --set applies to a script; each stage of a program sets its own")
        click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False) if as_json else describe_program(found))
        return
    # Every cue's time depends on the real length of the speech before it: render what is missing, visibly.
    with ProgressBar() as bar:
        session = prepare(script, cache_of(ctx), **voice_kwargs(sets, voice, rate, volume), progress=rendering_progress(bar))
    if as_json:
        data = session.timeline.to_dict()
        data["voice"] = session.voice.identity()
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        from voicecoach.exercise.timeline import cue_sheet
        click.echo(cue_sheet(session.timeline))


@click.command()
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
@click.option("--force", is_flag=True,
              help="Export again even when the files are up to date; replace a .vtt beside -o that voicecoach did "
                   "not write; with -d, write into a folder that holds files voicecoach did not write (none of "
                   "them is removed; one with a name the export needs is replaced).")
@click.option("--hands-free", is_flag=True,
              help="For the shower: a spoken pre-roll, a soft tone before each phase, a slower, evened-out voice.")
@click.option("--pre-roll", type=click.IntRange(0, 600), default=20, show_default=True, metavar="SECONDS",
              help="With --hands-free: seconds between 'Starting in ...' and the session.")
@voice_options
@background_options
@click.pass_context
@friendly
def export(ctx, script, output, folder, fmt, discreet, transcript, force, hands_free, pre_roll,
           sets, voice, rate, volume, background, background_level):
    """Render SCRIPT to a file for a phone (-o), or a whole program to a folder (-d)."""
    if not hands_free and ctx.get_parameter_source("pre_roll") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--pre-roll is for --hands-free; add --hands-free, or leave it out")
    from voicecoach.exercise.library import _is_program_file, locate
    from voicecoach.export.file import export_script
    from voicecoach.export.program import export_program
    if bool(output) == bool(folder):
        raise VoicecoachError("say where to write: -o FILE (.mp3 .m4a .opus .wav) for one script, "
                              "or -d FOLDER for a whole program")
    script = locate(script)
    options = {**voice_kwargs(sets, voice, rate, volume), "background": background,
               "background_level": background_level}
    common = {"discreet": discreet, "transcript": transcript, "force": force, "hands_free": hands_free,
              "pre_roll": pre_roll}
    if output and _is_program_file(script):
        raise VoicecoachError(f"{script}: this is a program of several sessions; export it into a folder with "
                              f"`voicecoach export {script.stem} -d FOLDER`, or one of its sessions with -o")
    if output:
        with ProgressBar() as bar:
            done = export_script(script, output, cache_of(ctx), progress=bar.update, **common, **options)
        note = "all phrases from the cache" if not done.session.synthesised else \
            f"{done.session.synthesised} phrase(s) synthesised"
        length = minutes(done.session.timeline.length)
        if done.skipped:
            click.echo(f"{done.path} is up to date ({length}, {note}); nothing to do.")
        else:
            loud = done.loudness
            if loud is None:    # export_session measures every file it writes
                raise VoicecoachError(f"{done.path}: written but not measured")
            click.echo(f"Wrote {done.path} ({length}, {loud.integrated:.1f} LUFS, "
                       f"true peak {loud.true_peak:.1f} dBTP, {note}).")
        if done.transcript_written:
            click.echo(f"Wrote the transcript {done.transcript}.")
        return
    with ProgressBar() as bar:
        batch = export_program(script, folder, cache_of(ctx), fmt=fmt, progress=bar.update, **common, **options)
    n, written = len(batch.files), sum(not f.skipped for f in batch.files)
    if batch.unchanged:
        click.echo(f"Everything in {batch.folder} is up to date ({n} session{'s' if n != 1 else ''}); nothing to do.")
    else:
        click.echo(f"Wrote {written} of {n} sessions to {batch.folder} "
                   f"({n - written} already up to date), with {batch.playlist.name} and {batch.readme.name}.")
    for f in batch.files:
        mark = "unchanged" if f.skipped else f"{f.loudness.integrated:.1f} LUFS"
        click.echo(f"  {f.path.name:<44} {minutes(f.session.timeline.length):>8}  {mark}")
    if batch.removed:
        click.echo(f"Removed {len(batch.removed)} file(s) an earlier export wrote that the program no longer has.")


@click.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(), required=True, help="The .wav file to write.")
@voice_options
@click.pass_context
@friendly
def render(ctx, script, output, sets, voice, rate, volume):
    """Write SCRIPT's session exactly as `play` plays it, as a WAV (to check timing or edit it)."""
    from voicecoach.exercise.library import locate
    from voicecoach.export.file import render_script
    with ProgressBar() as bar:
        session = render_script(locate(script), output, cache_of(ctx), **voice_kwargs(sets, voice, rate, volume),
                                progress=rendering_progress(bar))
    note = "all phrases from the cache" if not session.synthesised else f"{session.synthesised} phrase(s) synthesised"
    click.echo(f"Wrote {output} ({minutes(session.timeline.length)}, {note}; "
               "no loudness change: use export for a phone).")


@click.command()
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
@background_options
@click.pass_context
@friendly
def play(ctx, script, sets, voice, rate, volume, hands_free, pre_roll, section, db, no_log, background,
         background_level):
    """Play SCRIPT (default: the pelvic floor release session) with live progress and keys."""
    if not hands_free and ctx.get_parameter_source("pre_roll") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--pre-roll is for --hands-free; add --hands-free, or leave it out")
    from voicecoach.exercise.library import locate
    from voicecoach.player.play import play_script
    from voicecoach.practice.log import db_path
    play_script(locate(script) if script else paths.default_script(), cache_of(ctx),
                **voice_kwargs(sets, voice, rate, volume), hands_free=hands_free, pre_roll=pre_roll, section=section,
                log=None if no_log else db_path(db), background=background, background_level=background_level)


def rendering_progress(bar: ProgressBar):
    """A gather() progress callback that shows the phrases being rendered on `bar`."""
    def step(done: int, total: int) -> None:
        if total:
            bar.update(done / total, f"Rendering phrase {min(done + 1, total)} of {total}")
    return step
