"""The phone page `voicecoach serve` hands out: the HTML, its style and script, the service worker
that keeps chosen sessions for offline use, and the web app manifest. No third-party assets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from .tags import chapters
from .timeline import Timeline

NEUTRAL = "Relaxation"          # the discreet page's title and album, as the discreet export uses
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
          transcript: str | None = None, guidance: str = "") -> Track:
    """A page entry for one exported session; discreet entries carry neutral words only."""
    sections = tuple((c.title, c.start) for c in chapters(timeline, discreet=discreet))
    lines = () if discreet else tuple((c.start, c.text) for c in timeline.cues if c.kind == "speech" and c.text)
    return Track(number, f"Session {number:02d}" if discreet else title, file, timeline.length, sections, lines,
                 transcript, "" if discreet else guidance)


def minutes_seconds(ms: int) -> str:
    """A time as m:ss (or h:mm:ss), rounded down to the second, as players show it."""
    h, rest = divmod(ms // 1000, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _about_length(ms: int) -> str:
    minutes = round(ms / 60000)
    return f"about {minutes} minute{'s' if minutes != 1 else ''}" if minutes else "under a minute"


def file_url(name: str) -> str:
    """The page-relative address of a file in the exported folder."""
    return "files/" + quote(name, safe="")


def _track_html(t: Track) -> str:
    src, e = file_url(t.file), escape
    sections = "".join(
        f'<li><a class="jump" href="{src}#t={start / 1000:.3f}" data-t="{start / 1000:.3f}">'
        f'<span class="name">{e(name)}</span> <span class="at">{minutes_seconds(start)}</span></a></li>'
        for name, start in t.sections)
    lines = "".join(
        f'<li data-t="{start / 1000:.3f}"><a class="at" href="{src}#t={start / 1000:.3f}" '
        f'data-t="{start / 1000:.3f}">{minutes_seconds(start)}</a> {e(text)}</li>'
        for start, text in t.lines)
    transcript = (f'<details class="transcript"><summary>Transcript: every spoken line</summary>'
                  f'<ol>{lines}</ol></details>') if lines else ""
    words = (f' <a class="button quiet" href="{file_url(t.transcript)}" download="{e(t.transcript)}">'
             f'Download the words (.vtt)</a>') if t.transcript else ""
    guidance = f'<p class="guidance">{e(t.guidance)}</p>' if t.guidance else ""
    return f"""
<li class="stage" id="stage-{t.number}" data-title="{e(t.title)}" data-file="{e(src)}"\
 data-words="{e(file_url(t.transcript)) if t.transcript else ''}">
  <h2><span class="number">{t.number}.</span> {e(t.title)}</h2>
  <p class="length">Length <strong>{minutes_seconds(t.ms)}</strong> ({_about_length(t.ms)})</p>
  <button class="play" type="button" aria-pressed="false" hidden>Play</button>
  <audio controls preload="metadata" src="{src}"></audio>
  {guidance}
  <h3>Sections <span class="hint">(tap to jump)</span></h3>
  <ol class="sections">{sections}</ol>
  {transcript}
  <p class="actions"><a class="button download" href="{src}?download" download="{e(t.file)}">Download \
<span class="file">{e(t.file)}</span></a>{words}
  <button class="keep" type="button" hidden>Keep on this phone</button></p>
  <p class="kept-status" role="status" aria-live="polite"></p>
</li>"""


def index_html(listing: Listing, *, https_fingerprint: str | None = None) -> str:
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
    intro = ("Audio sessions, to be played in order, one at a time." if listing.discreet else
             "Play them in order, at whatever pace feels right for you. Going back a step is always fine.")
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
<body data-album="{e(listing.title)}" data-artist="{e(NEUTRAL if listing.discreet else 'voicecoach')}">
<header>
  <h1>{e(listing.title)}</h1>
  {about}
  <p>{intro}</p>
</header>
<main>
<ol class="stages">{''.join(_track_html(t) for t in listing.tracks)}
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
ICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96">
<rect width="96" height="96" rx="20" fill="#0b0d12"/>
<circle cx="48" cy="48" r="30" fill="none" stroke="#ffd166" stroke-width="8"/>
<circle cx="48" cy="48" r="10" fill="#ffd166"/>
</svg>
"""

