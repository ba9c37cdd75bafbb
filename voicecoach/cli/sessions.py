"""Commands over sessions: list, show, export, render, play."""

from __future__ import annotations

import json
from pathlib import Path

import click

from voicecoach import paths
from voicecoach.cli.common import (
    Between,
    ProgressBar,
    background_options,
    cache_of,
    check_hands_free,
    friendly,
    hands_free_options,
    keep_alive_option,
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
    """The sessions with their lengths, then the program's stages.

    Every script with its title, length and what it is for, then the program's stages in order; any of them plays
    by name.
    """
    from voicecoach.cli.layout import wrapped
    folders = [Path(folder)] if folder else [paths.scripts_dir()]
    own = paths.user_scripts_dir()
    if not folder and any(own.glob("*.yaml")):
        folders.append(own)
    for n, where in enumerate(folders):
        if n:
            click.echo("")
            for line in wrapped(f"Your own scripts, in {where}:"):
                click.echo(line)
        _list_folder(ctx, where)
    if not folder:
        click.echo("")
        for line in wrapped(f"Play any of them by name, e.g. `voicecoach play {Path(paths.DEFAULT_SCRIPT).stem}`. "
                            f"Scripts of your own go in {own}"):
            click.echo(line)


def _list_folder(ctx, folder: Path) -> None:
    from voicecoach.catalogue import catalogue, programs, without_length
    from voicecoach.cli.layout import row, wrapped
    entries = catalogue(folder, cache_of(ctx))
    # The name column is as wide as the names (a name longer than 30 columns has a line of its own).
    names = min(30, max((len(e.path.name) for e in entries), default=0)) + 1
    for entry in entries:
        name = entry.path.name
        if len(name) >= names:
            click.echo(name)
            name = ""
        if entry.error or entry.length is None:     # a script that cannot be read has no length
            click.echo(f"{name:<{names}}(cannot be read)".rstrip())
            for line in wrapped(_without_path(entry.error or "", entry.path), 4):
                click.echo(line)
            continue
        for line in row([(name, names), (length_text(entry.length, entry.estimated), -11), ("", 2)], entry.title):
            click.echo(line)
        for line in wrapped(without_length(entry.about), 4):
            click.echo(line)
    for found in programs(folder, cache_of(ctx)):
        click.echo("")
        if found.error or found.program is None:    # a program that cannot be read is None
            click.echo(f"{found.path.name} (cannot be read)")
            for line in wrapped(_without_path(found.error or "", found.path), 4):
                click.echo(line)
            continue
        for line in wrapped(f"Program: {found.program.title} ({found.path.name}; `voicecoach show {found.path.stem}`)",
                            4, first=""):
            click.echo(line)
        stages = min(28, max((len(s.stage.name) for s in found.stages), default=0)) + 1
        for s in found.stages:
            for line in row([(f"{s.number:>4}. ", 6), (s.stage.name, stages),
                             (length_text(s.length, s.estimated), -11), ("", 2)], s.stage.label()):
                click.echo(line)


def _without_path(error: str, path: Path) -> str:
    # The row names the file already: "line 3: ..." is enough, and keeps the line short.
    for prefix in (f"{path}:", f"{path.resolve()}:"):
        if error.startswith(prefix):
            rest = error[len(prefix):]
            line, sep, message = rest.partition(": ")
            return f"line {line}: {message}" if sep and line.isdigit() else rest.strip()
    return error


@click.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@voice_options
@hands_free_options
@click.pass_context
@friendly
def show(ctx, script, as_json, sets, voice, rate, volume, hands_free, pre_roll):
    """The timeline of SCRIPT: every cue with its start time.

    Nothing is played; a program lists its stages."""
    from voicecoach.catalogue import describe_program, open_program
    from voicecoach.exercise.library import locate
    from voicecoach.handsfree import prepare_hands_free
    from voicecoach.session import file_length, prepare
    check_hands_free(ctx, hands_free)
    typed, script = script, locate(script)
    found = open_program(script, cache_of(ctx), voice=voice, rate=rate, volume=volume)
    if found is not None:
        if sets:
            raise VoicecoachError(f"{script}: --set applies to a script; each stage of a program sets its own")
        click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False) if as_json else describe_program(found))
        return
    # Every cue's time depends on the real length of the speech before it: render what is missing, visibly.
    with ProgressBar() as bar:
        if hands_free:
            session = prepare_hands_free(script, cache_of(ctx), **voice_kwargs(sets, voice, rate, volume),
                                         pre_roll_s=pre_roll, progress=rendering_progress(bar))
        else:
            session = prepare(script, cache_of(ctx), **voice_kwargs(sets, voice, rate, volume),
                              progress=rendering_progress(bar))
        # Hands-free, play and export lay out the same session; otherwise a file says its waits in other words.
        as_file = session.timeline.length if hands_free else \
            file_length(session, cache_of(ctx), progress=rendering_progress(bar))
    spoken = [c.text for c in session.timeline.cues if c.kind == "speech" and c.text]
    if as_json:
        from voicecoach.speech.engines.recorded import NAME, sources
        data = session.timeline.to_dict()
        data["voice"] = session.voice.identity()
        data["file_length"] = round(as_file / 1000, 3)
        if session.voice.engine == NAME:
            data["from_pack"], data["from_fallback"] = sources(session.voice, spoken)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        from voicecoach.cli.pack import source_lines
        from voicecoach.exercise.timeline import cue_sheet
        click.echo(cue_sheet(session.timeline))
        note = length_note(session.timeline.length, as_file)
        if note:
            click.echo(note)
        from voicecoach.cli.suggest import session_name
        for line in source_lines(session.voice, spoken, session_name(script, typed)):
            click.echo(line)


