"""`voicecoach pack`: a voice pack's phrase list, importing recordings or a shared pack, sharing one as a zip."""

from __future__ import annotations

import os
from pathlib import Path

import click

from voicecoach.cli.common import friendly


@click.group("pack")
def pack_group():
    """Voice packs of recorded phrases.

    The phrase list, import, share; `voicecoach voices` lists the packs."""


@pack_group.command("phrases")
@click.argument("name")
@click.argument("scripts", nargs=-1, required=True)
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a script parameter, e.g. --set size=2 (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Also write the list to this file.")
@friendly
def phrases_cmd(name, scripts, sets, output):
    """Write the list of phrases to record for a pack.

    NAME's phrases for SCRIPT(S), as file name, tab, words, to record them with any recorder."""
    from voicecoach.files import write_text
    from voicecoach.pack import phrases, store
    pack = store.open_pack(name, create=True)
    pack, listed = store.want(pack, phrases.of_names(scripts, list(sets)))
    if output:
        _check_list_target(Path(output))
        write_text(Path(output), listed.read_text(encoding="utf-8"), force=True)
    missing = pack.missing()
    click.echo(f"Wrote the phrase list ({len(pack.wanted)} phrases, {len(missing)} not recorded yet) to "
               f"{output or listed}.")
    click.echo(f"Record each phrase into a file named as listed ({store.AUDIO_NAMES}), then "
               f"`voicecoach pack import {name} FOLDER --consent \"whose voice, and who agreed\"`; or record them "
               "here with "
               f"`voicecoach record --pack {name} --missing`.")


def _check_list_target(out: Path) -> None:
    """Refuse to write the phrase list over a file that is not an earlier phrase list (a script, say)."""
    from voicecoach.errors import VoicecoachError
    from voicecoach.pack.phrases import LIST_HEAD
    if not os.path.lexists(out):
        return
    ours = False
    if out.is_file() and not out.is_symlink():      # never opened otherwise: a FIFO would wait for ever
        try:
            with open(out, encoding="utf-8", errors="replace") as f:
                ours = f.read(len(LIST_HEAD)).startswith(LIST_HEAD[:40])
        except OSError:
            pass
    if not ours:
        from voicecoach.files import in_the_way
        blocked = in_the_way(out)
        raise VoicecoachError(f"{out}: could not be written: {blocked}; give the name of a file to write" if blocked else
                              f"{out}: already exists and is not a phrase list; give another file name with -o")


@pack_group.command("import")
@click.argument("name")
@click.argument("source", type=click.Path())
@click.option("--consent", metavar="TEXT",
              help="Whose voice this is and who agreed to its use, in your words (kept in the pack).")
@friendly
def import_cmd(name, source, consent):
    """Bring recordings into the pack NAME.

    SOURCE is a folder of files named by its phrase list, or a pack's .zip."""
    from voicecoach.pack import store
    source = Path(source)
    with store.made_for(name):
        _import(name, source, consent)


def _import(name: str, source: Path, consent: str | None) -> None:
    from voicecoach.errors import VoicecoachError
    from voicecoach.pack import store
    pack = store.open_pack(name, create=True, consent=consent)
    if source.suffix.lower() == ".zip" and not source.is_dir():
        pack, count = store.import_zip(pack, source)
        click.echo(f"Imported {count} take{'s' if count != 1 else ''} from {source}; {store.summary(pack)}. "
                   f"Use it with --voice recorded:{name}.")
        return
    if not pack.consent:
        raise VoicecoachError("say whose voice these recordings are and who agreed to their use, for example "
                              f"`voicecoach pack import {name} {source} --consent \"recorded by my physio, with "
                              "her agreement\"`")
    pack, done = store.import_folder(pack, source, pack.consent,
                                     progress=lambda text: click.echo(f"imported: {text}"))
    for line in done.notes:
        click.echo(line)
    for line in done.failed:
        click.echo(line, err=True)
    if done.unknown:
        click.echo(f"Left out {len(done.unknown)} file{'s' if len(done.unknown) != 1 else ''} that the phrase list "
                   f"does not name: {', '.join(done.unknown[:5])}{' ...' if len(done.unknown) > 5 else ''}")
    click.echo(f"Imported {len(done.kept)} phrase{'s' if len(done.kept) != 1 else ''}; {store.summary(pack)}.")
    if done.missing:
        click.echo(f"{len(done.missing)} phrase{'s' if len(done.missing) != 1 else ''} of the list have no file "
                   "yet; the fallback voice says them meanwhile.")
    if done.failed:
        raise VoicecoachError(f"{len(done.failed)} file{'s' if len(done.failed) != 1 else ''} could not be "
                              "imported (above)" + ("; the others were" if done.kept else ""))
    if not done.kept:
        raise VoicecoachError(f"{source}: no recording there is named as the phrase list says ({store.AUDIO_NAMES}); "
                              f"`voicecoach pack phrases {name} SCRIPT` lists the file names")
    click.echo(f"Use it with --voice recorded:{name}.")


@pack_group.command("export")
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="The .zip file to write.")
@friendly
def export_cmd(name, output):
    """Write the pack NAME as one .zip to share.

    `voicecoach pack import NAME FILE.zip` brings it in on another computer."""
    from voicecoach.errors import VoicecoachError
    from voicecoach.pack import store
    out = Path(output)
    if out.suffix.lower() != ".zip":
        raise VoicecoachError(f"{out}: a pack is shared as a .zip file; give a name ending in .zip")
    pack = store.open_pack(name)
    if not pack.takes:
        raise VoicecoachError(f"the pack {name} holds no takes yet; record some with "
                              f"`voicecoach record SCRIPT --pack {name}`")
    count = store.export_zip(pack, out)
    click.echo(f"Wrote {count} take{'s' if count != 1 else ''} to {out}. It holds the recordings and who agreed to "
               f"their use, nothing else; `voicecoach pack import {name} {out.name}` brings it in.")



