"""The phone page `voicecoach serve` hands out: the HTML, its style and script, the service worker
that keeps chosen sessions for offline use, and the web app manifest. No third-party assets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from importlib import resources
from urllib.parse import quote

from voicecoach.audio.tags import chapters
from voicecoach.discreet import NEUTRAL, session_title
from voicecoach.exercise.safety import HEADING, WHEN_TO_STOP
from voicecoach.exercise.timeline import Timeline
from voicecoach.practice.entry import COMFORT
from voicecoach.units import about, minutes

SHELL = ("./", "app.js", "style.css", "manifest.webmanifest", "icon.svg")   # what "keep" stores besides audio


@dataclass(frozen=True)
class Track:
    """One session on the page."""
    number: int
    title: str
    file: str                   # its name in the exported folder
    ms: int
    sections: tuple             # (name, start ms)
    lines: tuple = ()           # (start ms, spoken text); empty when discreet
    transcript: str | None = None   # the .vtt beside it, if any
    guidance: str = ""
    key: str = ""               # which session it is for the log, across sharings (report.key): no name in it


@dataclass(frozen=True)
class Listing:
    """Everything the page shows: the program's sessions in order and the extra downloads."""
    title: str
    about: str
    tracks: tuple
    bundle: str | None = None   # the zip of the whole folder
    playlist: str | None = None
    readme: str | None = None
    discreet: bool = False


def track(number: int, title: str, file: str, timeline: Timeline, *, discreet: bool,
          transcript: str | None = None, guidance: str = "", key: str = "") -> Track:
    """A page entry for one exported session; discreet entries carry neutral words only."""
    sections = tuple((c.title, c.start) for c in chapters(timeline, discreet=discreet))
    lines = () if discreet else tuple((c.start, c.text) for c in timeline.cues if c.kind == "speech" and c.text)
    return Track(number, session_title(number) if discreet else title, file, timeline.length, sections, lines,
                 transcript, "" if discreet else guidance, key)



def file_url(name: str) -> str:
    """The page-relative address of a file in the exported folder."""
    return "files/" + quote(name, safe="")


def _rating_html() -> str:
    # Hidden until a session ends or is stopped; the script fills in what is sent. Buttons, not a form:
    # the page's policy allows no form submission, and nothing is sent without the script anyway.
    scale = "".join(f'<button type="button" class="comfort" data-comfort="{n}"><span class="n">{n}</span> '
                    f'{escape(word)}</button>' for n, word in COMFORT.items())
    return f"""
  <button class="stop quiet" type="button" hidden>Stop here and note it</button>
  <div class="rate" role="group" aria-label="How did it feel?" hidden>
    <p class="ask">How did it feel?</p>
    <div class="scale">{scale}</div>
    <button type="button" class="skip quiet">Skip: note it without a rating</button>
  </div>
  <p class="log-status" role="status" aria-live="polite"></p>"""


def _track_html(t: Track, *, logging: bool = False, discreet: bool = False) -> str:
    src, e = file_url(t.file), escape
    sections = "".join(
        f'<li><a class="jump" href="{src}#t={start / 1000:.3f}" data-t="{start / 1000:.3f}">'
        f'<span class="name">{e(name)}</span> <span class="at">{minutes(start)}</span></a></li>'
        for name, start in t.sections)
    lines = "".join(
        f'<li data-t="{start / 1000:.3f}"><a class="at" href="{src}#t={start / 1000:.3f}" '
        f'data-t="{start / 1000:.3f}">{minutes(start)}</a> {e(text)}</li>'
        for start, text in t.lines)
    transcript = (f'<details class="transcript"><summary>Transcript: every spoken line</summary>'
                  f'<ol>{lines}</ol></details>') if lines else ""
    words = (f' <a class="button quiet" href="{file_url(t.transcript)}" download="{e(t.transcript)}">'
             f'Download the words (.vtt)</a>') if t.transcript else ""
    guidance = f'<p class="guidance">{e(t.guidance)}</p>' if t.guidance else ""
    # Discreet: the neutral title is a button that asks the computer for the real one (see reveal in app.js).
    title = (f'<button class="reveal" type="button" aria-expanded="false">{e(t.title)}</button>'
             if discreet else e(t.title))
    return f"""
<li class="stage" id="stage-{t.number}" data-number="{t.number}" data-ms="{t.ms}" data-key="{e(t.key)}"\
 data-title="{e(t.title)}" data-file="{e(src)}" data-words="{e(file_url(t.transcript)) if t.transcript else ''}">
  <p class="today-label" hidden></p>
  <h2><span class="number">{t.number}.</span> {title}</h2>
  <p class="length">Length <strong>{minutes(t.ms)}</strong> ({about(t.ms)})</p>
  <button class="play" type="button" aria-pressed="false" hidden>Play</button>
  <audio controls preload="metadata" src="{src}"></audio>{_rating_html() if logging else ""}
  {guidance}
  <h3>Sections <span class="hint">(tap to jump)</span></h3>
  <ol class="sections">{sections}</ol>
  {transcript}
  <p class="actions"><a class="button download" href="{src}?download" download="{e(t.file)}">Download \
<span class="file">{e(t.file)}</span></a>{words}
  <button class="keep" type="button" hidden>Keep on this phone</button></p>
  <p class="kept-status" role="status" aria-live="polite"></p>
</li>"""