# Colours: text #f4f4f0 and #d5d8de on #0b0d12 / #1a1f2b, buttons #111 on #ffd166; all well over 4.5:1.
STYLE = """
:root { color-scheme: dark; }
* { box-sizing: border-box; }
html { background: #0b0d12; color: #f4f4f0; font: 400 1.25rem/1.5 system-ui, -apple-system, "Segoe UI",
       Roboto, sans-serif; -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 44rem; padding: 1rem; background: #0b0d12; }
h1 { font-size: 2rem; line-height: 1.2; margin: .5rem 0 1rem; }
h2 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 .5rem; }
h3 { font-size: 1.2rem; margin: 1rem 0 .5rem; }
p, li { color: #f4f4f0; }
.about, .length, .guidance, .hint, footer p { color: #d5d8de; }
a { color: #ffe08a; }
ol.stages { list-style: none; padding: 0; margin: 0; }
.stage { background: #1a1f2b; border-radius: 1rem; padding: 1rem; margin: 0 0 1.5rem; }
.number { color: #ffd166; }
button, .button { display: inline-flex; align-items: center; justify-content: center; min-height: 3.5rem;
  min-width: 3.5rem; padding: .75rem 1.25rem; margin: .25rem 0; border: 0; border-radius: .75rem;
  background: #ffd166; color: #111111; font-family: inherit; font-size: 1.2rem; font-weight: 700;
  line-height: 1.2; text-decoration: none; cursor: pointer; }
button.quiet, .button.quiet { background: #2c3444; color: #f4f4f0; }
button:focus-visible, a:focus-visible, audio:focus-visible { outline: .25rem solid #ffffff; outline-offset: .2rem; }
.play { display: flex; width: 100%; min-height: 5rem; font-size: 1.6rem; margin: .75rem 0; }
.play[aria-pressed="true"] { background: #f4f4f0; color: #111111; }
button[hidden], .play[hidden], p[hidden], div[hidden] { display: none; }
audio { width: 100%; min-height: 3.5rem; margin: .25rem 0; }
ol.sections { list-style: none; padding: 0; margin: 0; }
ol.sections a { display: flex; justify-content: space-between; gap: 1rem; min-height: 3.5rem; align-items: center;
  padding: .5rem 1rem; margin: .25rem 0; border-radius: .75rem; background: #2c3444; color: #f4f4f0;
  text-decoration: none; }
ol.sections .at { color: #ffe08a; font-variant-numeric: tabular-nums; }
details.transcript { margin: 1rem 0; }
details.transcript summary { padding: .9rem 0; cursor: pointer; font-weight: 700; }
details.transcript ol { list-style: none; padding: 0; }
details.transcript li { padding: .35rem .5rem; border-radius: .5rem; }
details.transcript li.now { background: #2c3444; }
details.transcript .at { display: inline-block; min-width: 3.5rem; padding: .4rem .25rem; color: #ffe08a;
  font-variant-numeric: tabular-nums; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
.file { font-weight: 400; margin-left: .4rem; overflow-wrap: anywhere; }
.kept-status { color: #d5d8de; min-height: 1.5rem; }
section { margin: 2rem 0; }
code { color: #ffe08a; overflow-wrap: anywhere; }
#stored-list li { margin: .25rem 0; }
"""

