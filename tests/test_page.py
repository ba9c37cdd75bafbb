"""The phone page, in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium):
it lists the stages, plays and jumps, downloads the exported bytes under their names, keeps a session that
plays after the server stops, is discreet when asked, and reads well at phone size (contrast, type, targets)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import time
from pathlib import Path

import pytest
from test_serve import raw_get, write_program

from voicecoach.phone import page, share

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--window-size=390,844",
         # The LAN tests serve on a second address of this machine and reach it by a name, as a phone
         # reaches the computer: the browser then treats it as another host, not as itself.
         "--host-resolver-rules=MAP lan.test 127.0.0.2"]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}

def chromium(test):
    """Browser tests need Debian's chromium and chromedriver, which `make test` installs: missing is a failure."""
    import functools

    @functools.wraps(test)
    def run(*args, **kwargs):
        assert CHROMIUM.exists() and DRIVER.exists(), \
            "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver (make test does)"
        return test(*args, **kwargs)
    return run


# ---------------------------------------------------------------------------------------------------------------
# Without a browser: the page itself.

def _listing(**changes) -> page.Listing:
    tracks = (page.Track(1, "First <steps> & more", "01 First steps.mp3", 754_000, (("Arriving", 0), ("Rest", 61_500)),
                         ((0, "Welcome."), (4_000, "Breathe <slowly>.")), "01 First steps.vtt", "Every day."),
              page.Track(2, "Second steps", "02 Second steps.mp3", 30_000, (("Arriving", 0),)))
    return page.Listing(**{"title": "Step by step", "about": "A small path.", "tracks": tracks,
                           "bundle": "Step by step.zip", "playlist": "playlist.m3u8", **changes})


def test_every_session_plays_without_javascript_from_a_plain_audio_element():
    html = page.index_html(_listing())
    audio = re.findall(r'<audio controls preload="metadata" src="([^"]+)"></audio>', html)
    assert audio == ["files/01%20First%20steps.mp3", "files/02%20Second%20steps.mp3"]
    # The big buttons need the script, so they start hidden; the sections link into the file at their time.
    assert html.count('<button class="play" type="button" aria-pressed="false" hidden>') == 2
    assert 'href="files/01%20First%20steps.mp3#t=61.500" data-t="61.500"' in html
    assert "Length <strong>12:34</strong> (about 13 minutes)" in html


def test_the_page_escapes_what_it_shows_and_names_downloads_properly():
    html = page.index_html(_listing())
    assert "First &lt;steps&gt; &amp; more" in html and "Breathe &lt;slowly&gt;." in html and "<steps>" not in html
    assert 'href="files/01%20First%20steps.mp3?download" download="01 First steps.mp3"' in html
    assert 'download="Step by step.zip">Download all, as a zip</a>' in html


def test_nothing_on_the_page_comes_from_elsewhere():
    assets = [page.index_html(_listing(), https_fingerprint="AB:CD"), page.asset("style.css"), page.asset("app.js"),
              page.asset("sw.js"), page.manifest(_listing())]
    text = "\n".join(assets) + page.asset("icon.svg").replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", text, re.I)
    assert "@import" not in page.asset("style.css") and "url(" not in page.asset("style.css")


def test_a_discreet_page_names_no_session_and_shows_no_words():
    timeline = serving_timeline()
    t = page.track(3, "Trainer, size 2", "Session 03.mp3", timeline, discreet=True, guidance="Every day.")
    assert t.title == "Session 03" and t.lines == () and t.guidance == ""
    assert [name for name, _ in t.sections] == ["Part 1", "Part 2"]
    plain = page.track(3, "Trainer, size 2", "03 Trainer, size 2.mp3", timeline, discreet=False)
    assert [name for name, _ in plain.sections] == ["Arriving", "Resting"]
    assert [text for _, text in plain.lines] == ["Welcome.", "Rest now."]


def serving_timeline():
    from voicecoach.exercise.timeline import Cue, Mark, Timeline
    return Timeline("Trainer", (Cue(0, 900, "speech", "say", "Welcome.", 0, 3),
                                Cue(5000, 900, "speech", "say", "Rest now.", 1, 6)),
                    (Mark("Arriving", 0, 2), Mark("Resting", 4000, 5)), 9000)


