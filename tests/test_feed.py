"""The private podcast feed: RSS 2.0 with the podcast namespace that a real feed parser reads, every element a
podcast app needs, addresses under the token that the server really answers, enclosures as long as the files,
items in the program's order, escaped titles, and neutral words when discreet."""

import http.client
import json
import os
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import feedparser
import pytest

from voicecoach.export.program import export_program
from voicecoach.phone.feed import APPS, FEED, PODCAST, feed_files, feed_line, feed_pages, feed_xml
from voicecoach.phone.server import PhoneServer, Site

NS = {"podcast": PODCAST, "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "atom": "http://www.w3.org/2005/Atom"}
BASE = "http://192.168.1.5:8765/SECRETtoken_-1/"

SCRIPT = """voicecoach: 1
title: {title}
about: {about}
steps:
  - section: Settling in
  - say: Let your shoulders drop.
  - section: Vaginal trainer practice
  - say: Well done.
"""
PROGRAM = """voicecoach: 1
title: "Step by step & <more>"
about: A graded path through the pelvic floor sessions.
stages:
  - stage: "Release & \\"let go\\" <now>"
    script: a.yaml
    alongside: [extra.yaml]
    move_on_when: It feels familiar.
    frequency: every day
  - stage: "Trainer ]]> size 1 \\x01\\u202e"
    script: a.yaml
    move_on_when: It feels easy.
    frequency: every day
"""
SENSITIVE = ["pelvic", "vagin", "trainer", "release", "let go", "extra", "settling", "graded"]


def _program(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.yaml").write_text(SCRIPT.format(title="Pelvic floor release", about="Soften the pelvic floor."),
                                   encoding="utf-8")
    (folder / "extra.yaml").write_text(SCRIPT.format(title="Extra breathing", about="Breathe & settle."),
                                       encoding="utf-8")
    (folder / "program.yaml").write_text(PROGRAM, encoding="utf-8")
    return folder / "program.yaml"


@pytest.fixture(scope="module")
def exported(shared_cache, tmp_path_factory):
    folder = tmp_path_factory.mktemp("feed")
    return export_program(_program(folder / "program"), folder / "out", shared_cache, fmt="mp3", bundle=True)


@pytest.fixture(scope="module")
def discreet(shared_cache, tmp_path_factory):
    folder = tmp_path_factory.mktemp("feed-discreet")
    return export_program(_program(folder / "program"), folder / "out", shared_cache, fmt="m4a", discreet=True)


def test_a_feed_parser_reads_it_as_rss_2_with_every_item(exported):
    found = feedparser.parse(feed_xml(exported, BASE))
    assert not found.bozo, found.get("bozo_exception")
    assert found.version == "rss20" and found.namespaces.get("podcast") == PODCAST
    assert found.feed.title == "Step by step & <more>" and found.feed.itunes_type == "serial"
    # Escaped, and without the control character and the right-to-left override the stage's title holds.
    assert [e.title for e in found.entries] == ['Release & "let go" <now>', "Extra breathing", "Trainer ]]> size 1"]
    for entry, f in zip(found.entries, exported.files):
        (enclosure,) = entry.enclosures
        assert enclosure.href == BASE + "files/" + quote(f.path.name, safe="")
        assert int(enclosure.length) == os.path.getsize(f.path) and enclosure.type == "audio/mpeg"
        assert entry.image.href == BASE + "files/cover.png"


def test_every_element_a_podcast_app_needs_is_there(exported):
    root = ET.fromstring(feed_xml(exported, BASE).encode())
    assert root.tag == "rss" and root.get("version") == "2.0"
    (channel,) = root.findall("channel")
    for name in ("title", "link", "description", "language"):
        assert channel.findtext(name), name
    assert channel.findtext("link") == BASE
    assert channel.find("atom:link", NS).get("href") == BASE + FEED
    assert channel.find("image/url").text == channel.find("itunes:image", NS).get("href") == BASE + "files/cover.png"
    assert channel.findtext("podcast:locked", namespaces=NS) == "yes"          # no directory may take it
    items = channel.findall("item")
    assert len(items) == len(exported.files) == 3
    for k, (item, f) in enumerate(zip(items, exported.files)):
        enclosure = item.find("enclosure")
        assert int(enclosure.get("length")) == f.path.stat().st_size
        assert unquote(urlsplit(enclosure.get("url")).path) == f"/SECRETtoken_-1/files/{f.path.name}"
        assert item.findtext("guid") and item.find("guid").get("isPermaLink") == "false"
        assert "SECRET" not in item.findtext("guid")
        chapters = item.find("podcast:chapters", NS)
        assert chapters.get("type") == "application/json+chapters"
        assert unquote(chapters.get("url")).endswith(f.path.stem + ".chapters.json")
        transcript = item.find("podcast:transcript", NS)
        assert (transcript.get("type"), transcript.get("rel")) == ("text/vtt", "captions")
        assert unquote(transcript.get("url")) == BASE + "files/" + f.path.with_suffix(".vtt").name
        assert item.findtext("itunes:episode", namespaces=NS) == str(k + 1)
        assert int(item.findtext("itunes:duration", namespaces=NS)) == round(f.session.timeline.length / 1000)
        assert item.find("itunes:image", NS).get("href") == BASE + "files/cover.png"
    # Stage numbers as seasons: the alongside session belongs with stage 1, where the program lists it.
    assert [i.findtext("itunes:season", namespaces=NS) for i in items] == ["1", "1", "2"]
    assert "Soften the pelvic floor." in items[0].findtext("description")
    assert "Alongside stage 1" in items[1].findtext("description")


def test_items_are_dated_in_the_program_order_and_the_feed_does_not_change_between_runs(exported):
    text = feed_xml(exported, BASE)
    dates = [parsedate_to_datetime(d.text) for d in ET.fromstring(text.encode()).iter("pubDate")]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)      # oldest first is the program's order
    assert feed_xml(exported, BASE) == text


