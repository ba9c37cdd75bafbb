"""`voicecoach voices`: the voices here, and samples to compare them by ear."""

from __future__ import annotations

import click

from voicecoach.cli.common import Between, friendly
from voicecoach.errors import VoicecoachError

WIDTH = 80          # a terminal's columns: every line of `voices` fits
SPEC_COLUMN = 26    # a longer spec takes a line of its own


def listed(rows: list[tuple[str, str]], width: int = WIDTH) -> list[str]:
    """(spec, about) rows as lines of at most `width` columns: the spec, then its description wrapped beside it."""
    import textwrap
    column = min(SPEC_COLUMN, max((len(spec) for spec, _ in rows), default=0))
    indent = " " * (column + 2)
    out = []
    for spec, about in rows:
        if len(spec) > column:
            out.append(spec)
            out.extend(textwrap.wrap(about, width, initial_indent=indent, subsequent_indent=indent))
        else:
            out.extend(textwrap.wrap(about, width, initial_indent=spec.ljust(column) + "  ",
                                     subsequent_indent=indent) or [spec])
    return out


def as_listed(spec: str) -> str:
    """A spec as the listings name it (`pyttsx3:gmw/en-us` -> `espeak:gmw/en-us`); as given when it names no engine."""
    from voicecoach.speech.engines import shown_engine, split_spec
    try:
        engine, voice = split_spec(spec)
    except VoicecoachError:
        return spec
    return f"{shown_engine(engine)}:{voice}" if voice else shown_engine(engine)


def say(text: str, width: int = WIDTH) -> None:
    """A note under the list, wrapped to `width` columns (a long path stays whole on a line of its own)."""
    import textwrap
    for line in textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False):
        click.echo(line)


@click.command()
@friendly
@click.option("--all", "show_all", is_flag=True, help="Every voice of every engine (espeak-ng alone has over a hundred).")
@click.option("--sample", metavar="TEXT", help="Write TEXT in each main voice, to compare them by ear.")
@click.option("-d", "--dir", "folder", type=click.Path(file_okay=False), default="samples", show_default=True,
              help="Folder for the --sample files.")
@click.option("--rate", type=Between(60, 400, whole=True, unit="words a minute"), help="Speaking rate for the samples, words per minute.")
def voices(show_all, sample, folder, rate):
    """The best voices here, the default first.

    With how each sounds; --all lists every voice, --sample writes one file per voice to compare."""
    from voicecoach.config import load_config
    from voicecoach.paths import voices_dir
    from voicecoach.samples import write_samples
    from voicecoach.speech.engines import best_available, listing, main_voices, short_spec, shortlist, shown_engine
    from voicecoach.speech.engines.piper import folder_problems
    from voicecoach.speech.voice import DEFAULT_RATE_WPM
    config = load_config()
    best = best_available()
    default = best if not config.voice else None
    found = listing()
    if sample:      # the samples are the comparison; the list itself is `voicecoach voices`
        chosen = main_voices(found)
        found_voices = [v for item in found for v in item.voices]
        missed = []

        def failed(v, error):
            missed.append(v)
            click.echo(f"no sample of {short_spec(v, found_voices)}: {error}", err=True)

        write_samples(sample, folder, chosen, rate or config.rate or DEFAULT_RATE_WPM,
                      progress=lambda path: click.echo(f"wrote {path}"), failed=failed,
                      siblings=found_voices)
        if missed:
            raise VoicecoachError(f"{len(missed)} of {len(chosen)} voices could not speak (above); "
                                  f"the others' samples are in {folder}")
        return
    shown = [v for item in found for v in item.voices] if show_all else shortlist(found, best)
    # One name for each voice, the same in both listings, in sample file names and with --voice.
    everyone = [o for item in found for o in item.voices]
    rows = []
    for v in shown:
        marks = [m for m, on in (("best-available", (v.engine, v.id) == best),
                                 ("default", (v.engine, v.id) == default)) if on]
        spec = short_spec(v, everyone)
        named = v.name.strip() and v.name.strip().lower() not in spec.lower()
        rows.append((spec, f"{'[' + ', '.join(marks) + '] ' if marks else ''}"
                           f"{v.name.strip() + '; ' if named else ''}{v.sound}"))
    for line in listed(rows):
        click.echo(line)
    for item in found:
        if not item.installed:
            say(f"{shown_engine(item.engine)}: not installed ({item.install})")
    say(f"(more Piper voices, a British or a female one among them: put its .onnx and .onnx.json in {voices_dir()})")
    left_out = folder_problems()
    if left_out:
        say(f"({len(left_out)} voice file(s) there cannot be used and are left out; `voicecoach doctor` says why)")
    if config.voice:
        from voicecoach.config import checked_config
        try:
            checked_config()
            say(f"default: {as_listed(config.voice)} (from {config.path})")
        except VoicecoachError as e:
            # The list is what one needs to correct it, so it is shown all the same.
            say(f"Your config file cannot be used: {e}; choose one of the voices above there.")
    if not show_all:
        total = sum(len(item.voices) for item in found)
        say(f"{len(shown)} of {total} voices; `voicecoach voices --all` lists every one. Use one with --voice, e.g.:")
        if rows:
            click.echo(f"  voicecoach play belly-breathing --voice {rows[0][0]}")
    # Recorded voice packs: a section of their own (how many phrases each holds, how many it still lacks).
    from voicecoach.cli.pack import pack_rows
    heading, packs = pack_rows()
    say(heading)
    for line in listed(packs):
        click.echo(line)
