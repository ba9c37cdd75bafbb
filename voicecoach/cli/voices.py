"""`voicecoach voices`: the voices here, and samples to compare them by ear."""

from __future__ import annotations

import click

from voicecoach.cli.common import friendly


@click.command()
@friendly
@click.option("--all", "show_all", is_flag=True, help="Every voice of every engine (espeak-ng alone has over a hundred).")
@click.option("--sample", metavar="TEXT", help="Write TEXT in each main voice, to compare them by ear.")
@click.option("-d", "--dir", "folder", type=click.Path(file_okay=False), default="samples", show_default=True,
              help="Folder for the --sample files.")
@click.option("--rate", type=click.IntRange(60, 400), help="Speaking rate for the samples, words per minute.")
def voices(show_all, sample, folder, rate):
    """The best voices here, the default first, with how each sounds (--all: every voice); --sample to compare."""
    from voicecoach.config import load_config
    from voicecoach.errors import VoicecoachError
    from voicecoach.paths import voices_dir
    from voicecoach.samples import write_samples
    from voicecoach.speech.engines import best_available, listing, main_voices, short_spec, shortlist
    from voicecoach.speech.engines.piper import folder_problems
    from voicecoach.speech.voice import DEFAULT_RATE_WPM
    config = load_config()
    best = best_available()
    default = best if not config.voice else None
    found = listing()
    if sample:      # the samples are the comparison; the list itself is `voicecoach voices`
        chosen = main_voices(found)
        missed = []

        def failed(v, error):
            missed.append(v)
            click.echo(f"no sample of {v.spec}: {error}", err=True)

        write_samples(sample, folder, chosen, rate or config.rate or DEFAULT_RATE_WPM,
                      progress=lambda path: click.echo(f"wrote {path}"), failed=failed)
        if missed:
            raise VoicecoachError(f"{len(missed)} of {len(chosen)} voices could not speak (above); "
                                  f"the others' samples are in {folder}")
        return
    shown = [v for item in found for v in item.voices] if show_all else shortlist(found, best)
    for v in shown:
        marks = [m for m, on in (("best-available", (v.engine, v.id) == best),
                                 ("default", (v.engine, v.id) == default)) if on]
        spec = v.spec if show_all else short_spec(v, [o for item in found for o in item.voices])
        click.echo(f"{spec:<40} {v.name:<24} {','.join(v.languages):<12} {' '.join(marks):<23} {v.sound}".rstrip())
    for item in found:
        if not item.installed:
            click.echo(f"{item.engine}: not installed ({item.install})")
    click.echo(f"(more Piper voices: put a .onnx with its .onnx.json in {voices_dir()})")
    left_out = folder_problems()
    if left_out:
        click.echo(f"({len(left_out)} voice file(s) there cannot be used and are left out; "
                   "`voicecoach doctor` says why)")
    if config.voice:
        click.echo(f"default: {config.voice} (from {config.path})")
    if not show_all:
        total = sum(len(item.voices) for item in found)
        click.echo(f"{len(shown)} of {total} voices; `voicecoach voices --all` lists every one. "
                   "Use one with --voice, e.g. `voicecoach play belly-breathing --voice festival:slt`.")