def when_to_stop_html(discreet: bool) -> str:
    """The short when-to-stop note: open on a plain page, folded under its plain heading on a discreet one."""
    text = "".join(f"<p>{escape(sentence)}</p>" for sentence in WHEN_TO_STOP)
    if discreet:
        # The heading says nothing about what is practised, and the words under it (bleeding, infection) stay
        # folded until the owner taps: the guidance is all there for them, and nothing shows over a shoulder.
        return (f'<details class="note when-to-stop" id="when-to-stop"><summary>{escape(HEADING)}</summary>'
                f'{text}</details>')
    return f'<section class="note when-to-stop" id="when-to-stop"><h2>{escape(HEADING)}</h2>{text}</section>'


def index_html(listing: Listing, *, https_fingerprint: str | None = None, logging: bool = False) -> str:
    """The page: the sessions in order, each playable, jumpable, readable and downloadable."""
    e = escape
    extras = []
    if listing.bundle:
        extras.append(f'<a class="button" href="{file_url(listing.bundle)}?download" download="{e(listing.bundle)}">'
                      f'Download all, as a zip</a>')
    if listing.playlist:
        extras.append(f'<a class="button quiet" href="{file_url(listing.playlist)}?download" '
                      f'download="{e(listing.playlist)}">Download the playlist</a>')
    if listing.readme:
        extras.append(f'<a class="button quiet" href="{file_url(listing.readme)}?download" '
                      f'download="{e(listing.readme)}">Download the notes</a>')
    https = ""
    if https_fingerprint:
        https = f"""
<section class="note" id="certificate">
  <h2>About the warning your phone showed</h2>
  <p>Your phone warned that this connection is not private. That is expected here: the certificate was made
  by your own computer a moment ago, not by a company your phone knows. The page still comes straight from
  your computer over your own Wi-Fi, encrypted.</p>
  <p>To be sure it is your computer, compare this fingerprint with the one <code>voicecoach serve</code>
  printed: <code class="fingerprint">{e(https_fingerprint)}</code></p>
  <p>Phones only let a page keep sessions over a connection they trust. If you want that, you can
  <a href="voicecoach.crt" download="voicecoach.crt">download the certificate</a> and install it in your
  phone's settings; otherwise, the Download buttons work just as well.</p>
</section>"""
    about = f'<p class="about">{e(listing.about)}</p>' if listing.about and not listing.discreet else ""
    intro = ("Audio sessions, to be played in order, one at a time. Tap a session's name to see its full name."
             if listing.discreet else
             "Play them in order, at whatever pace feels right for you. Going back a step is always fine.")
    queue = ('\n  <p id="today" class="today" hidden></p>\n  <p id="queue-status" role="status" aria-live="polite">'
             '</p>') if logging else ""
    return f"""<!doctype html>
<html lang="en" class="no-js">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<meta name="color-scheme" content="dark">
<meta name="theme-color" content="#0b0d12">
<title>{e(listing.title)}</title>
<link rel="manifest" href="manifest.webmanifest">
<link rel="icon" href="icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body data-album="{e(listing.title)}" data-artist="{e(NEUTRAL if listing.discreet else 'voicecoach')}"\
 data-log="{'yes' if logging else 'no'}">
<header>
  <h1>{e(listing.title)}</h1>
  {about}
  <p>{intro}</p>{queue}
</header>
<main>
{when_to_stop_html(listing.discreet)}
<ol class="stages">{''.join(_track_html(t, logging=logging, discreet=listing.discreet) for t in listing.tracks)}
</ol>
<section class="all">
  <h2>Everything at once</h2>
  <p>The whole folder, to play in your phone's own music or podcast app.</p>
  <p class="actions">{' '.join(extras)}</p>
</section>
<section class="offline" id="offline">
  <h2>With no connection</h2>
  <p>Download saves a session in your phone's own files, where it plays with no connection at all.</p>
  <p id="keep-yes" hidden>"Keep on this phone" stores this page and the sessions you choose in this browser,
  so they play here with no connection, even after the computer stops sharing. Nothing else is stored,
  and nothing is sent anywhere.</p>
  <p id="keep-no" hidden>This browser can keep sessions only over a connection it trusts (on this computer
  itself, or with <code>voicecoach serve --https</code> and a trusted certificate). Here, please use Download.</p>
  <p id="keep-failed" hidden></p>
  <div id="stored" hidden>
    <h3>Stored on this phone</h3>
    <ul id="stored-list"></ul>
    <button id="forget" class="quiet" type="button">Remove everything stored</button>
  </div>
</section>{https}
</main>
<footer><p>Shared from your own computer by voicecoach. Nothing on this page comes from anywhere else.</p></footer>
</body>
</html>
"""


def manifest(listing: Listing) -> str:
    """The web app manifest, so the page can sit on the home screen and open full screen."""
    return json.dumps({"name": listing.title, "short_name": listing.title[:12], "start_url": "./", "scope": "./",
                       "display": "standalone", "background_color": BACKGROUND, "theme_color": BACKGROUND,
                       "icons": [{"src": "icon.svg", "sizes": "any", "type": "image/svg+xml"}]},
                      ensure_ascii=False, indent=1)


BACKGROUND = "#0b0d12"


def asset(name: str) -> str:
    """A file of the page's static/ folder (style, script, service worker, icon), as text."""
    text = resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")
    # The script names the files the page needs offline; this Python file keeps that list.
    return text.replace("__SHELL__", json.dumps(list(SHELL))) if name == "app.js" else text
