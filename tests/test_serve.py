"""voicecoach serve: only token holders get anything, only the exported files leave the folder, paths
cannot climb out of it, downloads are the exported bytes, --https uses our own certificate, the QR code
scans, and Ctrl-C stops the server cleanly."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.export.manifest import MANIFEST
from voicecoach.phone import server as serving
from voicecoach.phone import share
from voicecoach.phone.page import Listing, Track
from voicecoach.phone.qr import terminal_qr

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
voicecoach: 1
title: Calm breathing
about: A short, slow start.
params: {size: 1}
steps:
  - section: Arriving
  - say: Welcome. Settle in, in whatever way feels supported.
  - pause: 2
  - section: Breathing
  - say: Let the breath come in slowly, and go out a little longer.
  - pause: 3
  - say: You can stop whenever you like.
"""

PROGRAM = """
voicecoach: 1
title: Step by step
about: A small path, one stage at a time.
stages:
  - stage: First steps
    script: calm.yaml
    move_on_when: It feels familiar.
    frequency: every day
  - stage: Second steps
    script: calm.yaml
    set: {size: 2}
    move_on_when: It feels easy.
    frequency: 3 times a week
"""


def write_program(folder: Path) -> Path:
    """A two-stage program of short sessions in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calm.yaml").write_text(SCRIPT.lstrip(), encoding="utf-8")
    path = folder / "program.yaml"
    path.write_text(PROGRAM.lstrip(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    return write_program(tmp_path_factory.mktemp("program"))


@pytest.fixture(scope="module")
def sharing(program, shared_cache, tmp_path_factory):
    """The program exported and served on loopback, on a free port."""
    folder = tmp_path_factory.mktemp("shared") / "phone"
    shared = share.open_share(program, shared_cache, folder, port=0)
    shared.server.start()
    yield shared
    shared.server.stop()


def raw_get(server: serving.PhoneServer, path: str, method: str = "GET", headers: dict | None = None):
    """(status, headers, body) for `path` sent exactly as written, with no client-side normalising."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_the_page_is_under_the_token_and_nothing_else_is(sharing):
    server, token = sharing.server, sharing.server.site.token
    assert len(token) >= 43                                       # 32 random bytes
    status, headers, body = raw_get(server, f"/{token}/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"First steps" in body and b"Second steps" in body
    assert headers["Referrer-Policy"] == "no-referrer" and "default-src 'none'" in headers["Content-Security-Policy"]
    assert raw_get(server, f"/{token}")[0] == 308                 # to the page, with its slash
    other = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in ["/", "/index.html", f"/{other}/", f"/{token.upper()}/", f"/x{token}/", f"/{token}x/",
                 "/files/01%20First%20steps.mp3", f"/{other}/files/01%20First%20steps.mp3",
                 f"/{token}/files/", f"/{token}/files", f"/{token}/nothing", f"/{token}/files/README.txt/x"]:
        status, _, body = raw_get(server, path)
        assert status == 404, path
        assert token.encode() not in body
    status, headers, _ = raw_get(server, f"/{token}/files/README.txt", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"      # only the log takes a POST
    assert raw_get(server, f"/{token[:-1]}/files/README.txt", method="DELETE")[0] == 404


@pytest.fixture
def opened():
    """Paths the server's threads open while the fixture is live (a Python audit hook; the test's own
    thread is left out)."""
    seen: list = []
    live = threading.Event()

    def hook(event, args):
        if live.is_set() and event == "open" and threading.current_thread() is not threading.main_thread() \
                and isinstance(args[0], (str, bytes, os.PathLike)):
            seen.append(os.fsdecode(args[0]))
    sys.addaudithook(hook)
    live.set()
    yield seen
    live.clear()                 # audit hooks cannot be removed; this one now does nothing


CLIMBS = ["../secret.txt", "files/../../secret.txt", "files/../secret.txt", "files/..%2Fsecret.txt",
          "files/..%2f..%2fsecret.txt", "files/%2e%2e%2fsecret.txt", "files/%2E%2E%2F%2E%2E%2Fsecret.txt",
          "files/%2e%2e/secret.txt", "files/.%2e/.%2e/secret.txt", "files/..%5Csecret.txt", "files/%2Fetc%2Fpasswd",
          "files//etc/passwd", "files/%252e%252e%252fsecret.txt", "files/README.txt%00.mp3", "files/.",
          "files/..", "files/%2e", "files/%2e%2e", "files/%C0%AE%C0%AE%2Fsecret.txt", "files/calm.yaml",
          "files/%2e%2e%2fprogram%2fcalm.yaml"]


def test_paths_that_climb_out_of_the_folder_get_404_and_open_nothing(sharing, opened):
    server, token, folder = sharing.server, sharing.server.site.token, sharing.folder
    secret = folder.parent / "secret.txt"
    secret.write_text("private\n", encoding="utf-8")
    for climb in CLIMBS:
        status, _, body = raw_get(server, f"/{token}/{climb}")
        assert status == 404, climb
        assert b"private" not in body
    for climb in CLIMBS:                                          # and without the token, the same
        assert raw_get(server, f"/{climb}")[0] == 404
    time.sleep(0.1)
    assert [p for p in opened if not Path(p).resolve().is_relative_to(folder.resolve())] == []
    # The hook does see the server's reads: a listed file is opened, inside the folder.
    assert raw_get(server, f"/{token}/files/README.txt")[0] == 200
    assert any(Path(p).resolve() == (folder / "README.txt").resolve() for p in opened)


def test_a_link_inside_the_folder_that_points_out_of_it_is_not_followed(tmp_path):
    folder, outside = tmp_path / "phone", tmp_path / "secret.mp3"
    folder.mkdir()
    outside.write_bytes(b"private")
    (folder / "01 Session.mp3").symlink_to(outside)
    listing = Listing("Program", "", (Track(1, "Session", "01 Session.mp3", 1000, ()),))
    with serving.PhoneServer(serving.site(listing, folder), port=0).start() as server:
        status, _, body = raw_get(server, f"/{server.site.token}/files/01%20Session.mp3")
    assert status == 404 and body != b"private"


def test_only_what_the_export_made_is_shared(sharing):
    server, token, folder = sharing.server, sharing.server.site.token, sharing.folder
    (folder / "diary.txt").write_text("mine\n", encoding="utf-8")      # the user's own file in the folder
    assert raw_get(server, f"/{token}/files/diary.txt")[0] == 404
    # The list of what the export wrote is the export's own business, not the phone's.
    assert raw_get(server, f"/{token}/files/{MANIFEST}")[0] == 404
    names = sorted(p.name for p in folder.iterdir() if p.name not in ("diary.txt", MANIFEST))
    assert sorted(server.site.files) == names
    assert names == ["01 First steps.chapters.json", "01 First steps.mp3", "01 First steps.vtt",
                     "02 Second steps.chapters.json", "02 Second steps.mp3", "02 Second steps.vtt", "README.txt",
                     "Stage 01 First steps.m3u8", "Stage 02 Second steps.m3u8", "Step by step.zip", "cover.png",
                     "playlist.m3u8"]
    (folder / "diary.txt").unlink()


def test_downloads_are_the_exported_bytes_with_their_names_and_ranges(sharing):
    server, token, folder = sharing.server, sharing.server.site.token, sharing.folder
    exported = (folder / "01 First steps.mp3").read_bytes()
    status, headers, body = raw_get(server, f"/{token}/files/01%20First%20steps.mp3?download")
    assert status == 200 and body == exported and headers["Content-Type"] == "audio/mpeg"
    assert headers["Content-Disposition"] == "attachment; filename*=UTF-8''01%20First%20steps.mp3"
    status, headers, body = raw_get(server, f"/{token}/files/01%20First%20steps.mp3",
                                    headers={"Range": "bytes=100-1099"})
    assert status == 206 and body == exported[100:1100]
    assert headers["Content-Range"] == f"bytes 100-1099/{len(exported)}"
    tail = raw_get(server, f"/{token}/files/01%20First%20steps.mp3", headers={"Range": "bytes=-10"})[2]
    assert tail == exported[-10:]
    status, headers, _ = raw_get(server, f"/{token}/files/01%20First%20steps.mp3",
                                 headers={"Range": f"bytes={len(exported)}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(exported)}"
    status, headers, body = raw_get(server, f"/{token}/files/01%20First%20steps.mp3", method="HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == str(len(exported))


def test_all_as_a_zip_holds_the_folder_and_is_made_once(sharing, program, shared_cache):
    folder = sharing.folder
    status, _, body = raw_get(sharing.server, f"/{sharing.server.site.token}/files/Step%20by%20step.zip")
    assert status == 200
    path = folder / "Step by step.zip"
    assert body == path.read_bytes()
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["01 First steps.chapters.json", "01 First steps.mp3", "01 First steps.vtt",
                                        "02 Second steps.chapters.json", "02 Second steps.mp3", "02 Second steps.vtt",
                                        "README.txt", "Stage 01 First steps.m3u8", "Stage 02 Second steps.m3u8",
                                        "cover.png", "playlist.m3u8"]
        for name in z.namelist():
            assert z.read(name) == (folder / name).read_bytes()
    before = path.stat().st_mtime_ns
    again = share.open_share(program, shared_cache, folder, port=0)
    again.server.stop()
    assert path.stat().st_mtime_ns == before                    # nothing changed: not rebuilt


def test_discreet_pages_say_nothing_about_the_program(program, shared_cache, tmp_path):
    shared = share.open_share(program, shared_cache, tmp_path / "discreet", port=0, discreet=True)
    try:
        pages = b"".join(data for data, _ in shared.server.site.pages.values()).decode()
        for private in ["Step by step", "First steps", "Second steps", "small path", "Arriving", "Breathing",
                        "Welcome", "familiar", "Calm"]:
            assert private not in pages, private
        assert "<title>Relaxation</title>" in pages and 'data-title="Session 01"' in pages
        assert sorted(shared.server.site.files) == ["README.txt", "Relaxation.zip", "Session 01.chapters.json",
                                                    "Session 01.mp3", "Session 02.chapters.json", "Session 02.mp3",
                                                    "Stage 01.m3u8", "Stage 02.m3u8", "cover.png", "playlist.m3u8"]
    finally:
        shared.server.stop()


def test_https_uses_our_own_certificate_and_keeps_it(program, shared_cache, tmp_path):
    tls = tmp_path / "tls"
    shared = share.open_share(program, shared_cache, tmp_path / "phone", port=0, https=True, tls_folder=tls)
    with shared.server.start():
        assert shared.server.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(shared.cert.cert))     # checks the name, too
        with urllib.request.urlopen(shared.server.url, context=trusted, timeout=30) as response:
            page = response.read().decode()
        assert shared.cert.fingerprint in page
        with urllib.request.urlopen(shared.server.url + "voicecoach.crt", context=trusted, timeout=30) as response:
            assert response.read() == shared.cert.der()
        with pytest.raises(urllib.error.URLError):            # an ordinary client refuses the self-signed one
            urllib.request.urlopen(shared.server.url, timeout=30)
    assert (tls / "key.pem").stat().st_mode & 0o077 == 0
    again = share.open_share(program, shared_cache, tmp_path / "phone", port=0, https=True, tls_folder=tls)
    again.server.stop()
    assert again.cert.fingerprint == shared.cert.fingerprint     # a phone that trusts it keeps trusting it


def test_the_lan_address_is_found_without_sending_anything(monkeypatch):
    sent = []
    real = socket.socket

    class Watched(real):
        def send(self, *args, **kwargs):
            sent.append(args)
            return super().send(*args, **kwargs)

        sendto = sendall = send
    monkeypatch.setattr(socket, "socket", Watched)
    try:
        address = share.lan_address()
    except VoicecoachError as e:
        assert "local network" in str(e) or "open internet" in str(e)
    else:
        import ipaddress
        ip = ipaddress.ip_address(address)
        assert not ip.is_loopback and not ip.is_global and not ip.is_unspecified
    assert sent == []


def _unblock(text: str) -> np.ndarray:
    """A half-block drawing turned back into pixels (light 255, dark 0), each module 8x8."""
    top = {"█": 1, "▀": 1, "▄": 0, " ": 0}
    bottom = {"█": 1, "▀": 0, "▄": 1, " ": 0}
    rows = []
    for line in text.splitlines():
        if line:
            rows.append([top[c] for c in line])
            rows.append([bottom[c] for c in line])
    width = max(len(r) for r in rows)
    modules = np.array([r + [0] * (width - len(r)) for r in rows], dtype=np.uint8) * 255
    return np.kron(modules, np.ones((8, 8), dtype=np.uint8))


def test_the_terminal_qr_code_scans_to_the_link():
    import zxingcpp
    url = "http://192.168.1.23:8765/" + "T" * 43 + "/"
    drawing = terminal_qr(url)
    assert set(drawing) <= set("█▀▄ \n")
    found = zxingcpp.read_barcodes(_unblock(drawing))
    assert [f.text for f in found] == [url]


def test_serve_refuses_a_missing_program_and_a_busy_port(program, shared_cache, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["serve", str(tmp_path / "nothing.yaml"), "--dir", str(tmp_path / "out")])
    assert missing.exit_code == 1 and "nothing.yaml" in missing.output and "Traceback" not in missing.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = runner.invoke(cli, ["--cache-dir", str(shared_cache.root), "serve", str(program), "--dir",
                                    str(tmp_path / "out"), "--port", str(port)])
    assert taken.exit_code == 1 and f"port {port} is already in use" in taken.output


def test_serve_prints_the_link_without_a_code_and_stops_on_ctrl_c(program, shared_cache, tmp_path):
    child = subprocess.Popen([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(shared_cache.root), "serve",
                              str(program), "--dir", str(tmp_path / "phone"), "--port", "0"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in child.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        out = "".join(lines)
        url = re.search(r"Open this in a browser on this computer: (\S+)", out).group(1)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]{43}/", url)
        assert "127.0.0.1" in out and "this computer only" in out
        # A phone cannot open 127.0.0.1, so there is no code to scan; it says how a phone gets there instead.
        assert not any(set(line) <= set("█▀▄ \n") and line.strip() for line in lines)
        assert "adb reverse tcp:" in out and "`voicecoach serve --lan`" in out
        with urllib.request.urlopen(url, timeout=30) as response:
            assert b"First steps" in response.read()
        child.send_signal(signal.SIGINT)
        rest, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert "Stopped sharing" in rest and "Traceback" not in err
    assert "The page was opened from 127.0.0.1." in rest
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)


def test_lan_binds_to_the_lan_address_only_and_says_so(program, shared_cache, tmp_path, monkeypatch):
    # The address lan_address finds is tested above; here a second address of this machine stands in
    # for it (127.0.0.2 exists on every Linux machine, network or not), so the binding is always tested.
    address = "127.0.0.2"
    monkeypatch.setattr(share, "lan_address", lambda: address)
    shared = share.open_share(program, shared_cache, tmp_path / "phone", port=0, lan=True)
    said = []
    shared.announce(said.append)
    with shared.server.start():
        server = shared.server
        assert server.host == address and server.url.startswith(f"http://{address}:{server.port}/")
        assert raw_get(server, f"/{server.site.token}/")[0] == 200
        with pytest.raises(OSError):                 # bound to that address alone, not to every interface
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    text = "\n".join(said)
    assert f"Listening on {address} port {server.port}: your local network only" in text
    assert server.url in text and "add --https" in text


def test_hands_free_sharing_lists_the_alongside_sessions_after_the_stages(shared_cache, tmp_path):
    path = write_program(tmp_path / "program")
    (path.parent / "extra.yaml").write_text(SCRIPT.lstrip().replace("title: ", "title: Extra, "), encoding="utf-8")
    text = path.read_text(encoding="utf-8").replace("    frequency: 3 times a week\n",
                                                    "    frequency: 3 times a week\n    alongside: [extra.yaml]\n", 1)
    path.write_text(text, encoding="utf-8")
    folder = share.default_folder(path, False, hands_free=True)
    assert folder.name == "program-hands-free"
    shared = share.open_share(path, shared_cache, tmp_path / "phone", port=0, hands_free=True, pre_roll=5)
    try:
        assert [t.number for t in shared.listing.tracks] == [1, 2, 3]
        assert shared.listing.tracks[2].title.startswith("Extra, ") and "Alongside" in shared.listing.tracks[2].guidance
        assert shared.listing.tracks[0].lines[0][1] == "Starting in 5 seconds."          # the hands-free version
        assert "03 Extra," in (tmp_path / "phone" / "README.txt").read_text(encoding="utf-8")
    finally:
        shared.server.stop()
