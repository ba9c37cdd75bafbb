"""`voicecoach voices`: the voices here, and samples to compare them by ear."""

from __future__ import annotations

import click

from voicecoach.cli.common import friendly


@click.command()
@friendly
@click.option("--sample", metavar="TEXT", help="Write TEXT in each main voice, to compare them by ear.")
@click.option("-d", "--dir", "folder", type=click.Path(file_okay=False), default="samples", show_default=True,
              help="Folder for the --sample files.")
@click.option("--rate", type=click.IntRange(60, 400), help="Speaking rate for the samples, words per minute.")
def voices(sample, folder, rate):
    """The voices of every speech engine here (engine:voice), marked best and default; --sample to compare."""
    from voicecoach.config import load_config
    from voicecoach.paths import voices_dir
    from voicecoach.samples import write_samples
    from voicecoach.speech.engines import best_available, listing, main_voices
    from voicecoach.speech.voice import DEFAULT_RATE_WPM
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
            click.echo(f"{v.spec:<40} {v.name:<24} {','.join(v.languages):<12} {' '.join(marks):<23} {v.sound}".rstrip())
        if item.engine == "piper":
            click.echo(f"{'':<40} (more Piper voices: put a .onnx with its .onnx.json in {voices_dir()})")
    if config.voice:
        click.echo(f"default: {config.voice} (from {config.path})")
    if sample:
        for path in write_samples(sample, folder, main_voices(found),
                                  rate or config.rate or DEFAULT_RATE_WPM):
            click.echo(f"wrote {path}")