def length_note(played: int, as_file: int) -> str | None:
    """Why a file from `export` lasts longer or shorter than the session as `play` plays it (None when it does not)."""
    if minutes(played) == minutes(as_file):
        return None
    return (f"As a file (`voicecoach export`) this session lasts {minutes(as_file)}, not {minutes(played)}: "
            "a file says each wait in words that need no key, and goes on by itself.")


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
@click.option("--pre-roll", type=Between(0, 600, whole=True, unit="seconds"), default=20,
              show_default=True, metavar="SECONDS",
              help="With --hands-free: seconds between 'Starting in ...' and the session.")
@voice_options
@background_options
@keep_alive_option
@click.pass_context
@friendly
def export(ctx, script, output, folder, fmt, discreet, transcript, force, hands_free, pre_roll,
           sets, voice, rate, volume, background, background_level, keep_alive):
    """Write SCRIPT to a file for a phone, or a program to a folder.

    -o FILE for one script, -d FOLDER for a whole program."""
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
               "background_level": background_level, **({"keep_alive": keep_alive} if keep_alive is not None else {})}
    common = {"discreet": discreet, "transcript": transcript, "force": force, "hands_free": hands_free,
              "pre_roll": pre_roll}
    if output and _is_program_file(script):
        raise VoicecoachError(f"{script}: this is a program of several sessions; export it into a folder with "
                              f"`voicecoach export {script.stem} -d FOLDER`, or one of its sessions with -o")
    if output:
        with ProgressBar() as bar:
            done = export_script(script, output, cache_of(ctx), progress=bar.update, **common, **options)
        note = made_note(done.session)
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
        for line in done.notes():
            click.echo(line)
        return
    with ProgressBar() as bar:
        batch = export_program(script, folder, cache_of(ctx), fmt=fmt, progress=bar.update, **common, **options)
    n, written = len(batch.files), sum(not f.skipped for f in batch.files)
    from voicecoach.cli.layout import row, wrapped
    if batch.unchanged:
        said = f"Everything in {batch.folder} is up to date ({n} session{'s' if n != 1 else ''}); nothing to do."
    else:
        said = (f"Wrote {written} of {n} sessions to {batch.folder} ({n - written} already up to date), "
                f"with {batch.playlist.name} and {batch.readme.name}.")
    for line in wrapped(said, 2, first=""):
        click.echo(line)
    # The name column is as wide as the names, up to what leaves room for the length and loudness.
    names = min(50, max((len(f.path.name) for f in batch.files), default=0)) + 1
    for f in batch.files:
        mark = "unchanged" if f.skipped else f"{f.loudness.integrated:.1f} LUFS"
        name = f.path.name
        if len(name) >= names:
            click.echo(f"  {name}")
            name = ""
        for line in row([("", 2), (name, names), (minutes(f.session.timeline.length), -8), ("", 2)], mark):
            click.echo(line)
    for f in batch.files:
        for line in f.notes():
            click.echo(f"{f.path.name}: {line}")
    if batch.removed:
        click.echo(f"Removed {len(batch.removed)} file(s) an earlier export wrote that the program no longer has.")


