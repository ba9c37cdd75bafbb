"""A private podcast feed of an exported program: RSS 2.0 with the podcast namespace (chapters, transcripts),
one item per session in the program's order, every address absolute under the share link's token."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from voicecoach.audio.tags import read_fingerprint
from voicecoach.discreet import NEUTRAL
from voicecoach.export.chapters import MEDIA_TYPE as CHAPTERS_TYPE
from voicecoach.export.file import GENRE, NEUTRAL_ABOUT
from voicecoach.export.playlist import printable
from voicecoach.phone.page import file_url

FEED = "feed.xml"                          # its name under the token
FEED_TYPE = "application/rss+xml; charset=utf-8"
PODCAST = "https://podcastindex.org/namespace/1.0"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
AUDIO_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".opus": "audio/ogg", ".wav": "audio/wav"}
# Items are dated a day apart from a fixed day, first session oldest: apps that list oldest first (as serial
# feeds ask) show the program in order, and the feed does not change from one `serve` to the next, so an
# app sees no "new episodes" unless a session really changed.
FIRST_DAY = datetime(2024, 1, 1, 6, 0, tzinfo=timezone.utc)
# Characters XML 1.0 cannot hold at all (C0 controls but tab and newlines, surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

APPS = ("Podcast apps that fetch feeds on the phone itself (AntennaPod) can subscribe to it; Pocket Casts, "
        "Overcast and Podverse fetch feeds through their own servers, where a home-network address fails "
        "and the private link would become known to them.")


def feed_line(url: str) -> str:
    """The one line `serve` prints about the feed: its address and which apps can use it."""
    return f"Podcast feed: {url}  {APPS}"


def _text(value: object) -> str:
    # No controls nor bidirectional overrides (as in the playlists), and nothing XML cannot hold.
    return escape(_NOT_XML.sub("", " ".join(printable(str(value)).split())))


def _attr(value: object) -> str:
    return quoteattr(_NOT_XML.sub("", printable(str(value))))


def _base(base: str) -> str:
    if not re.match(r"^https?://[^/\s]+/", base):
        raise ValueError(f"the feed's base address must be absolute (http or https), not {base!r}")
    return base if base.endswith("/") else base + "/"


def _guid(path: Path, size: int) -> str:
    # The file's own fingerprint (everything that decides its bytes): a session that changes is a new item,
    # one that does not keeps its place in the app. Nothing about the token or the computer is in it.
    found = read_fingerprint(path)
    return (found or hashlib.sha256(f"{path.name}\0{size}".encode()).hexdigest())[:32]


def _description(done, k: int) -> str:
    stage = done.stages[k] if k < len(done.stages) else None
    label = stage.label() if stage is not None else ""
    if done.discreet:
        parts = [NEUTRAL_ABOUT, label[:1].upper() + label[1:] + "." if label else ""]
    else:
        tags = done.tags[k] if k < len(done.tags) else None
        parts = [tags.description if tags is not None else "",
                 f"{label[:1].upper()}{label[1:]}." if label else "", stage.guidance if stage is not None else ""]
    return " ".join(p for p in parts if p)


def feed_xml(done, base: str) -> str:
    """The RSS 2.0 feed of `done` (an export.program.ProgramExport) with every address under `base`
    (the share link, token included); discreet exports get neutral words only."""
    base = _base(base)
    url = lambda name: base + file_url(name)
    cover = url(done.cover.name) if done.cover is not None else None
    about = done.about or (NEUTRAL_ABOUT if done.discreet else done.title)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<rss version="2.0" xmlns:itunes={_attr(ITUNES)} xmlns:podcast={_attr(PODCAST)} '
             f'xmlns:atom={_attr(ATOM)}>',
             "<channel>",
             f"<title>{_text(done.title)}</title>",
             f"<link>{_text(base)}</link>",
             f"<description>{_text(about)}</description>",
             "<language>en</language>",
             f'<atom:link href={_attr(base + FEED)} rel="self" type="application/rss+xml"/>',
             # A private feed: directories must not list it, and apps must not offer it to others.
             "<podcast:locked>yes</podcast:locked>",
             "<itunes:block>Yes</itunes:block>",
             "<itunes:type>serial</itunes:type>",
             f"<itunes:author>{_text(NEUTRAL if done.discreet else 'voicecoach')}</itunes:author>",
             f"<itunes:summary>{_text(about)}</itunes:summary>",
             "<itunes:explicit>false</itunes:explicit>",
             f"<itunes:category text={_attr(NEUTRAL if done.discreet else GENRE)}/>"]
    if cover:
        lines += [f"<itunes:image href={_attr(cover)}/>",
                  f"<image><url>{_text(cover)}</url><title>{_text(done.title)}</title><link>{_text(base)}</link></image>"]
    for k, exported in enumerate(done.files):
        path = Path(exported.path)
        size = os.stat(path).st_size           # the enclosure's length is the file's real size
        number = k + 1
        stage = done.stages[k] if k < len(done.stages) else None
        title = done.tags[k].title if k < len(done.tags) else path.stem
        item = ["<item>",
                f"<title>{_text(title)}</title>",
                f"<description>{_text(_description(done, k))}</description>",
                f'<enclosure url={_attr(url(path.name))} length="{size}" type="{AUDIO_TYPES.get(path.suffix.lower(), "audio/mpeg")}"/>',
                f'<guid isPermaLink="false">{_guid(path, size)}</guid>',
                f"<pubDate>{format_datetime(FIRST_DAY + timedelta(days=k))}</pubDate>",
                f"<itunes:episode>{number}</itunes:episode>",
                "<itunes:episodeType>full</itunes:episodeType>",
                f"<itunes:duration>{round(exported.session.timeline.length / 1000)}</itunes:duration>",
                f"<podcast:episode>{number}</podcast:episode>"]
        if stage is not None and stage.stages:
            item.append(f"<itunes:season>{stage.stages[0]}</itunes:season>")
        if cover:
            item.append(f"<itunes:image href={_attr(cover)}/>")
        if k < len(done.chapters) and Path(done.chapters[k]).is_file():
            item.append(f'<podcast:chapters url={_attr(url(Path(done.chapters[k]).name))} type="{CHAPTERS_TYPE}"/>')
        if exported.transcript is not None and Path(exported.transcript).is_file():
            item.append(f'<podcast:transcript url={_attr(url(Path(exported.transcript).name))} '
                        'type="text/vtt" rel="captions"/>')
        lines += item + ["</item>"]
    lines += ["</channel>", "</rss>"]
    return "\n".join(lines) + "\n"


def feed_pages(done, base: str) -> dict:
    """The feed as an extra page of phone.server.Site.pages: {FEED: (bytes, content type)}."""
    return {FEED: (feed_xml(done, base).encode("utf-8"), FEED_TYPE)}


def feed_files(done) -> dict:
    """The files the feed names beyond the page's (chapters JSON, cover), for phone.server.Site.files."""
    paths = [*done.chapters, *([done.cover] if done.cover is not None else [])]
    return {Path(p).name: Path(p) for p in paths if Path(p).is_file()}
