"""Issue 24, the practice log: forget deletes only a practice log; a log on read-only media still lists, checks and
exports, and a write says read-only; no answer to a question is a refusal naming --yes; `log check` names what
someone else added to the file (a trigger, a view, a table)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.practice import log as practice
from voicecoach.practice.log import Log, open_log, read_log

T0 = datetime(2026, 11, 2, 19, 30, tzinfo=timezone(timedelta(hours=1)))
NOBODY = 65534


def run(*args, db, **kwargs):
    return CliRunner().invoke(cli, [*map(str, args), "--db", str(db)], obj={}, **kwargs)


def one_line_error(result) -> str:
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and result.output.rstrip().endswith(errors[0]), result.output
    return errors[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def a_log(path: Path, entries: int = 3) -> Path:
    with open_log(path) as log:
        for day in range(entries):
            log.add("trainer", size=1 + day % 2, comfort=4, note=f"day {day}", when=T0 + timedelta(days=day))
    return path


# ---------------------------------------------------------------- 4. forget deletes only a practice log

def foreign(path: Path, sql: str) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.close()
    return path


FOREIGN = {
    # Another program's notes, whose table happens to be called entries (no format number).
    "entries table": "CREATE TABLE entries (id INTEGER PRIMARY KEY, title TEXT, body TEXT);"
                     "INSERT INTO entries (title) VALUES ('my thesis');",
    # ... or called practice, like the log's first format.
    "practice table": "CREATE TABLE practice (id INTEGER PRIMARY KEY, piece TEXT); INSERT INTO practice VALUES (1, 'x');",
    # A program that numbers its own formats, as SQLite lets every program do.
    "format 2, other columns": "CREATE TABLE entries (id INTEGER PRIMARY KEY, title TEXT); PRAGMA user_version = 2;",
    "format 1, other columns": "CREATE TABLE practice (id INTEGER PRIMARY KEY); PRAGMA user_version = 1;",
    "a view called entries": "CREATE TABLE t (x); CREATE VIEW entries AS SELECT x AS id FROM t; PRAGMA user_version = 2;",
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_forget_refuses_another_programs_file_as_opening_it_does(tmp_path, kind):
    path = foreign(tmp_path / "notes.sqlite3", FOREIGN[kind])
    before = snapshot(tmp_path)
    with pytest.raises(VoicecoachError, match="not a voicecoach practice log"):
        open_log(path)
    with pytest.raises(VoicecoachError, match="not a voicecoach practice log; it was not deleted"):
        practice.forget(path)
    for args, answer in ((["log", "forget", "--yes"], None), (["log", "forget"], "y\n")):
        error = one_line_error(run(*args, db=path, input=answer))
        assert error == f"Error: {path}: this is not a voicecoach practice log; it was not deleted " \
                        "(if it is yours, delete it by hand)"
    assert snapshot(tmp_path) == before


def test_forget_refuses_a_newer_log_and_still_forgets_an_old_one(tmp_path):
    newer = foreign(tmp_path / "newer.sqlite3", "CREATE TABLE entries (id INTEGER PRIMARY KEY); PRAGMA user_version = 9;")
    assert "newer voicecoach (format 9)" in one_line_error(run("log", "forget", "--yes", db=newer))
    assert newer.exists()
    old = foreign(tmp_path / "v1.sqlite3", """
        CREATE TABLE practice (id INTEGER PRIMARY KEY, day TEXT NOT NULL, what TEXT NOT NULL,
                               size INTEGER, comfort INTEGER, note TEXT);
        INSERT INTO practice VALUES (1, '2026-10-05', 'trainer', 1, 4, 'first');
        PRAGMA user_version = 1;""")
    forgotten = run("log", "forget", db=old, input="y\n")
    assert "deletes all 1 entries" in forgotten.output and "Deleted the practice log (1 entries)" in forgotten.output
    assert not old.exists()


# ---------------------------------------------------------------- 10. read-only media

def test_a_write_through_a_read_only_connection_says_read_only(tmp_path):
    # SQLite's own read-only mode refuses writes whoever runs the test, root included.
    path = a_log(tmp_path / "log.sqlite3")
    before = path.read_bytes()
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    log = Log(path, conn)
    for write in (lambda: log.add("trainer", size=1), lambda: log.rate(1, comfort=2), lambda: log.delete(1),
                  lambda: log.start("trainer.yaml", {}, 1000)):
        with pytest.raises(VoicecoachError) as refused:
            write()
        assert "read-only media" in str(refused.value) and "earlier entries are unchanged" in str(refused.value)
    assert log.count() == 3
    log.close()
    assert path.read_bytes() == before


def test_a_log_opened_to_read_refuses_every_write(tmp_path):
    path = a_log(tmp_path / "log.sqlite3")
    with read_log(path) as log:
        with pytest.raises(VoicecoachError, match="opened for reading only"):
            log.add("trainer", size=1)
        with pytest.raises(VoicecoachError, match="opened for reading only"):
            log.rate(comfort=3)
        assert log.count() == 3


def test_looking_at_a_log_that_is_not_there_creates_nothing(tmp_path):
    path = tmp_path / "new" / "log.sqlite3"
    assert "The log is empty" in run("log", "list", db=path).output
    assert run("log", "export", db=path).output.startswith("id,kind,started")
    checked = run("log", "check", db=path)
    assert checked.exit_code == 0 and "There is no practice log at" in checked.output
    assert not path.parent.exists()
    with read_log(path) as log:
        assert log.entries() == [] and log.count() == 0
    assert not path.parent.exists()


@pytest.fixture
def read_only_place():
    """A folder whose files the test makes read-only for the user that reads them.

    chmod does not stop root: as root, the test's user becomes `nobody` (seteuid) while it runs the commands, so that
    the system refuses writes for real. The folder is made beside the other temporary files, where nobody can reach it.
    """
    if os.geteuid() == 0:
        try:
            os.seteuid(NOBODY)
        except OSError:
            # No silent skip: without another user the read-only cases would test nothing.
            pytest.fail("root cannot become another user here, and chmod does not stop root: run as a normal user")
        os.seteuid(0)
    place = Path(tempfile.mkdtemp(prefix="voicecoach-ro-"))
    os.chmod(place, 0o755)
    folder = place / "media"
    folder.mkdir()
    yield folder
    for p in [folder, *folder.iterdir()]:
        os.chmod(p, 0o700)
    shutil.rmtree(place)


@contextmanager
def read_only(folder: Path, file_mode: int = 0o400):
    """Within: `folder` (0500) and its files (`file_mode`) belong to the reader, who may read but not write them."""
    root = os.geteuid() == 0
    for p in [folder, *folder.iterdir()]:
        if root:
            os.chown(p, NOBODY, NOBODY)
        os.chmod(p, 0o500 if p == folder else file_mode)
    if root:
        os.setegid(NOBODY)
        os.seteuid(NOBODY)
    try:
        yield
    finally:
        if root:
            os.seteuid(0)
            os.setegid(0)


def test_a_log_on_read_only_media_lists_checks_and_exports(read_only_place, tmp_path):
    path = a_log(read_only_place / "practice.sqlite3")
    assert sorted(p.name for p in read_only_place.iterdir()) == ["practice.sqlite3"]     # closed: no side files
    before = snapshot(read_only_place)
    run("progress", db=tmp_path / "warm.sqlite3")      # its modules imported while the reader may still read them
    with read_only(read_only_place):
        listed = run("log", "list", db=path)
        checked = run("log", "check", db=path)
        exported = run("log", "export", db=path)
        progress = run("progress", db=path)
        assert practice.forgettable(path) == 3
    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.output.splitlines()] == ["1", "2", "3"] and "day 2" in listed.output
    assert checked.exit_code == 0 and checked.output.endswith("sound, 3 entries.\n"), checked.output
    assert exported.exit_code == 0 and len(exported.output.splitlines()) == 4, exported.output
    assert progress.exit_code == 0 and "Traceback" not in progress.output, progress.output
    assert snapshot(read_only_place) == before


def test_a_write_to_a_log_on_read_only_media_says_read_only(read_only_place):
    path = a_log(read_only_place / "practice.sqlite3")
    before = snapshot(read_only_place)
    with read_only(read_only_place):
        refused = {" ".join(args): run(*args, db=path) for args in (
            ["log", "trainer", "--size", "1"], ["log", "rate", "4"], ["log", "delete", "1", "--yes"],
            ["log", "forget", "--yes"], ["log", "other", "--note", "shower"])}
        new = run("log", "trainer", "--size", "1", db=read_only_place / "another.sqlite3")
    for args, result in refused.items():
        error = one_line_error(result)
        assert "read-only media (or is a read-only file, or in a read-only folder)" in error, (args, error)
    assert "its folder is on read-only media" in one_line_error(new)
    assert "`voicecoach log list`, `log check` and `log export` can still read it" in \
        one_line_error(refused["log trainer --size 1"])
    assert snapshot(read_only_place) == before


def test_a_writable_log_in_a_read_only_folder_still_reads(read_only_place):
    # The file itself may be written, but SQLite cannot put its shared-memory file beside it.
    path = a_log(read_only_place / "practice.sqlite3")
    with read_only(read_only_place, file_mode=0o600):
        listed = run("log", "list", db=path)
        exported = run("log", "export", db=path)
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == 3, listed.output
    assert exported.exit_code == 0 and len(exported.output.splitlines()) == 4


def test_an_old_format_log_on_read_only_media_reads_without_being_migrated(read_only_place):
    path = foreign(read_only_place / "practice.sqlite3", """
        CREATE TABLE practice (id INTEGER PRIMARY KEY, day TEXT NOT NULL, what TEXT NOT NULL,
                               size INTEGER, comfort INTEGER, note TEXT);
        INSERT INTO practice VALUES (1, '2026-10-05', 'trainer', 1, 4, 'first time');
        INSERT INTO practice VALUES (2, '2026-10-07', 'other', NULL, NULL, 'shower');
        PRAGMA user_version = 1;""")
    before = snapshot(read_only_place)
    with read_only(read_only_place):
        listed = run("log", "list", db=path)
    assert listed.exit_code == 0, listed.output
    assert "first time" in listed.output and "shower" in listed.output
    assert snapshot(read_only_place) == before
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1     # still the old format: not migrated
    conn.close()


KILLED = """
import sys, time
from voicecoach.practice.log import open_log
log = open_log(sys.argv[1])
log.add("trainer", size=2, note="only in the write-ahead log")
print("written", flush=True)
time.sleep(60)
"""


def test_a_read_only_log_whose_latest_entries_wait_in_its_wal_is_named_not_misread(read_only_place):
    path = a_log(read_only_place / "practice.sqlite3")
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(path)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout.readline() == "written\n"
    finally:
        child.kill()
        child.wait()
    (read_only_place / "practice.sqlite3-shm").unlink()     # copied without it: only a writer could rebuild it
    with read_only(read_only_place):
        error = one_line_error(run("log", "list", db=path))
    assert "practice.sqlite3-wal" in error and "read-only" in error and "copy the folder somewhere writable" in error


# ---------------------------------------------------------------- 11. no one to answer

@pytest.mark.parametrize("args", [["log", "delete", "1"], ["log", "forget"]])
def test_no_answer_is_a_refusal_naming_yes(tmp_path, args):
    path = a_log(tmp_path / "log.sqlite3")
    before = snapshot(tmp_path)
    error = one_line_error(run(*args, db=path))      # the input is at its end at once
    assert "nothing was deleted" in error and f"`voicecoach {' '.join(args)} --yes`" in error
    assert snapshot(tmp_path) == before
    kept = run(*args, db=path, input="n\n")
    assert kept.exit_code == 0 and "Nothing was deleted." in kept.output and snapshot(tmp_path) == before
    gone = run(*args, db=path, input="y\n")
    assert gone.exit_code == 0 and "Deleted" in gone.output
    assert not path.exists() if args[1] == "forget" else practice.forgettable(path) == 2


@pytest.mark.parametrize("args", [["log", "delete", "2"], ["log", "forget"]])
def test_stdin_closed_is_a_refusal_naming_yes(tmp_path, args):
    path = a_log(tmp_path / "log.sqlite3")
    before = snapshot(tmp_path)
    # A real process whose standard input is closed, as from cron or `cmd <&-`: Python then has no sys.stdin.
    done = subprocess.run([sys.executable, "-m", "voicecoach.cli", *args, "--db", str(path)],
                          capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=lambda: os.close(0))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "--yes" in lines[0], done.stderr
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------- 16. what someone else added

ADDED = {
    "trigger": ("CREATE TRIGGER wipe AFTER INSERT ON entries BEGIN DELETE FROM entries; END",
                "trigger 'wipe' on 'entries' is not part of the practice log (something else added it, and it runs "
                "whenever entries are written)"),
    "view": ("CREATE VIEW everything AS SELECT * FROM entries", "view 'everything' is not part of the practice log"),
    "table": ("CREATE TABLE spy (x)", "table 'spy' is not part of the practice log"),
    "index": ("CREATE INDEX by_note ON entries (note)", "index 'by_note' on 'entries' is not part of the practice log"),
    "column": ("ALTER TABLE entries ADD COLUMN extra TEXT",
               "table 'entries' has column the practice log does not define: 'extra'"),
    "odd name": ('CREATE TRIGGER "x\ny" BEFORE DELETE ON entries BEGIN SELECT 1; END', "trigger 'x\\ny' on 'entries'"),
}


@pytest.mark.parametrize("kind", ADDED)
def test_check_names_what_the_log_does_not_define(tmp_path, kind):
    path = a_log(tmp_path / "log.sqlite3")
    foreign(path, "ANALYZE")        # SQLite's own statistics table may be in any file: not named
    with read_log(path) as log:
        assert log.check() == []
    sql, said = ADDED[kind]
    foreign(path, sql)
    with read_log(path) as log:
        assert [p for p in log.check() if said in p], log.check()
    error = one_line_error(run("log", "check", db=path))
    assert said in error
    with read_log(path) as log:
        assert log.count() == 3         # checking ran nothing it found


# ---------------------------------------------------------------- the modules

def test_no_module_of_the_practice_log_holds_more_than_500_lines():
    folder = ROOT / "voicecoach" / "practice"
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
    assert max(sizes.values()) <= 500, sizes


def test_a_folder_or_a_pipe_given_as_the_log_is_refused(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    for opening in (open_log, read_log, practice.forget):
        with pytest.raises(VoicecoachError, match="is not a file"):
            opening(pipe)
    assert "is not a file" in one_line_error(run("log", "list", db=pipe))