def pack_rows() -> tuple[str, list[tuple[str, str]]]:
    """The voice packs here, for `voicecoach voices`: a heading, and (spec, how many phrases it holds and lacks) rows."""
    from voicecoach.errors import VoicecoachError
    from voicecoach.paths import packs_dir
    from voicecoach.speech import packs
    rows = []
    for name in packs.names():
        try:
            pack = packs.load(name)
        except VoicecoachError as e:
            rows.append((f"recorded:{name}", f"cannot be used: {e}"))
            continue
        held, missing = len(pack.takes), len(pack.missing())
        rows.append((f"recorded:{name}", f"{held} phrase{'s' if held != 1 else ''} recorded"
                     + (f", {missing} of its list missing (`voicecoach record --pack {name} --missing`)"
                        if missing else "") + (f"; {pack.consent}" if pack.consent else "")))
    if not rows:
        return (f"Your own voice: record a pack with `voicecoach record SCRIPT --pack NAME` and use it with "
                f"--voice=recorded:NAME (packs are kept in {packs_dir()})."), []
    return "Recorded voice packs (--voice recorded:NAME, or recorded:NAME:VOICE for the phrases they lack):", rows


def source_lines(voice, texts, script: str = "SCRIPT") -> list[str]:
    """For `show` with a recorded voice: which phrases the pack speaks and which the fallback voice speaks."""
    from voicecoach.speech.engines.recorded import NAME, parse_id, sources
    if voice.engine != NAME:
        return []
    recorded, fallback = sources(voice, texts)
    choice = parse_id(voice.name)
    from voicecoach.speech.engines import shown_engine
    engine = shown_engine(choice.fallback_engine)
    by = f"{engine}:{choice.fallback_voice}" if choice.fallback_voice else engine
    lines = [f"From the voice pack {choice.pack}: {len(recorded)} phrase{'s' if len(recorded) != 1 else ''}; "
             f"from the fallback voice {by}: {len(fallback)}" + (":" if fallback else ".")]
    lines += [f"  {text}" for text in fallback]
    if fallback:
        import shlex
        lines.append(f"(`voicecoach record {shlex.quote(script)} --pack {choice.pack} --missing` records them)")
    return lines
