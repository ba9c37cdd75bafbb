"""`voicecoach record`: record your own voice (or your physio's) into a voice pack, phrase by phrase."""

from __future__ import annotations

import shlex
import sys

import click

from voicecoach.cli.common import Between, friendly


@click.command("record")
@click.argument("scripts", nargs=-1)
@click.option("--pack", "name", required=True, metavar="NAME", help="The voice pack to record into (made if new).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a script parameter, e.g. --set size=2 (repeatable).")
@click.option("--missing", is_flag=True,
              help="Only the phrases the pack does not hold yet (with no SCRIPT: those of its phrase list).")
@click.option("--consent", metavar="TEXT",
              help="Whose voice this is and who agreed to its use, in your words (kept in the pack).")
@click.option("--countdown", type=Between(0, 10, whole=True, unit="seconds"), default=3, show_default=True, metavar="SECONDS",
              help="Seconds counted down before each take.")
@click.option("--device", default="default", show_default=True, help="The ALSA capture device (the microphone).")
@friendly
def record_cmd(scripts, name, sets, missing, consent, countdown, device):
    """Record your own voice into a pack, phrase by phrase.

    Each distinct phrase of SCRIPT(S) in turn; then use the pack with --voice recorded:NAME.

    A countdown, then speak; a pause ends the take. It is cleaned and played back: k keeps it, r records
    it again, p plays it again, s skips the phrase, q stops (every take kept so far stays)."""
    from voicecoach.pack import store
    from voicecoach.speech import packs
    packs.check_name(name)
    if not scripts and not missing:
        raise click.UsageError("name the SCRIPT (or program) to record, or give --missing to record what the "
                               "pack's phrase list still lacks")
    with store.made_for(name):      # a pack this command makes goes again if it fails before keeping a take
        _record(scripts, name, sets, missing, consent, countdown, device)


def _record(scripts, name, sets, missing, consent, countdown, device) -> None:
    from voicecoach.errors import VoicecoachError
    from voicecoach.pack import phrases, recorder, store
    from voicecoach.pack.capture import open_capture
    from voicecoach.speech import packs
    pack = store.open_pack(name, create=True, consent=consent)
    if not pack.consent:
        if not recorder.interactive():
            raise VoicecoachError("say whose voice this is and who agreed to its use, for example "
                                  f"`voicecoach record ... --pack {name} --consent \"my own voice\"`")
        pack = store.open_pack(name, consent=click.prompt(
            "Whose voice is this, and who agreed to its use? (kept in the pack, e.g. 'my own voice')"))
    texts = phrases.of_names(scripts, list(sets)) if scripts else list(pack.wanted)
    if not texts:
        raise VoicecoachError(f"the pack {name} has no phrase list yet; name the SCRIPT (or program) to record, "
                              f"e.g. `voicecoach record program --pack {name} --missing`")
    pack, listed = store.want(pack, texts)
    todo = pack.missing(texts) if missing else list(dict.fromkeys(packs.phrase_key(t) for t in texts))
    if not todo:
        click.echo(f"The pack {name} holds every one of these {len(texts)} phrases already.")
        return
    click.echo(f"{len(todo)} phrase{'s' if len(todo) != 1 else ''} to record into {pack.folder}. "
               f"Keys: {recorder.KEEP_KEYS}.")
    tty_out = sys.stdout.isatty()

    def say(text: str) -> None:
        if tty_out:
            click.echo("\r\x1b[K", nl=False)
        click.echo(text)

    def meter(level: float, seconds: float) -> None:
        if not tty_out:
            return
        width = 30
        filled = max(0, min(width, int((level + 60) / 60 * width)))
        click.echo(f"\r  [{'#' * filled}{'-' * (width - filled)}] {level:6.1f} dB  {seconds:4.1f} s\x1b[K", nl=False)

    play = _player(say)
    timing = recorder.Timing(countdown_s=countdown)
    try:
        if recorder.interactive():
            from voicecoach.player.terminal import Keys
            with Keys() as keys:
                pack, outcome = recorder.record(pack, todo, open_capture=lambda: open_capture(device), play=play,
                                                keys=recorder.TerminalKeys(keys), say=say, timing=timing,
                                                meter=meter, consent=pack.consent)
        else:
            pack, outcome = recorder.record(pack, todo, open_capture=lambda: open_capture(device), play=play,
                                            keys=recorder.LineKeys(), say=say, timing=timing, meter=meter,
                                            consent=pack.consent)
    finally:
        play.close()
    left = pack.missing(texts)
    click.echo(f"{'Stopped. ' if outcome.quit else ''}Kept {len(outcome.kept)} take"
               f"{'s' if len(outcome.kept) != 1 else ''}; {store.summary(pack)}.")
    if left:
        again = shlex.join(["voicecoach", "record", *scripts, *(w for s in sets for w in ("--set", s)),
                            "--pack", name, "--missing"])
        click.echo(f"{len(left)} of these phrases {'is' if len(left) == 1 else 'are'} still missing (the fallback "
                   "voice says them meanwhile); "
                   f"`{again}` records them.")
    example = shlex.join(["voicecoach", "play", scripts[0] if scripts else "SCRIPT",
                          *(w for s in sets for w in ("--set", s)), "--voice", f"recorded:{name}"])
    click.echo(f"Use it with --voice recorded:{name} (e.g. `{example}`).")


def _player(say):
    """Play a take back through the sound card; without one, say so once and go on (the take is still there)."""
    from voicecoach.errors import VoicecoachError

    class Playback:
        def __init__(self):
            self.output = None
            self.failed = False

        def __call__(self, samples) -> None:
            if self.failed:
                return
            import time

            from voicecoach.units import RATE
            try:
                if self.output is None:
                    from voicecoach.player.outputs.simpleaudio import SimpleaudioOutput
                    self.output = SimpleaudioOutput()
                self.output.stop()
                self.output.write(samples)
                deadline = time.monotonic() + len(samples) / RATE + 2
                while self.output.position() < len(samples) and time.monotonic() < deadline:
                    time.sleep(0.02)
            except VoicecoachError as e:
                self.failed = True
                say(f"  (It cannot be played back here: {e})")

        def close(self) -> None:
            if self.output is not None:
                self.output.close()
    return Playback()