@click.command()
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(), required=True, help="The .wav file to write.")
@voice_options
@hands_free_options
@background_options
@keep_alive_option
@click.pass_context
@friendly
def render(ctx, script, output, sets, voice, rate, volume, hands_free, pre_roll, background, background_level,
           keep_alive):
    """Write SCRIPT's session as a WAV, exactly as `play` plays it.

    To check its timing, or to edit it."""
    from voicecoach.exercise.library import locate
    from voicecoach.export.file import render_script
    from voicecoach.session import file_length
    check_hands_free(ctx, hands_free, keep_alive)
    with ProgressBar() as bar:
        session = render_script(locate(script), output, cache_of(ctx), **voice_kwargs(sets, voice, rate, volume),
                                hands_free=hands_free, pre_roll=pre_roll, keep_alive=keep_alive,
                                background=background, background_level=background_level,
                                progress=rendering_progress(bar))
        as_file = session.timeline.length if hands_free else \
            file_length(session, cache_of(ctx), progress=rendering_progress(bar))
    note = made_note(session)
    click.echo(f"Wrote {output} ({minutes(session.timeline.length)}, {note}; "
               "no loudness change: use export for a phone).")
    said = length_note(session.timeline.length, as_file)
    if said:
        click.echo(said)


@click.command()
@click.argument("script", required=False, type=click.Path(dir_okay=False))
@voice_options
@click.option("--hands-free", is_flag=True,
              help="For the shower: a spoken pre-roll, a soft tone before each phase, a slower, louder voice; "
                   "no key is ever needed.")
@click.option("--pre-roll", type=Between(0, 600, whole=True, unit="seconds"), default=20,
              show_default=True, metavar="SECONDS",
              help="With --hands-free: seconds between 'Starting in ...' and the session.")
@click.option("--from", "section", metavar="SECTION", help='Start at this section, e.g. --from "Closing".')
@click.option("--db", type=click.Path(dir_okay=False), envvar="VOICECOACH_DB",
              help="The practice log this session is recorded in (default: in your user data folder).")
@click.option("--no-log", is_flag=True, help="Do not record this session in the practice log.")
@background_options
@keep_alive_option
@click.pass_context
@friendly
def play(ctx, script, sets, voice, rate, volume, hands_free, pre_roll, section, db, no_log, background,
         background_level, keep_alive):
    """Play SCRIPT with live progress and keys.

    Without SCRIPT: the pelvic floor release session."""
    check_hands_free(ctx, hands_free, keep_alive)
    from voicecoach.errors import NO_AUDIO_DEVICE
    from voicecoach.exercise.library import locate
    from voicecoach.player.play import play_script
    from voicecoach.practice.log import db_path
    path = locate(script) if script else paths.default_script()
    try:
        play_script(path, cache_of(ctx), **voice_kwargs(sets, voice, rate, volume), hands_free=hands_free,
                    pre_roll=pre_roll, section=section, log=None if no_log else db_path(db), background=background,
                    background_level=background_level, keep_alive=keep_alive)
    except VoicecoachError as e:
        if e.exit_code != NO_AUDIO_DEVICE:
            raise
        # The device is opened first, so nothing of what was asked is checked yet: a typo is what to show
        # (the suggested command would fail on it), else the export that makes this very session.
        from voicecoach.cli.suggest import check_asked, export_command, no_device, session_name
        check_asked(path, cache_of(ctx), overrides=list(sets), voice=voice, rate=rate, volume=volume, section=section,
                    background=background, background_level=background_level)
        raise no_device(e, export_command(ctx, session_name(path, script)), section) from None


def made_note(session) -> str:
    """How a session's phrases were had, in a few words: from the cache, synthesised, or from a voice pack."""
    if not session.synthesised:
        return "all phrases from the cache"
    if session.voice.engine == "recorded":
        # Recordings are cleaned, not synthesised; a phrase the pack lacks comes from its fallback voice.
        return f"{session.synthesised} phrase(s) prepared from the voice pack and its fallback voice"
    return f"{session.synthesised} phrase(s) synthesised"


def rendering_progress(bar: ProgressBar):
    """A gather() progress callback that shows the phrases being rendered on `bar`."""
    def step(done: int, total: int) -> None:
        if total:
            bar.update(done / total, f"Rendering phrase {min(done + 1, total)} of {total}")
    return step
