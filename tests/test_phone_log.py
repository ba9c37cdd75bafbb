"""Logging from the phone: the page's POST is checked as strictly as the `log` commands check theirs, recorded
once per request id with its source, refused with a clear answer otherwise (nothing written), covered by the
server's deadline; `log list` shows the source, `log rate` and `log delete` work on phone entries, and logs
of the earlier formats migrate keeping every entry."""

from __future__ import annotations

import http.client
import json
import os
import socket
import sqlite3
import stat
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from test_serve_hardening import trickled

from voicecoach.cli import cli
from voicecoach.exercise.program import load_program
from voicecoach.phone import report
from voicecoach.phone import server as serving
from voicecoach.phone.page import Listing, Track
from voicecoach.practice import schema
from voicecoach.practice.log import open_log, read_log

NAME = "01 Session.mp3"
CALM = report.Playable(1, "calm.yaml", {"size": 1}, 600_000)
SIZE2 = report.Playable(2, "calm.yaml", {"size": 2}, 300_000)
SESSIONS = {1: CALM, 2: SIZE2}


def good(**changes) -> dict:
    return {"request": "a" * 32, "session": 1, "status": "done", "seconds": 600, "comfort": 4, **changes}


@pytest.fixture
def db(tmp_path):
    return tmp_path / "private" / "practice.sqlite3"


@pytest.fixture
def server(tmp_path, db):
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / NAME).write_bytes(b"\0" * 1000)
    listing = Listing("Program", "", (Track(1, "Session", NAME, 600_000, ()), Track(2, "Two", NAME, 300_000, ())))
    said: list = []
    target = report.LogTarget(db, SESSIONS, on_log=said.append)
    with serving.PhoneServer(serving.site(listing, folder, log=target), port=0).start() as running:
        running.said = said
        yield running