# ---------------------------------------------------------------------------------------------------------------
# In Chromium.

@pytest.fixture(scope="module")
def exported(tmp_path_factory, shared_cache):
    """A two-stage program, exported once for this module: (program path, folder)."""
    program = write_program(tmp_path_factory.mktemp("program"))
    folder = tmp_path_factory.mktemp("shared") / "phone"
    share.open_share(program, shared_cache, folder, port=0).server.stop()
    return program, folder


@pytest.fixture
def sharing(exported, shared_cache):
    program, folder = exported
    shared = share.open_share(program, shared_cache, folder, port=0)
    shared.server.start()
    yield shared
    shared.server.stop()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow",
                                                           "downloadPath": str(tmp_path / "downloads")})
    yield driver
    driver.quit()


def until(driver, script: str, timeout: float = 60):
    """Wait until `script` returns something true in the page; its value."""
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(script))


def playing(driver, stage: int, past: float = 0.5) -> None:
    until(driver, f"const a = document.querySelector('#stage-{stage} audio'); "
                  f"return a.currentTime > {past} && !a.paused && !a.error;")


@pytest.mark.slow
@chromium
def test_the_page_lists_the_stages_and_plays_a_session(browser, sharing):
    from selenium.webdriver.common.by import By
    browser.get(sharing.server.url)
    assert browser.title == "Step by step"
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".stage h2")] == ["1. First steps",
                                                                                      "2. Second steps"]
    play = browser.find_element(By.CSS_SELECTOR, "#stage-1 .play")
    assert play.is_displayed() and play.text == "Play"
    play.click()
    playing(browser, 1)
    assert play.text == "Pause" and play.get_attribute("aria-pressed") == "true"
    assert browser.execute_script("return navigator.mediaSession.metadata.title") == "First steps"
    # Tapping a section jumps there: the audio's time moves to the section's start.
    second = browser.find_elements(By.CSS_SELECTOR, "#stage-1 .sections a")[1]
    start = float(second.get_attribute("data-t"))
    assert start > 1
    second.click()
    until(browser, f"return document.querySelector('#stage-1 audio').currentTime >= {start}")
    # Playing another stage pauses the first.
    browser.find_element(By.CSS_SELECTOR, "#stage-2 .play").click()
    playing(browser, 2, past=0.2)
    assert browser.execute_script("return document.querySelector('#stage-1 audio').paused")
    browser.find_element(By.CSS_SELECTOR, "#stage-2 .play").click()
    until(browser, "return document.querySelector('#stage-2 audio').paused")


@pytest.mark.slow
@chromium
def test_the_download_button_saves_the_exported_file_under_its_name(browser, sharing, tmp_path):
    from selenium.webdriver.common.by import By
    browser.get(sharing.server.url)
    button = browser.find_element(By.CSS_SELECTOR, "#stage-1 a.download")
    href = button.get_attribute("href")
    exported = (sharing.folder / "01 First steps.mp3").read_bytes()
    status, _, body = raw_get(sharing.server, href.split(f":{sharing.server.port}", 1)[1])
    assert status == 200 and body == exported
    button.click()
    saved = tmp_path / "downloads" / "01 First steps.mp3"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (saved.exists() and saved.stat().st_size == len(exported)):
        time.sleep(0.1)
    assert saved.read_bytes() == exported
    assert not list((tmp_path / "downloads").glob("*.crdownload"))