APP_JS = r"""
'use strict';
(() => {
  const root = document.documentElement;
  root.classList.replace('no-js', 'js');
  const body = document.body;
  const stages = [...document.querySelectorAll('.stage')];
  const audios = stages.map((stage) => stage.querySelector('audio'));

  function showMedia(stage) {
    if (!('mediaSession' in navigator) || typeof MediaMetadata === 'undefined') return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: stage.dataset.title, artist: body.dataset.artist, album: body.dataset.album,
      artwork: [{src: 'icon.svg', sizes: '96x96', type: 'image/svg+xml'}],
    });
  }

  for (const stage of stages) {
    const audio = stage.querySelector('audio');
    const button = stage.querySelector('.play');
    const lines = [...stage.querySelectorAll('.transcript li[data-t]')];
    const label = (playing) => {
      button.textContent = playing ? 'Pause' : 'Play';
      button.setAttribute('aria-pressed', String(playing));
    };
    button.hidden = false;
    button.addEventListener('click', () => (audio.paused ? audio.play() : audio.pause()));
    audio.addEventListener('play', () => {
      for (const other of audios) if (other !== audio) other.pause();
      label(true);
      showMedia(stage);
    });
    audio.addEventListener('pause', () => label(false));
    audio.addEventListener('ended', () => label(false));
    for (const link of stage.querySelectorAll('a[data-t]')) {
      link.addEventListener('click', (event) => {
        event.preventDefault();
        audio.currentTime = Number(link.dataset.t);
        audio.play();
      });
    }
    let shown = null;
    audio.addEventListener('timeupdate', () => {
      let now = null;
      for (const line of lines) if (Number(line.dataset.t) <= audio.currentTime) now = line;
      if (now !== shown) {
        if (shown) shown.classList.remove('now');
        if (now) now.classList.add('now');
        shown = now;
      }
    });
  }

  // Keeping sessions: only where the browser allows a service worker (a secure context).
  const SCOPE = new URL('./', location.href).pathname;
  const CACHE = 'voicecoach ' + SCOPE;
  const SHELL = __SHELL__;
  const $ = (id) => document.getElementById(id);
  if (!window.isSecureContext || !('serviceWorker' in navigator) || !('caches' in window)) {
    $('keep-no').hidden = false;
    return;
  }

  const absolute = (path) => new URL(path, location.href).href;
  const filesOf = (stage) => [stage.dataset.file, stage.dataset.words].filter(Boolean).map(absolute);
  const nameOf = (url) => decodeURIComponent(new URL(url).pathname.split('/').pop()) || 'this page';

  async function kept(stage) {
    if (!(await caches.has(CACHE))) return false;     // opening it would make an empty one
    const cache = await caches.open(CACHE);
    return Boolean(await cache.match(absolute(stage.dataset.file)));
  }

  async function keep(stage) {
    const status = stage.querySelector('.kept-status');
    status.textContent = 'Keeping this session on this phone…';
    try {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL.map(absolute).concat(filesOf(stage)));
      status.textContent = 'Kept: it plays here with no connection.';
    } catch (error) {
      status.textContent = 'It could not be kept (' + error.message + '). Download works instead.';
    }
    await refresh();
  }

  async function drop(stage) {
    const cache = await caches.open(CACHE);
    for (const url of filesOf(stage)) await cache.delete(url);
    stage.querySelector('.kept-status').textContent = 'Removed from this phone.';
    if (!(await Promise.all(stages.map(kept))).some(Boolean)) await caches.delete(CACHE);
    await refresh();
  }

  async function refresh() {
    const list = $('stored-list');
    list.textContent = '';
    let total = 0;
    for (const key of await caches.keys()) {
      if (!key.startsWith('voicecoach ')) continue;
      const cache = await caches.open(key);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        const size = response ? (await response.clone().blob()).size : 0;
        total += size;
        const item = document.createElement('li');
        const where = key === CACHE ? '' : ' (from an earlier sharing)';
        item.textContent = nameOf(request.url) + ', ' + Math.max(1, Math.round(size / 1024)) + ' KB' + where;
        list.appendChild(item);
      }
    }
    $('stored').hidden = false;
    if (!list.children.length) {
      const item = document.createElement('li');
      item.textContent = 'Nothing is stored on this phone.';
      list.appendChild(item);
    } else {
      const item = document.createElement('li');
      item.textContent = 'In all: ' + (total / 1048576).toFixed(1) + ' MB.';
      list.appendChild(item);
    }
    $('forget').hidden = list.children.length < 2;
    for (const stage of stages) {
      const button = stage.querySelector('.keep');
      const yes = await kept(stage);
      button.dataset.kept = yes ? 'yes' : 'no';
      button.textContent = yes ? 'Kept on this phone: remove' : 'Keep on this phone';
      button.hidden = false;
    }
  }

  navigator.serviceWorker.register('sw.js', {scope: './'}).then(() => {
    $('keep-yes').hidden = false;
    for (const stage of stages) {
      const button = stage.querySelector('.keep');
      button.addEventListener('click', () => (button.dataset.kept === 'yes' ? drop(stage) : keep(stage)));
    }
    $('forget').addEventListener('click', async () => {
      for (const key of await caches.keys()) if (key.startsWith('voicecoach ')) await caches.delete(key);
      for (const registration of await navigator.serviceWorker.getRegistrations()) await registration.unregister();
      await refresh();
      for (const stage of stages) stage.querySelector('.keep').hidden = true;
      $('keep-yes').hidden = true;
      $('keep-failed').hidden = false;
      $('keep-failed').textContent = 'Everything is removed. Reload the page to keep sessions again.';
    });
    return refresh();
  }).catch((error) => {
    $('keep-failed').hidden = false;
    $('keep-failed').textContent = 'This browser would not keep sessions here (' + error.message +
      '). Download works instead.';
  });
})();
""".replace("__SHELL__", json.dumps(list(SHELL)))

