"""The command line: each command parses its options and calls one library function.

One module per group of commands; this one holds the group and its global options.
"""

from __future__ import annotations

import click

from voicecoach import __version__
from voicecoach.cli import cache, log, pack, practice, process, record, serve, sessions, voices
from voicecoach.errors import VoicecoachError, shown

HELP = ("-h", "--help")
# The commands that choose a voice (for every script they speak or list): they read the config file first,
# so that a mistake in it is one line, not one per script.
SPEAKING = frozenset({"list", "show", "export", "render", "play", "today", "serve"})


class Commands(click.Group):
    """The voicecoach group: it notes whether the command asks for help, which must work whatever the config says."""

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta["voicecoach.help"] = any(word in HELP for word in rest)
        return name, command, rest


@click.group(cls=Commands, context_settings={"help_option_names": list(HELP)})
@click.version_option(__version__, prog_name="voicecoach")
@click.option("--cache-dir", type=click.Path(file_okay=False), envvar="VOICECOACH_CACHE",
              help="Where rendered phrases are kept (default: audio_cache/ in a checkout, else the user cache; "
                   "or set VOICECOACH_CACHE).")
@click.pass_context
def cli(ctx, cache_dir):
    """Voice-guided, exactly timed relaxation and pelvic floor exercises."""
    ctx.ensure_object(dict)
    ctx.obj["cache_dir"] = cache_dir
    if ctx.invoked_subcommand in SPEAKING and not ctx.meta.get("voicecoach.help"):
        from voicecoach.cli.common import Failure
        from voicecoach.config import checked_config
        try:
            checked_config()
        except VoicecoachError as e:
            raise Failure(VoicecoachError(f"{e}; correct your config file, or remove it to use the defaults")) from None


@click.command("help")
@click.argument("command", nargs=-1)
@click.pass_context
def help_cmd(ctx, command):
    """Show the help of voicecoach, or of one COMMAND.

    For example: `voicecoach help log rate`."""
    group = ctx.parent.command if ctx.parent is not None else cli
    target, info = group, ctx.parent or ctx
    words: list[str] = []
    for word in command:
        sub = target.get_command(info, word) if isinstance(target, click.Group) else None
        if sub is None:
            raise click.UsageError(f"there is no command {shown(' '.join([*words, word]))}; `voicecoach help` lists them")
        words.append(word)
        info = click.Context(sub, info_name=word, parent=info)
        target = sub
    click.echo(target.get_help(info))


for command in (sessions.list_cmd, sessions.show, sessions.export, sessions.render, sessions.play,
                voices.voices, cache.cache_group, log.log_group, practice.progress_cmd, practice.today_cmd,
                practice.remind_cmd, practice.doctor_cmd, serve.serve_cmd, record.record_cmd, pack.pack_group,
                help_cmd):
    cli.add_command(command)


def main():
    with process.guarded():
        cli(obj={})


if __name__ == "__main__":
    main()
