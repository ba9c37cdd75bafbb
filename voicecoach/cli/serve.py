"""`voicecoach serve`: the sessions on a private page for a phone."""

from __future__ import annotations

from pathlib import Path

import click

from voicecoach import paths
from voicecoach.cli.common import Between, ProgressBar, cache_of, db_option, friendly


@click.command("serve")
@click.argument("program", required=False, type=click.Path(dir_okay=False))
@click.option("--port", type=Between(0, 65535, whole=True), default=8765, show_default=True,
              help="The port to listen on (0: any free one).")
@click.option("--lan", is_flag=True, help="Listen on this computer's Wi-Fi address, so your phone can reach it "
                                         "(default: this computer only).")
@click.option("--https", "use_https", is_flag=True,
              help="Encrypt with a self-signed certificate made on this computer (the phone warns once).")
@click.option("--discreet", is_flag=True, help="Neutral titles on the page and in the phone's media controls.")
@click.option("--hands-free", is_flag=True, help="Share hands-free versions, for the shower: a spoken pre-roll, "
                                               "a soft tone before each phase, a slower, evened-out voice.")
@click.option("--pre-roll", type=Between(0, 600, whole=True, unit="seconds"), default=20,
              show_default=True, metavar="SECONDS",
              help="With --hands-free: seconds between 'Starting in ...' and the session.")
@click.option("--dir", "folder", type=click.Path(file_okay=False),
              help="Where the sessions are exported to and shared from (default: in your user data folder).")
@click.option("--force", is_flag=True, help="With --dir: export into a folder that holds files voicecoach did not "
                                           "write (none is removed or shared; one with a name it needs is replaced).")
@db_option
@click.pass_context
@friendly
def serve_cmd(ctx, program, port, lan, use_https, discreet, hands_free, pre_roll, folder, force, db):
    """Share the program's sessions with your phone.

    A private page shows PROGRAM's sessions (default: the library's program), today's stage first, and notes
    what you play there in your practice log."""
    if not hands_free and ctx.get_parameter_source("pre_roll") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--pre-roll is for --hands-free; add --hands-free, or leave it out")
    from voicecoach.exercise.library import locate
    from voicecoach.phone.share import default_folder, open_share
    path = locate(program) if program else paths.scripts_dir() / "program.yaml"
    with ProgressBar() as bar:
        where = Path(folder) if folder else default_folder(path, discreet, hands_free=hands_free)
        sharing = open_share(path, cache_of(ctx), where, port=port, lan=lan, https=use_https, discreet=discreet,
                             hands_free=hands_free, pre_roll=pre_roll, force=force, progress=bar.update,
                             on_visit=lambda address: click.echo(f"The page was opened from {address}."),
                             db=db, on_log=click.echo)
    from voicecoach.practice.log import db_path
    click.echo(f"Sessions played on the page are noted in your practice log, {db_path(db)}.")
    sharing.announce(click.echo)
    try:
        sharing.run()
    except KeyboardInterrupt:
        click.echo("\nStopped sharing; the page and sessions can no longer be reached.")
