"""The practice log: private on creation, never loses an entry (even to SIGKILL), migrates old files, and
every command works with the network unreachable."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from conftest import ROOT

from voicecoach import paths
from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.practice import log as practice
from voicecoach.practice import recording
from voicecoach.practice.log import open_log

T0 = datetime(2026, 11, 2, 19, 30, tzinfo=timezone(timedelta(hours=1)))


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "data" / "practice.sqlite3"


def run(*args, db=None, **kwargs):
    result = CliRunner().invoke(cli, [*args, *(["--db", str(db)] if db else [])], obj={}, **kwargs)
    return result


# ---------------------------------------------------------------- privacy

def test_created_private_whatever_the_umask(tmp_path):
    path = tmp_path / "a" / "b" / "voicecoach" / "practice.sqlite3"
    old = os.umask(0)   # the most permissive umask: the modes must come from us, not from it
    try:
        log = open_log(path)
        log.add("trainer", size=1, comfort=4, when=T0)
        assert mode(path.parent) == 0o700
        assert mode(path) == 0o600
        # SQLite gives its side files the database's own mode.
        assert (path.parent / (path.name + "-wal")).exists()
        assert mode(path.parent / (path.name + "-wal")) == 0o600
        assert mode(path.parent / (path.name + "-shm")) == 0o600
        log.close()
    finally:
        os.umask(old)
    assert open_log(path).conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_existing_folder_is_left_as_it_is(tmp_path):
    os.chmod(tmp_path, 0o755)
    with open_log(tmp_path / "log.db"):
        pass
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "log.db") == 0o600


def test_where_the_log_lives(tmp_path, monkeypatch):
    monkeypatch.delenv("VOICECOACH_DB", raising=False)
    monkeypatch.setattr(paths.platformdirs, "user_data_dir", lambda app: str(tmp_path / "user-data" / app))
    assert practice.db_path() == tmp_path / "user-data" / "voicecoach" / "practice.sqlite3"
    monkeypatch.setenv("VOICECOACH_DB", str(tmp_path / "env.db"))
    assert practice.db_path() == tmp_path / "env.db"
    assert practice.db_path(tmp_path / "flag.db") == tmp_path / "flag.db"
    result = run("log", "trainer", "--size", "1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env.db").exists() and not (tmp_path / "user-data").exists()


def test_check_notices_a_file_others_can_read(db):
    with open_log(db) as log:
        os.chmod(db, 0o644)
        assert any("chmod 600" in p for p in log.check())


# ---------------------------------------------------------------- sessions

def test_a_session_is_partial_until_it_reaches_its_end(db):
    with open_log(db) as log:
        whole = log.start("scripts/trainer.yaml", {"size": 2}, 480_000, when=T0)
        stopped = log.start("trainer.yaml", {"size": 2}, 480_000, when=T0 + timedelta(hours=1))
        never = log.start("shower.yaml", None, 300_000, when=T0 + timedelta(hours=2))
        assert log.get(whole).status == "partial"
        log.finish(whole, 480_000, when=T0 + timedelta(minutes=8))
        log.finish(stopped, 120_000)
        entries = {e.id: e for e in log.entries()}
    assert entries[whole].status == "complete" and entries[whole].script == "trainer.yaml"
    assert entries[whole].params == {"size": 2}
    assert entries[stopped].status == "partial" and entries[stopped].completed_ms == 120_000
    assert entries[never].status == "partial" and entries[never].finished is None


def test_module_level_start_and_finish_for_the_player(db):
    entry = recording.start(db, "trainer.yaml", {"size": 1}, 1000)
    recording.finish(db, entry, 5000, 1000)      # more than the whole is clamped
    with open_log(db) as log:
        e = log.get(entry)
    assert (e.completed_ms, e.total_ms, e.status) == (1000, 1000, "complete")
    with pytest.raises(VoicecoachError, match="no played session 99"):
        recording.finish(db, 99, 0)


KILLED = textwrap.dedent("""
    import sys, time
    from voicecoach.practice import log as practice
    log = practice.open_log(sys.argv[1])
    entry = log.start("trainer.yaml", {"size": 2}, 480000)
    # A write still under way when the process dies must vanish without harming anything.
    log.conn.execute("BEGIN")
    log.conn.execute("INSERT INTO entries (kind, started, note) VALUES ('other', '2026-01-01', 'never committed')")
    print(entry, flush=True)
    time.sleep(60)