@pytest.mark.slow
@chromium
def test_a_kept_session_plays_after_the_server_stops(browser, sharing):
    from selenium.webdriver.common.by import By
    browser.get(sharing.server.url)
    keep = browser.find_element(By.CSS_SELECTOR, "#stage-1 .keep")
    until(browser, "return !document.querySelector('#stage-1 .keep').hidden")     # a secure context: it may keep
    assert "Nothing is stored" in browser.find_element(By.ID, "stored").text
    keep.click()
    until(browser, "return document.querySelector('#stage-1 .keep').dataset.kept === 'yes'")
    stored = browser.find_element(By.ID, "stored").text
    assert "01 First steps.mp3" in stored and "02 Second steps.mp3" not in stored
    sharing.server.stop()
    with pytest.raises(OSError):
        raw_get(sharing.server, f"/{sharing.server.site.token}/")
    browser.refresh()                                     # the page itself now comes from the phone's copy
    until(browser, "return document.readyState === 'complete' && document.querySelector('#stage-1 .play')")
    assert browser.execute_script("return Boolean(navigator.serviceWorker.controller)")
    browser.find_element(By.CSS_SELECTOR, "#stage-1 .play").click()
    playing(browser, 1)
    # A session that was not kept cannot play now.
    failed = browser.execute_async_script(
        "const done = arguments[0]; document.querySelector('#stage-2 audio').play()"
        ".then(() => done(false), () => done(true));")
    assert failed
    # Removing everything leaves nothing stored.
    browser.find_element(By.ID, "forget").click()
    until(browser, "return document.getElementById('stored-list').textContent.includes('Nothing is stored')")
    assert browser.execute_async_script(
        "const done = arguments[0]; caches.keys().then((keys) => done(keys.length));") == 0


@pytest.fixture
def discreet_sharing(exported, shared_cache, tmp_path):
    program, _ = exported
    shared = share.open_share(program, shared_cache, tmp_path / "discreet", port=0, discreet=True)
    shared.server.start()
    yield shared
    shared.server.stop()


@pytest.mark.slow
@chromium
def test_discreet_titles_on_the_page_and_in_the_media_controls(browser, discreet_sharing):
    from selenium.webdriver.common.by import By
    browser.get(discreet_sharing.server.url)
    assert browser.title == "Relaxation"
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".stage h2")] == ["1. Session 01",
                                                                                      "2. Session 02"]
    browser.find_element(By.CSS_SELECTOR, "#stage-1 .play").click()
    playing(browser, 1)
    meta = browser.execute_script("const m = navigator.mediaSession.metadata; return [m.title, m.artist, m.album]")
    assert meta == ["Session 01", "Relaxation", "Relaxation"]
    assert "First steps" not in browser.page_source and "Welcome" not in browser.page_source


TEXT = """
const seen = [];
for (const d of document.querySelectorAll('details')) d.open = true;
const opaque = (c) => c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c);
for (const el of document.querySelectorAll('body *')) {
  if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
  const box = el.getBoundingClientRect(), style = getComputedStyle(el);
  if (!box.width || !box.height || style.visibility === 'hidden') continue;
  let node = el, back = null;
  while (node && !back) {
    const c = getComputedStyle(node).backgroundColor;
    if (opaque(c)) back = c;
    node = node.parentElement;
  }
  seen.push([el.tagName, el.textContent.trim().slice(0, 30), style.color, back || 'rgb(255, 255, 255)',
             parseFloat(style.fontSize)]);
}
return seen;
"""
TARGETS = """
return [...document.querySelectorAll('a, button, summary, audio')].filter((el) => {
  const box = el.getBoundingClientRect(); return box.width && box.height;
}).map((el) => { const box = el.getBoundingClientRect();
  return [el.tagName, el.textContent.trim().slice(0, 30), box.width, box.height]; });
"""


def _rgb(text: str):
    values = [float(v) for v in re.findall(r"[\d.]+", text)]
    return values[:3], (values[3] if len(values) > 3 else 1.0)


def _luminance(rgb) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(color: str, background: str) -> float:
    """The WCAG contrast ratio of text `color` (blended if translucent) on `background`."""
    (fg, alpha), (bg, _) = _rgb(color), _rgb(background)
    fg = [alpha * f + (1 - alpha) * b for f, b in zip(fg, bg)]
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_helper_matches_known_ratios():
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)"), 2) == 4.54


@pytest.mark.slow
@chromium
def test_at_phone_size_the_page_reads_well_and_is_saved_as_a_screenshot(browser, sharing, tmp_path):
    browser.get(sharing.server.url)
    until(browser, "return !document.querySelector('#stage-1 .keep').hidden")
    shot = tmp_path / "serve-page-390x844.png"
    browser.save_screenshot(str(shot))
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])
    assert (width, height) == (390, 844)
    if os.environ.get("VOICECOACH_ARTIFACTS"):
        artifacts = Path(os.environ["VOICECOACH_ARTIFACTS"])
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, artifacts / shot.name)
    texts = browser.execute_script(TEXT)
    assert len(texts) > 20
    poor = [(t[0], t[1], round(contrast(t[2], t[3]), 2)) for t in texts if contrast(t[2], t[3]) < 4.5]
    assert poor == []
    assert min(t[4] for t in texts) >= 18                          # large type: 18 px and up everywhere
    small = [t for t in browser.execute_script(TARGETS) if t[2] < 44 or t[3] < 44]
    assert small == []                                             # every tap target at least 44 x 44 px