def test_the_server_answers_every_address_in_the_feed_with_the_files_bytes(exported):
    folder = exported.folder.resolve()
    names = [f.path.name for f in exported.files] + [f.transcript.name for f in exported.files]
    files = {**{n: folder / n for n in names}, **feed_files(exported)}
    with PhoneServer(Site("tok3n", folder, files=files), "127.0.0.1", 0) as server:
        base = f"http://127.0.0.1:{server.port}/tok3n/"
        server.httpd.site = Site("tok3n", folder, files=files, pages=feed_pages(exported, base))
        server.start()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/tok3n/" + FEED)
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 200 and answer.getheader("Content-Type").startswith("application/rss+xml")
        root = ET.fromstring(body)
        urls = [e.get("url") for e in root.iter("enclosure")]
        urls += [e.get("url") for e in root.iter(f"{{{PODCAST}}}chapters")]
        urls += [e.get("url") for e in root.iter(f"{{{PODCAST}}}transcript")]
        urls.append(root.find("channel/image/url").text)
        assert len(urls) == 3 * 3 + 1
        for url in urls:
            assert url.startswith(base)
            connection.request("GET", urlsplit(url).path)
            answer = connection.getresponse()
            data = answer.read()
            assert answer.status == 200, url
            assert data == (folder / unquote(urlsplit(url).path.rsplit("/", 1)[1])).read_bytes()
        for e in root.iter("enclosure"):
            connection.request("HEAD", urlsplit(e.get("url")).path)
            answer = connection.getresponse()
            answer.read()
            assert answer.getheader("Content-Length") == e.get("length")
        chapters = json.loads((folder / "01 Release & let go now.chapters.json").read_text(encoding="utf-8"))
        assert chapters["version"] == "1.2.0" and [c["title"] for c in chapters["chapters"]] == \
            ["Settling in", "Vaginal trainer practice"]
        connection.close()


def test_a_discreet_feed_has_neutral_words_only(discreet):
    text = feed_xml(discreet, BASE)
    found = feedparser.parse(text)
    assert not found.bozo and [e.title for e in found.entries] == ["Session 01", "Session 02", "Session 03"]
    assert found.feed.title == "Relaxation"
    assert [w for w in SENSITIVE + ["voicecoach", "health"] if w in text.lower()] == []
    assert [e.enclosures[0].type for e in found.entries] == ["audio/mp4"] * 3
    assert "podcast:transcript" not in text                      # discreet exports write no words beside them
    assert "stage 2" in found.entries[2].description.lower()       # still, the owner can tell them apart


def test_the_base_must_be_an_absolute_web_address(exported):
    for bad in ("files/", "/tok/", "ftp://host/tok/", "http:/host/tok/", "javascript:alert(1)//"):
        with pytest.raises(ValueError):
            feed_xml(exported, bad)
    assert feed_xml(exported, BASE[:-1]) == feed_xml(exported, BASE)     # the trailing slash is added


def test_serve_says_which_apps_fetch_the_feed_on_the_phone_and_which_through_their_servers():
    line = feed_line(BASE + FEED)
    assert "\n" not in line and BASE + FEED in line
    assert "AntennaPod" in APPS and all(app in line for app in ("Pocket Casts", "Overcast", "Podverse"))