""")


def test_sigkill_mid_session_leaves_it_partial_and_the_rest_intact(db):
    with open_log(db) as log:
        for day in range(5):
            log.add("trainer", size=1 + day % 2, comfort=3 + day % 3, note=f"day {day}, «note»",
                    when=T0 + timedelta(days=day))
        played = log.start("pelvic-floor-release.yaml", {"hold": 8}, 600_000, when=T0 + timedelta(days=5))
        log.finish(played, 600_000)
        before = log.entries()
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(db)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        entry = int(child.stdout.readline())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert (db.parent / (db.name + "-wal")).exists()     # recovery from the write-ahead log is what follows
    with open_log(db) as log:
        assert log.check() == []
        after = log.entries()
    assert after[:len(before)] == before
    assert [e.id for e in after[len(before):]] == [entry]
    killed = after[-1]
    assert killed.status == "partial" and killed.finished is None and killed.params == {"size": 2}
    assert all(e.note != "never committed" for e in after)


# ---------------------------------------------------------------- migration and damage

V1 = """
CREATE TABLE practice (id INTEGER PRIMARY KEY, day TEXT NOT NULL, what TEXT NOT NULL,
                       size INTEGER, comfort INTEGER, note TEXT);
INSERT INTO practice VALUES (1, '2026-10-05', 'trainer', 1, 4, 'first time, went fine');
INSERT INTO practice VALUES (2, '2026-10-07', 'other', NULL, NULL, 'shower routine');
INSERT INTO practice VALUES (5, '2026-10-09', 'trainer', 2, 2, 'hard today; «tense», "quotes"');
PRAGMA user_version = 1;
"""


def test_a_version_1_log_is_migrated_without_loss(db):
    db.parent.mkdir(mode=0o700)
    conn = sqlite3.connect(db)
    conn.executescript(V1)
    conn.close()
    os.chmod(db, 0o644)
    with open_log(db) as log:
        assert log.conn.execute("PRAGMA user_version").fetchone()[0] == practice.SCHEMA_VERSION
        got = [(e.id, e.kind, e.day.isoformat(), e.size, e.comfort, e.note, e.status) for e in log.entries()]
        assert log.check() == []
        new = log.add("trainer", size=2, comfort=4)
    assert got == [
        (1, "trainer", "2026-10-05", 1, 4, "first time, went fine", "complete"),
        (2, "other", "2026-10-07", None, None, "shower routine", "complete"),
        (5, "trainer", "2026-10-09", 2, 2, 'hard today; «tense», "quotes"', "complete"),
    ]
    assert new == 6                          # ids carry on after the old ones
    assert mode(db) == 0o600                 # made private on the way
    with open_log(db) as log:                # a second open has nothing to do
        assert len(log.entries()) == 4
        assert "practice" not in practice.tables(log.conn)


def test_a_newer_or_foreign_file_is_refused_and_left_untouched(tmp_path):
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.executescript("CREATE TABLE entries (id INTEGER PRIMARY KEY); PRAGMA user_version = 9;")
    conn.close()
    foreign = tmp_path / "thesis.db"
    conn = sqlite3.connect(foreign)
    conn.executescript("CREATE TABLE chapters (id INTEGER PRIMARY KEY, text TEXT);")
    conn.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all\n" * 100)
    for path, message in ((newer, "newer voicecoach"), (foreign, "not a voicecoach practice log"),
                          (garbage, "cannot be read as a practice log")):
        content = path.read_bytes()
        with pytest.raises(VoicecoachError, match=message):
            open_log(path)
        assert path.read_bytes() == content
    result = run("log", "list", db=garbage)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith(f"Error: {garbage}: cannot be read")
    with pytest.raises(VoicecoachError, match="not a voicecoach practice log"):
        practice.forget(foreign)
    assert foreign.exists()


def test_check_reports_damaged_entries(db):
    with open_log(db) as log:
        log.add("trainer", size=1, comfort=4)
        log.conn.execute("INSERT INTO entries (kind, started, comfort) VALUES ('dance', '2026-11-01T10:00:00', 9)")
        problems = log.check()
    assert len(problems) == 1 and problems[0].startswith("entry 2: unknown kind 'dance'")


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("text, value", [("4", 4), ("hard", 2), ("Very hard", 1), ("ok", 3),
                                         ("very-comfortable", 5), (None, None)])
def test_comfort_in_numbers_or_words(text, value):
    assert practice.parse_comfort(text) == value


@pytest.mark.parametrize("bad", ["0", "6", "meh", "3.5"])
def test_comfort_out_of_range(bad):
    with pytest.raises(VoicecoachError, match="1 to 5"):
        practice.parse_comfort(bad)


def test_when():
    now = datetime(2026, 11, 25, 9, 0).astimezone()
    assert practice.parse_when("yesterday", now).date().isoformat() == "2026-11-24"
    assert practice.parse_when("2026-11-20", now).hour == 12
    assert practice.parse_when("2026-11-20 19:30", now).strftime("%H:%M") == "19:30"
    with pytest.raises(VoicecoachError, match="in the future"):
        practice.parse_when("2026-12-01", now)
    with pytest.raises(VoicecoachError, match="write a day like"):
        practice.parse_when("the other week", now)


def test_bad_values_leave_the_log_unchanged(db):
    with open_log(db) as log:
        log.add("trainer", size=1)
        for kwargs in ({"size": 0}, {"size": 11}, {"comfort": 6}, {"note": "x" * 2001}):
            with pytest.raises(VoicecoachError):
                log.add("trainer", **kwargs)
        with pytest.raises(VoicecoachError, match="unknown kind"):
            log.add("dance")
        assert log.count() == 1


# ---------------------------------------------------------------- export and forget

def test_export_csv_round_trips_awkward_notes(db):
    note = 'easier the second time, "really"\nand a new line'
    with open_log(db) as log:
        log.add("trainer", size=2, comfort=3, note=note, when=T0)
        entry = log.start("trainer.yaml", {"size": 2}, 480_000, when=T0 + timedelta(days=1))
        out = io.StringIO()
        assert log.export_csv(out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["note"] == note and rows[0]["trainer_size"] == "2" and rows[0]["comfort"] == "3"
    assert rows[0]["started"] == "2026-11-02T19:30:00+01:00"
    assert rows[1]["id"] == str(entry) and rows[1]["status"] == "partial" and rows[1]["finished"] == ""
    assert rows[1]["params"] == '{"size": 2}'


def test_forget_removes_the_file_and_its_side_files(db):
    log = open_log(db)
    log.add("trainer", size=1)
    log.add("other", note="private")
    side = [db.parent / (db.name + s) for s in ("-wal", "-shm")]
    assert all(p.exists() for p in side)
    assert practice.forget(db) == 2
    log.close()
    assert not db.exists() and not any(p.exists() for p in side)
    assert practice.forget(db) == 0


# ---------------------------------------------------------------- the commands

def test_log_commands(db):
    assert run("log", "trainer", "--size", "2", "--comfort", "3", "--note", "easier the second time",
               db=db).output.startswith("Noted: trainer size 2, okay, ")
    assert run("log", "session", "trainer", "--set", "size=1", "--minutes", "8", "--when", "yesterday",
               db=db).exit_code == 0
    assert run("log", "other", "--note", "shower", "--comfort", "comfortable", db=db).exit_code == 0
    rated = run("log", "rate", "--comfort", "5", db=db)
    assert rated.exit_code == 0 and "very comfortable" in rated.output and "Entry 3" in rated.output and "LogEntry" not in rated.output
    listed = run("log", "list", db=db)
    words = " ".join(listed.output.split())     # a long entry wraps under itself
    assert listed.exit_code == 0 and "easier the second time" in words and "trainer.yaml" in words
    assert run("log", "check", db=db).output.endswith("sound, 3 entries.\n")
    with open_log(db) as log:
        entries = log.entries()
    assert [(e.kind, e.size, e.comfort) for e in entries] == [
        ("session", None, None), ("trainer", 2, 3), ("other", None, 5)]
    assert entries[0].params == {"size": 1} and entries[0].total_ms == 480_000


def test_log_command_mistakes_are_one_line(db):
    for args, message in ((["log", "trainer", "--size", "2", "--comfort", "7"], "1 to 5"),
                          (["log", "session", "no-such-script"], "there is no script 'no-such-script'"),
                          (["log", "rate", "--comfort", "4"], "the practice log is empty"),
                          (["log", "rate"], "give --comfort, --note or both"),
                          (["log", "other", "--when", "someday"], "write a day like")):
        result = run(*args, db=db)
        assert result.exit_code == 1, args
        assert message in result.output and "Traceback" not in result.output


def test_export_to_a_private_file(db, tmp_path):
    run("log", "trainer", "--size", "1", "--note", "à bientôt", db=db)
    out = tmp_path / "mine.csv"
    result = run("log", "export", "--csv", "-o", str(out), db=db)
    assert result.exit_code == 0 and "Wrote 1 entries" in result.output
    assert mode(out) == 0o600
    assert "à bientôt" in out.read_text(encoding="utf-8")
    shown = run("log", "export", "--csv", db=db)
    assert shown.output.splitlines()[0].startswith("id,kind,started")


def test_forget_asks_first(db):
    run("log", "trainer", "--size", "1", db=db)
    kept = run("log", "forget", db=db, input="n\n")
    assert "deletes all 1 entries" in kept.output and "Nothing was deleted" in kept.output and db.exists()
    gone = run("log", "forget", db=db, input="y\n")
    assert gone.exit_code == 0 and "Deleted the practice log (1 entries)" in gone.output and not db.exists()
    run("log", "trainer", "--size", "1", db=db)
    assert run("log", "forget", "--yes", db=db).exit_code == 0 and not db.exists()
    assert "nothing to delete" in run("log", "forget", "--yes", db=db).output


def test_every_command_works_with_the_network_unreachable(db, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("voicecoach tried to open a network socket")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "socketpair", refuse)
    commands = [
        ["log", "trainer", "--size", "1", "--comfort", "4"],
        ["log", "session", "trainer", "--set", "size=2"],
        ["log", "other", "--note", "shower"],
        ["log", "rate", "--comfort", "3"],
        ["log", "list"],
        ["log", "check"],
        ["log", "export", "--csv", "-o", str(tmp_path / "out.csv")],
        ["log", "export", "--csv"],
        ["progress", "--plot", str(tmp_path / "chart.png")],
        ["log", "forget", "--yes"],
    ]
    for args in commands:
        result = run(*args, db=db)
        assert result.exit_code == 0, (args, result.output, result.exception)
    remind = run("remind", "--days", "mon,wed,fri", "--at", "20:00", "-o", str(tmp_path / "practice.ics"))
    assert remind.exit_code == 0, remind.output
    with pytest.raises(AssertionError):     # the trap itself works
        socket.create_connection(("localhost", 80))


def test_a_failed_migration_leaves_the_old_log_as_it_was(db, monkeypatch):
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.executescript(V1)
    conn.close()
    monkeypatch.setitem(practice.MIGRATIONS, 1, practice.MIGRATIONS[1] + "; INSERT INTO nowhere VALUES (1)")
    with pytest.raises(VoicecoachError, match="nothing was changed"):
        open_log(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT id, note FROM practice ORDER BY id").fetchall()[0] == (1, "first time, went fine")
    assert conn.execute("SELECT count(*) FROM practice").fetchone()[0] == 3
    conn.close()


def test_recording_a_played_session(db):
    with recording.recording(db, "trainer.yaml", {"size": 2}, 480_000) as record:
        record.completed_ms = 480_000
    with pytest.raises(KeyboardInterrupt):
        with recording.recording(db, "trainer.yaml", {"size": 2}, 480_000) as stopped:
            stopped.completed_ms = 61_000
            raise KeyboardInterrupt
    with open_log(db) as log:
        done, interrupted = log.entries()
    assert (done.id, done.status, done.completed_ms) == (record.id, "complete", 480_000)
    assert (interrupted.status, interrupted.completed_ms, interrupted.finished is not None) == ("partial", 61_000, True)


def test_an_unusable_log_never_stops_a_session(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database\n" * 200)
    warnings, played = [], []
    with recording.recording(broken, "trainer.yaml", {}, 1000, warn=warnings.append) as record:
        played.append(True)
    assert played and record.id is None
    assert len(warnings) == 1 and warnings[0].startswith("This session is not being logged: ")
