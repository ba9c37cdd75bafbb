"""The command line: each command parses its options and calls one library function.

One module per group of commands; this one holds the group and its global options.
"""

from __future__ import annotations

import click

from voicecoach import __version__
from voicecoach.cli import cache, log, practice, process, serve, sessions, voices
from voicecoach.errors import shown


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicecoach")
@click.option("--cache-dir", type=click.Path(file_okay=False), envvar="VOICECOACH_CACHE",
              help="Where rendered phrases are kept (default: audio_cache/ in a checkout, else the user cache).")
@click.pass_context
def cli(ctx, cache_dir):
    """Voice-guided, exactly timed relaxation and pelvic floor exercises."""
    ctx.ensure_object(dict)
    ctx.obj["cache_dir"] = cache_dir


@click.command("help")
@click.argument("command", nargs=-1)
@click.pass_context
def help_cmd(ctx, command):
    """Show the help of voicecoach, or of COMMAND (`voicecoach help log rate`)."""
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
                practice.remind_cmd, practice.doctor_cmd, serve.serve_cmd, help_cmd):
    cli.add_command(command)


def main():
    with process.guarded():
        cli(obj={})


if __name__ == "__main__":
    main()