@pytest.fixture
def lan(monkeypatch):
    """--lan served on 127.0.0.2 (every Linux machine has it, with or without a network), reached as lan.test."""
    monkeypatch.setattr(share, "lan_address", lambda: "127.0.0.2")
    return lambda url: url.replace("//127.0.0.2:", "//lan.test:")


@pytest.mark.slow
@chromium
def test_over_plain_http_on_the_lan_the_page_offers_download_only(browser, exported, shared_cache, lan):
    from selenium.webdriver.common.by import By
    program, folder = exported
    with share.open_share(program, shared_cache, folder, port=0, lan=True).server.start() as server:
        browser.get(lan(server.url))
        until(browser, "return !document.getElementById('keep-no').hidden")
        assert browser.execute_script("return window.isSecureContext") is False
        assert not any(b.is_displayed() for b in browser.find_elements(By.CSS_SELECTOR, ".keep"))
        assert "please use Download" in browser.find_element(By.ID, "keep-no").text
        browser.find_element(By.CSS_SELECTOR, "#stage-1 .play").click()     # playing needs no secure context
        playing(browser, 1)


@pytest.mark.slow
@chromium
def test_with_https_on_the_lan_a_phone_that_trusts_the_certificate_can_keep(exported, shared_cache, tmp_path, lan):
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    program, folder = exported
    # The browser trusts this one certificate, as a phone does once the user has installed it.
    shared = share.open_share(program, shared_cache, folder, port=0, lan=True, https=True,
                                tls_folder=tmp_path / "tls")
    cert = x509.load_pem_x509_certificate(shared.cert.cert.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    for flag in FLAGS + [f"--user-data-dir={tmp_path / 'profile'}", f"--ignore-certificate-errors-spki-list={pin}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        with shared.server.start() as server:
            assert server.url.startswith("https://")
            driver.get(lan(server.url))
            assert shared.cert.fingerprint in driver.find_element(By.ID, "certificate").text
            until(driver, "return !document.querySelector('#stage-1 .keep').hidden")
            assert driver.execute_script("return window.isSecureContext") is True
            driver.find_element(By.CSS_SELECTOR, "#stage-1 .keep").click()
            until(driver, "return document.querySelector('#stage-1 .keep').dataset.kept === 'yes'")
        driver.refresh()
        until(driver, "return document.readyState === 'complete' && document.querySelector('#stage-1 .play')")
        driver.find_element(By.CSS_SELECTOR, "#stage-1 .play").click()
        playing(driver, 1)
    finally:
        driver.quit()


# ---------------------------------------------------------------------------------------------------------------
# Logging from the page: today's stage first, "How did it feel?", and a note kept on the phone while the
# computer is away.

def _log_entries(db):
    from voicecoach.practice.log import read_log
    with read_log(db) as log:
        return log.entries()


def _play_then_stop(browser, stage: int) -> None:
    from selenium.webdriver.common.by import By
    browser.find_element(By.CSS_SELECTOR, f"#stage-{stage} .play").click()
    playing(browser, stage)
    stop = browser.find_element(By.CSS_SELECTOR, f"#stage-{stage} .stop")
    assert stop.is_displayed()
    stop.click()
    until(browser, f"return !document.querySelector('#stage-{stage} .rate').hidden")


@pytest.mark.slow
@chromium
def test_the_rating_is_noted_in_the_log_and_today_s_stage_comes_first(browser, exported, shared_cache, tmp_path):
    from selenium.webdriver.common.by import By
    program, folder = exported
    db = tmp_path / "log" / "practice.sqlite3"
    shared = share.open_share(program, shared_cache, folder, port=0, db=db)
    with shared.server.start():
        browser.get(shared.server.url)
        # Nothing in the log: stage 1 is today's, on top, as `voicecoach today` would say.
        until(browser, "return !document.querySelector('#stage-1 .today-label').hidden")
        assert browser.find_element(By.ID, "today").text == "Today: stage 1 of 2, First steps"
        assert "When to stop" in browser.find_element(By.ID, "when-to-stop").text
        _play_then_stop(browser, 2)
        assert browser.find_element(By.CSS_SELECTOR, "#stage-2 .rate .ask").text == "How did it feel?"
        browser.find_element(By.CSS_SELECTOR, '#stage-2 .rate button[data-comfort="4"]').click()
        until(browser, "return document.querySelector('#stage-2 .log-status').textContent.includes('Noted')")
        [entry] = _log_entries(db)
        assert (entry.source, entry.script, dict(entry.params), entry.comfort) == ("phone", "calm.yaml",
                                                                                   {"size": 2}, 4)
        assert entry.status == "partial" and 0 < entry.completed_ms < entry.total_ms
        # Logged at stage 2: the page, asking again at once, now puts stage 2 first.
        until(browser, "return document.querySelector('ol.stages').firstElementChild.id === 'stage-2'")
        assert browser.find_element(By.ID, "today").text == "Today: stage 2 of 2, Second steps"
        browser.refresh()
        until(browser, "return document.querySelector('ol.stages').firstElementChild.id === 'stage-2'")
        assert len(_log_entries(db)) == 1


@pytest.mark.slow
@chromium
def test_a_note_made_while_the_computer_is_away_reaches_the_log_on_the_next_visit(browser, exported, shared_cache,
                                                                                   tmp_path):
    from selenium.webdriver.common.by import By
    program, folder = exported
    db = tmp_path / "log" / "practice.sqlite3"
    first = share.open_share(program, shared_cache, folder, port=0, db=db)
    port = first.server.port
    with first.server.start():
        browser.get(first.server.url)
        until(browser, "return !document.querySelector('#stage-1 .today-label').hidden")
        _play_then_stop(browser, 1)
    # The computer stopped sharing between the session and the answer.
    browser.find_element(By.CSS_SELECTOR, '#stage-1 .rate button.skip').click()
    until(browser, "return document.querySelector('#stage-1 .log-status').textContent.includes('Saved on this phone')")
    assert "it will reach your log next time" in browser.find_element(By.CSS_SELECTOR, "#stage-1 .log-status").text
    assert _log_entries(db) == []
    assert len(browser.execute_script("return JSON.parse(localStorage.getItem('voicecoach waiting notes'))")) == 1
    # The next sharing: same address, a new link (a new token). Opening it sends the note, once.
    again = share.open_share(program, shared_cache, folder, port=port, db=db)
    assert again.server.site.token != first.server.site.token
    with again.server.start():
        browser.get(again.server.url)
        until(browser, "return document.getElementById('queue-status').textContent.includes('reached your log')")
        assert browser.execute_script("return localStorage.getItem('voicecoach waiting notes')") is None
        browser.refresh()
        until(browser, "return !document.querySelector('#stage-1 .today-label').hidden")
        [entry] = _log_entries(db)
        assert (entry.source, entry.comfort, dict(entry.params)) == ("phone", None, {"size": 1})


@pytest.mark.slow
@chromium
def test_the_discreet_page_shows_the_real_title_on_a_tap_only(browser, discreet_sharing):
    from selenium.webdriver.common.by import By
    browser.get(discreet_sharing.server.url)
    name = browser.find_element(By.CSS_SELECTOR, "#stage-2 .reveal")
    assert name.text == "Session 02" and "Second steps" not in browser.page_source
    assert "4 seconds" in browser.find_element(By.CSS_SELECTOR, "#stage-2 .length").text or \
        browser.find_element(By.CSS_SELECTOR, "#stage-2 .length").text.startswith("Length")
    # The when-to-stop note is there, folded under its plain heading.
    note = browser.find_element(By.ID, "when-to-stop")
    assert note.tag_name == "details" and note.get_attribute("open") is None and "bleeding" not in note.text
    name.click()
    until(browser, "return document.querySelector('#stage-2 .reveal').textContent === 'Second steps'")
    name.click()
    assert name.text == "Session 02"
    assert browser.execute_script("return navigator.mediaSession.metadata") is None or \
        "Second" not in browser.execute_script("return navigator.mediaSession.metadata.title")
