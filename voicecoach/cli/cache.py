"""`voicecoach cache`: the phrase cache's size, check and tidy-up."""

from __future__ import annotations

import click

from voicecoach.cli.common import Between, cache_of, friendly
from voicecoach.errors import one_line


@click.group("cache")
def cache_group():
    """The phrase cache: how big it is, check it, tidy it."""


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _strays(strays) -> None:
    """One line for each thing under an entry's name that is not a file (a FIFO, a link, a folder)."""
    for stray in strays:
        done = "removed" if stray.removed else "left alone as it holds files: remove it yourself"
        click.echo(one_line(f"{stray.path}: {stray.kind}, not a phrase file; {done}."))


@cache_group.command("info")
@click.pass_context
@friendly
def cache_info(ctx):
    """How many phrases the cache holds, and their size."""
    info = cache_of(ctx).info()
    click.echo(f"{info.root}: {info.count} phrase(s), {_megabytes(info.bytes)}")


@cache_group.command("verify")
@click.pass_context
@friendly
def cache_verify(ctx):
    """Re-check every phrase; damaged ones are removed.

    A removed phrase is rendered again when it is next needed."""
    done = cache_of(ctx).verify()
    _strays(done.strays)
    click.echo(f"Checked {done.checked} phrase(s): {len(done.removed)} damaged and removed, "
               f"{len(done.temporaries)} leftover temporary file(s) removed.")


@cache_group.command("prune")
@click.option("--days", type=Between(0, unit="days"), default=90, show_default=True,
              help="Remove phrases not used for this many days.")
@click.pass_context
@friendly
def cache_prune(ctx, days):
    """Remove phrases not used for a while."""
    done = cache_of(ctx).prune(days)
    _strays(done.strays)
    click.echo(f"Removed {len(done.removed)} of {done.checked} phrase(s) unused for {days:g} days.")