def post(server, body: bytes | str | dict, *, path: str | None = None, kind: str | None = "application/json",
         headers: dict | None = None, method: str = "POST"):
    """(status, headers, body) of a POST sent as written."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.putrequest(method, path or f"/{server.site.token}/log", skip_accept_encoding=True)
        if kind:
            conn.putheader("Content-Type", kind)
        for key, value in {"Content-Length": str(len(data)), **(headers or {})}.items():
            if value is not None:
                conn.putheader(key, value)
        conn.endheaders()
        conn.send(data)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def entries(db) -> list:
    with read_log(db) as log:
        return log.entries()


# ---------------------------------------------------------------- the POST

def test_a_report_is_recorded_once_with_its_source_in_a_private_log(server, db):
    ended = "2026-11-20T18:30:00Z"
    status, headers, body = post(server, good(ended=ended))
    assert status == 201 and json.loads(body) == {"entry": 1, "new": True}
    assert headers["Content-Security-Policy"].count("connect-src 'self'") == 1
    [e] = entries(db)
    assert (e.kind, e.source, e.script, dict(e.params), e.comfort) == ("session", "phone", "calm.yaml", {"size": 1}, 4)
    assert (e.completed_ms, e.total_ms, e.status) == (600_000, 600_000, "complete")
    assert e.finished == datetime(2026, 11, 20, 18, 30, tzinfo=timezone.utc)
    assert e.finished - e.started == timedelta(minutes=10)
    # The retry of a request whose answer was lost: the same entry, nothing added.
    again = post(server, good(ended=ended, comfort=1))
    assert again[0] == 200 and json.loads(again[2]) == {"entry": 1, "new": False}
    assert [x.comfort for x in entries(db)] == [4]
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600 and stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    assert server.said[0] == "Logged from the phone: session 1 (complete, comfortable). Entry 1."


def test_a_partial_session_and_a_skipped_rating(server, db):
    status, _, _ = post(server, good(request="b" * 20, session=2, status="partial", seconds=90.4, comfort=None))
    assert status == 201
    [e] = entries(db)
    assert (e.status, e.completed_ms, e.total_ms, e.comfort, dict(e.params)) == ("partial", 90_400, 300_000, None,
                                                                                  {"size": 2})


def test_a_deleted_entry_does_not_come_back_with_a_late_retry(server, db):
    post(server, good())
    with open_log(db) as log:
        log.delete(1)
    assert post(server, good())[0] == 200 and entries(db) == []


@pytest.mark.parametrize("body, why", [
    (good(comfort=7), b"comfort 7"),
    (good(comfort="4"), b"comfort"),
    (good(comfort=True), b"comfort"),
    (good(seconds=-1), b"seconds -1"),
    (good(seconds=36001), b"seconds"),
    (good(seconds="600"), b"seconds"),
    (good(session=9), b"no session 9"),
    (good(session="1"), b"session"),
    (good(session=1.0), b"session"),
    (good(key="0" * 16), b"not among"),
    (good(status="finished"), b"status"),
    (good(status="partial", seconds=600), b"partial"),
    (good(request="short"), b"request id"),
    (good(request="a" * 31 + "/"), b"request id"),
    (good(ended="yesterday"), b"ended"),
    (good(ended="2026-11-20T18:30:00"), b"time zone"),
    (good(ended="2999-01-01T00:00:00Z"), b"future"),
    (good(ended="1990-01-01T00:00:00Z"), b"ten years"),
    (good(size=2), b"unknown field"),
    ({"request": "a" * 32, "session": 1, "status": "done"}, b"seconds is missing"),
    ("not json at all", b"not JSON"),
    ('{"seconds": NaN}', b"not a number"),
    ('{"request": "aaaaaaaaaaaaaaaaaa", "request": "bbbbbbbbbbbbbbbbbbbbb"}', b"twice"),
    ("[1, 2]", b"JSON object"),
    (b"\xff\xfe{}", b"not JSON"),
    ("[" * 100_0, b"not JSON"),
])
def test_bad_values_are_refused_with_a_reason_and_change_nothing(server, db, body, why):
    status, headers, text = post(server, body)
    assert status == 400 and why in text, text
    assert headers["Content-Type"].startswith("text/plain") and b"Traceback" not in text
    assert entries(db) == [] and not db.exists()


@pytest.mark.parametrize("kind", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                  "application/json; charset=latin-1", "application/jsonx"])
def test_anything_but_json_is_refused(server, db, kind):
    status, _, text = post(server, good(), kind=kind)
    assert status == 415 and b"application/json" in text and not db.exists()


def test_without_or_with_a_wrong_token_it_is_not_found(server, db):
    token = server.site.token
    other = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in ["/log", f"/{other}/log", f"/{token.upper()}/log", f"/{token}x/log", f"/log/{token}", "/"]:
        status, _, text = post(server, good(), path=path)
        assert status == 404 and token.encode() not in text, path
    assert not db.exists()


def test_other_methods_and_other_places_are_not_allowed(server, db):
    token = server.site.token
    for method in ("PUT", "DELETE", "PATCH"):
        status, headers, _ = post(server, good(), method=method)
        assert status == 405 and headers["Allow"] == "POST", method
    status, headers, _ = post(server, good(), path=f"/{token}/")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("GET", f"/{token}/log")
    response = conn.getresponse()
    assert response.status == 405 and response.getheader("Allow") == "POST"
    conn.close()
    assert not db.exists()


def test_an_oversized_body_is_refused_unread(server, db):
    status, _, text = post(server, b"{" + b" " * 5000 + b"}")
    assert status == 413 and b"2048 bytes" in text
    # Told it is huge, the server answers before the body comes (it never reads it).
    with socket.create_connection((server.host, server.port), timeout=30) as s:
        s.sendall(f"POST /{server.site.token}/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: 999999999999\r\n\r\n".encode())
        assert b" 413 " in s.recv(1000).split(b"\r\n", 1)[0]
    for length in ("", "-1", "1e3", "0x10", "+12"):      # none, negative, not plain digits
        assert post(server, good(), headers={"Content-Length": length})[0] == 411, length
    assert post(server, good(), headers={"Transfer-Encoding": "chunked"})[0] == 411
    assert not db.exists()


def test_a_body_trickled_a_byte_at_a_time_is_cut_off_and_not_recorded(server, db):
    server.httpd.request_seconds = 1.0
    body = json.dumps(good()).encode() + b" " * 300        # JSON may end in spaces: a long, valid body
    head = (f"POST /{server.site.token}/log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    assert trickled(server, body, at_once=head), "the trickling client was still connected"   # only the body is slow
    assert not db.exists()
    assert post(server, good())[0] == 201       # and the server still takes an honest report


def test_a_log_that_cannot_be_written_is_a_503_and_the_phone_keeps_the_report(server, db):
    db.parent.mkdir(mode=0o700)
    db.write_bytes(b"this is not a practice log at all, but some other file of the user's" * 20)
    before = db.read_bytes()
    status, _, text = post(server, good())
    assert status == 503 and b"could not write the practice log" in text and str(db).encode() not in text
    assert db.read_bytes() == before and "could not be logged yet" in server.said[0]


# ---------------------------------------------------------------- parse, without a server

def test_the_phone_clock_a_little_ahead_is_now_and_a_queued_report_keeps_its_day():
    clock = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    ahead = report.parse(json.dumps(good(ended="2026-11-25T09:20:00Z")).encode(), SESSIONS, clock=lambda: clock)
    assert ahead.ended == clock
    late = report.parse(json.dumps(good(ended="2026-11-21T20:00:00+01:00")).encode(), SESSIONS, clock=lambda: clock)
    assert late.ended == datetime(2026, 11, 21, 19, 0, tzinfo=timezone.utc)


def test_a_report_kept_since_an_earlier_sharing_finds_its_session_by_key():
    moved = {1: SIZE2, 2: CALM}      # the program shared again, in another order
    found = report.parse(json.dumps(good(key=CALM.key, session=1)).encode(), moved)
    assert found.session is CALM and CALM.key != SIZE2.key and "calm" not in CALM.key


# ---------------------------------------------------------------- today's stage

def test_today_json_follows_the_log_as_today_does(tmp_path, db):
    program = tmp_path / "program.yaml"
    (tmp_path / "calm.yaml").write_text("voicecoach: 1\ntitle: Calm\nparams: {size: 1}\nsteps:\n  - say: Hello.\n",
                                        encoding="utf-8")
    program.write_text("voicecoach: 1\ntitle: P\nstages:\n"
                       "  - {stage: First, script: calm.yaml, move_on_when: easy, frequency: every day}\n"
                       "  - {stage: Second, script: calm.yaml, set: {size: 2}, move_on_when: easy, "
                       "frequency: every day}\n", encoding="utf-8")
    stages = load_program(program).stages
    target = report.LogTarget(db, SESSIONS, stages, {1: 1, 2: 2})
    assert report.today(target) == {"session": 1, "text": "Today: stage 1 of 2, First"}
    # A phone entry at stage 2 (calm.yaml with size 2): today is stage 2, as `voicecoach today` says.
    report.record(report.parse(json.dumps(good(session=2, seconds=300)).encode(), SESSIONS), db)
    assert report.today(target)["session"] == 2
    assert report.today(report.LogTarget(db, SESSIONS, stages, {1: 1, 2: 3}, discreet=True)) == {
        "session": 3, "text": "Next: Session 03"}


def test_today_json_is_served_live(server, db):
    token = server.site.token
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("GET", f"/{token}/today.json")
    response = conn.getresponse()
    assert response.status == 200 and json.loads(response.read()) == {"session": 1, "text": ""}
    assert response.getheader("Cache-Control") == "no-store"
    conn.close()


# ---------------------------------------------------------------- the log commands on phone entries

def run(*args, db):
    return CliRunner().invoke(cli, [*args, "--db", str(db)], obj={})


def test_log_list_shows_the_source_and_rate_and_delete_work_on_phone_entries(db):
    with open_log(db) as log:
        log.add("trainer", size=1)
        log.add_played("calm.yaml", {"size": 2}, total_ms=300_000, completed_ms=60_000,
                       finished=datetime.now().astimezone(), comfort=None, source="phone", request="c" * 16)
    listed = run("log", "list", db=db)
    assert listed.exit_code == 0
    [phone] = [line for line in listed.output.splitlines() if line.lstrip().startswith("2 ")]
    [hand] = [line for line in listed.output.splitlines() if line.lstrip().startswith("1 ")]
    assert "phone" in phone and "calm.yaml size=2" in phone and "partial" in phone
    assert "by hand" in hand and "phone" not in hand
    rated = run("log", "rate", "2", "4", "easier", db=db)
    assert rated.exit_code == 0 and "comfortable" in rated.output
    with read_log(db) as log:
        assert (log.get(2).comfort, log.get(2).note, log.get(2).source) == (4, "easier", "phone")
    assert any(line.startswith("2,") and line.endswith(",phone") for line in run("log", "export", db=db).output.splitlines())
    deleted = run("log", "delete", "2", "--yes", db=db)
    assert deleted.exit_code == 0 and [e.id for e in entries(db)] == [1]
    assert run("log", "check", db=db).exit_code == 0


# ---------------------------------------------------------------- migration

def _old_log(path, version: int) -> None:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    conn = sqlite3.connect(path)
    if version == 1:
        conn.executescript("CREATE TABLE practice (id INTEGER PRIMARY KEY, day TEXT, what TEXT, size INTEGER, "
                           "comfort INTEGER, note TEXT);"
                           "INSERT INTO practice VALUES (1, '2026-11-01', 'trainer', 1, 4, 'first');"
                           "INSERT INTO practice VALUES (2, '2026-11-02', 'other', NULL, NULL, NULL);")
    else:
        conn.executescript(schema._V2 + """
            INSERT INTO entries (kind, started, finished, script, params, total_ms, completed_ms, comfort, note)
                VALUES ('session', '2026-11-01T19:00:00+01:00', '2026-11-01T19:10:00+01:00', 'calm.yaml',
                        '{"size": 2}', 600000, 600000, 5, 'played');
            INSERT INTO entries (kind, started, finished, size, comfort)
                VALUES ('trainer', '2026-11-02T19:00:00+01:00', '2026-11-02T19:00:00+01:00', 3, 2);
            INSERT INTO entries (kind, started, script, params, total_ms)
                VALUES ('session', '2026-11-03T19:00:00+01:00', 'calm.yaml', '{}', 600000);""")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()
    os.chmod(path, 0o600)


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_log_migrates_in_place_keeping_every_entry(db, version):
    _old_log(db, version)
    with read_log(db) as log:            # reading migrates a copy in memory, not the file
        before = [(e.id, e.kind, e.started, e.finished, e.script, dict(e.params), e.size, e.comfort, e.note)
                  for e in log.entries()]
    assert len(before) in (2, 3)
    assert run("log", "check", db=db).exit_code == 0        # an old log not yet migrated is still sound
    with open_log(db) as log:
        after = log.entries()
        assert [(e.id, e.kind, e.started, e.finished, e.script, dict(e.params), e.size, e.comfort, e.note)
                for e in after] == before
        # Only a person can have added trainer or other practice; an old session's source stays unknown.
        assert [e.source for e in after] == [None if e.kind == "session" else "hand" for e in after]
        new, _ = log.add_played("calm.yaml", {}, total_ms=1000, completed_ms=1000, finished=datetime.now().astimezone(),
                                comfort=3, source="phone", request="d" * 16)
    checked = run("log", "check", db=db)
    assert checked.exit_code == 0 and f"{len(before) + 1} entries" in checked.output
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600 and new == len(before) + 1


def test_new_entries_know_where_they_came_from(db):
    with open_log(db) as log:
        played = log.start("calm.yaml", {}, 1000)
        by_hand = log.add("other")
        assert (log.get(played).source, log.get(by_hand).source) == ("player", "hand")


def test_a_stage_with_settings_wins_over_one_without(tmp_path):
    from voicecoach.practice.log import LogEntry
    from voicecoach.practice.progress import stage_of
    (tmp_path / "calm.yaml").write_text("voicecoach: 1\ntitle: Calm\nparams: {size: 1}\nsteps:\n  - say: Hi.\n",
                                        encoding="utf-8")
    (tmp_path / "p.yaml").write_text("voicecoach: 1\ntitle: P\nstages:\n"
                                     "  - {stage: A, script: calm.yaml, move_on_when: x, frequency: daily}\n"
                                     "  - {stage: B, script: calm.yaml, set: {size: 2}, move_on_when: x, "
                                     "frequency: daily}\n", encoding="utf-8")
    stages = load_program(tmp_path / "p.yaml").stages
    when = datetime(2026, 11, 2, tzinfo=timezone.utc)
    two = LogEntry(1, "session", when, when, "calm.yaml", {"size": 2})
    one = LogEntry(2, "session", when, when, "calm.yaml", {"size": 1})
    assert (stage_of(two, stages), stage_of(one, stages)) == (1, 0)
