"""Finding 7 of the second hardening round: serve names no app, sends its security headers on every answer
(the server's own errors too), answers a malformed or huge Range with 416, cuts off a client that trickles
its request, and caps its connections while the others keep being served."""

from __future__ import annotations

import socket
import time

import pytest

from tests.test_serve import raw_get
from voicecoach.phone import server as serving
from voicecoach.phone.page import Listing, Track

AUDIO = bytes(range(256)) * 40
NAME = "01 Session.mp3"


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / NAME).write_bytes(AUDIO)
    listing = Listing("Program", "", (Track(1, "Session", NAME, 1000, ()),))
    with serving.PhoneServer(serving.site(listing, folder), port=0).start() as running:
        yield running


def raw(server, data: bytes) -> bytes:
    """What the server answers to `data` sent as it is, up to its closing the connection."""
    with socket.create_connection((server.host, server.port), timeout=30) as s:
        s.sendall(data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def header_names(answer: bytes) -> set:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {line.split(":", 1)[0].lower() for line in head}


def test_no_answer_names_the_app(server):
    status, headers, _ = raw_get(server, "/nothing")
    assert status == 404 and "Server" not in headers
    assert all("voicecoach" not in value.lower() for value in headers.values())


@pytest.mark.parametrize("request_bytes, status", [
    (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", b" 501 "),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b" 414 "),
    (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 120 + b"\r\n", b" 431 "),
    (b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", b" 505 "),
    (b"GET / HTTP/1.1 extra\r\n\r\n", b" 400 "),
])
def test_the_servers_own_errors_carry_the_security_headers(server, request_bytes, status):
    answer = raw(server, request_bytes)
    assert status in answer.split(b"\r\n", 1)[0], answer[:200]
    names = header_names(answer)
    assert {key.lower() for key in serving.HEADERS} <= names and "server" not in names
    assert b"voicecoach" not in answer.lower()


def test_every_answer_forbids_sniffing_framing_and_referrers(server):
    token = server.site.token
    for path in ["/", f"/{token}/", f"/{token}/app.js", f"/{token}/files/{NAME.replace(' ', '%20')}"]:
        _, headers, _ = raw_get(server, path)
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path


@pytest.mark.parametrize("value", ["bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000, "bytes=-" + "9" * 40,
                                   "bytes=abc", "bytes=1-2-3", "bytes=-", "bytes=5-1"])
def test_a_malformed_or_huge_range_is_a_416(server, value):
    status, headers, _ = raw_get(server, f"/{server.site.token}/files/{NAME.replace(' ', '%20')}",
                                 headers={"Range": value})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(AUDIO)}"


def test_a_valid_range_still_works(server):
    status, _, body = raw_get(server, f"/{server.site.token}/files/{NAME.replace(' ', '%20')}",
                              headers={"Range": "bytes=10-19"})
    assert status == 206 and body == AUDIO[10:20]


def trickled(server, data: bytes, *, at_once: bytes = b"", at_each_line=None) -> bool:
    """Send `at_once`, then `data` one byte every 50 ms (each read is quick, the whole request is not); whether
    the server cut the connection off. `at_each_line` runs after each newline sent, while the trickle goes on."""
    trickler = socket.create_connection((server.host, server.port), timeout=30)
    started, cut = time.monotonic(), False
    try:
        trickler.sendall(at_once)
        for byte in data:
            try:
                trickler.send(bytes([byte]))
            except OSError:
                cut = True
                break
            time.sleep(0.05)
            if at_each_line is not None and byte == ord("\n"):
                at_each_line()
            if time.monotonic() - started > 20:
                break
        if not cut:
            trickler.settimeout(5)
            try:
                cut = trickler.recv(1) == b""
            except TimeoutError:
                cut = False             # still open, waiting for the rest of the request
            except OSError:
                cut = True
    finally:
        trickler.close()
    return cut


def test_a_trickling_client_is_cut_off_and_the_others_are_served(server):
    server.httpd.request_seconds = 1.0
    request = b"GET /" + server.site.token.encode() + b"/ HTTP/1.1\r\n" + b"X-Slow: x\r\n" * 200

    def another_client_is_answered_in_full():
        assert raw_get(server, f"/{server.site.token}/")[0] == 200
    assert trickled(server, request, at_each_line=another_client_is_answered_in_full), \
        "the trickling client was still connected"


def test_connections_beyond_the_cap_are_closed_and_the_phone_still_served(server, monkeypatch):
    monkeypatch.setattr(serving, "MAX_CONNECTIONS", 6)
    monkeypatch.setattr(serving, "MAX_PER_ADDRESS", 4)
    idle = [socket.create_connection((server.host, server.port), timeout=30) for _ in range(8)]
    try:
        closed = 0
        for s in idle:
            s.settimeout(2)
            try:
                closed += s.recv(1) == b""
            except TimeoutError:
                pass            # held open: it is one of the four allowed
            except OSError:
                closed += 1
        assert closed == 4
        # Once the half-open ones are gone, the phone is answered again.
        for s in idle:
            s.close()
        for _ in range(50):
            # The server notices the closed sockets in its own time; until then it may refuse us too.
            try:
                if raw_get(server, f"/{server.site.token}/")[0] == 200:
                    break
            except ConnectionError:
                pass
            time.sleep(0.05)
    finally:
        for s in idle:
            s.close()
    assert raw_get(server, f"/{server.site.token}/")[0] == 200