SERVICE_WORKER = r"""
'use strict';
// Kept sessions and the page, from the Cache the page fills; everything else from the network.
const SCOPE = new URL(self.registration.scope).pathname;
const CACHE = 'voicecoach ' + SCOPE;
const WAIT_MS = 4000;   // how long the page waits for the computer before showing the kept copy

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  const isFile = url.pathname.startsWith(SCOPE + 'files/');
  event.respondWith(isFile ? keptFirst(request) : networkFirst(request));
});

async function kept(request) {
  const cache = await caches.open(CACHE);
  return cache.match(request, {ignoreSearch: true, ignoreVary: true});
}

async function keptFirst(request) {
  const hit = await kept(request);
  if (!hit) return fetch(request);
  const range = request.headers.get('range');
  return range ? part(hit, range) : hit;
}

// Media elements ask for byte ranges; a cached file answers them from its stored bytes.
async function part(response, range) {
  const blob = await response.blob();
  const size = blob.size;
  const found = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start = 0, end = size - 1;
  if (found && found[1] !== '') {
    start = Number(found[1]);
    if (found[2] !== '') end = Math.min(Number(found[2]), size - 1);
  } else if (found && found[2] !== '') {
    start = Math.max(0, size - Number(found[2]));
  }
  if (!found || start >= size || start > end) {
    return new Response(null, {status: 416, headers: {'Content-Range': 'bytes */' + size}});
  }
  return new Response(blob.slice(start, end + 1), {status: 206, headers: {
    'Content-Type': response.headers.get('Content-Type') || 'application/octet-stream',
    'Content-Range': 'bytes ' + start + '-' + end + '/' + size,
    'Content-Length': String(end - start + 1),
    'Accept-Ranges': 'bytes',
  }});
}

async function networkFirst(request) {
  try {
    return await Promise.race([fetch(request), new Promise((_, fail) =>
      setTimeout(() => fail(new Error('the computer did not answer')), WAIT_MS))]);
  } catch (error) {
    const hit = await kept(request);
    if (hit) return hit;
    throw error;
  }
}
"""
