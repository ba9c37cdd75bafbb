"""The practice log: a private SQLite file of sessions and manual entries, migrated forward when opened to write,
and read without writing anything (so a log on read-only media still lists, checks and exports)."""

from __future__ import annotations

import csv
import errno
import json
import os
import sqlite3
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Mapping, TextIO

from voicecoach import paths
from voicecoach.errors import VoicecoachError, shown
from voicecoach.files import disk_full, no_space, privacy_problems, private_dir
from voicecoach.practice.entry import COMFORT, KINDS, SOURCES, LogEntry, what_was_done
from voicecoach.practice.schema import COLUMNS, MIGRATIONS, SCHEMA_VERSION, check_format, migrate, strangers, tables
from voicecoach.practice.values import (
    MAX_MINUTES,
    MAX_MS,
    MAX_NAME,
    MAX_NOTE,
    MAX_SIZE,
    checked_comfort,
    checked_ms,
    checked_note,
    checked_request,
    checked_size,
    csv_cell,
    csv_minutes,
    entry_id,
    entry_of_row,
    joined_notes,
    minutes_ms,
    now,
    params_text,
    parse_comfort,
    parse_when,
    script_name,
    split_rating,
    stamp,
)

# The rest of voicecoach takes these from here, wherever they are defined.
__all__ = ["COMFORT", "FILE_NAME", "SOURCES", "KINDS", "MAX_MINUTES", "MAX_MS", "MAX_NAME", "MAX_NOTE", "MAX_SIZE", "MIGRATIONS",
           "SCHEMA_VERSION", "SIDE_FILES", "Log", "LogEntry", "db_path", "forget", "forgettable", "now", "open_log",
           "parse_comfort", "parse_when", "privacy_problems_of", "read_log", "split_rating", "tables", "what_was_done"]

FILE_NAME = "practice.sqlite3"
# SQLite keeps a database's recent writes beside it; forgetting the log means removing these too.
SIDE_FILES = ("-wal", "-shm", "-journal")
READ_ONLY = "the log is on read-only media (or is a read-only file, or in a read-only folder)"
READERS = "`voicecoach log list`, `log check` and `log export` can still read it"
# What the system says when a file or folder may be read but not changed.
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)

_COLUMNS = ", ".join(COLUMNS)


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """--db, else $VOICECOACH_DB, else practice.sqlite3 in the user data folder."""
    if explicit:
        return Path(explicit)
    if os.environ.get("VOICECOACH_DB"):
        return Path(os.environ["VOICECOACH_DB"])
    return paths.data_dir() / FILE_NAME


class Log:
    """An open practice log; use as a context manager, or call close()."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, read_only: bool = False):
        self.path = path
        self.conn = conn
        self.read_only = read_only      # opened by read_log: nothing may be written through it
        self.skipped: list[str] = []    # the rows the last entries() could not read, each named with why

    def __enter__(self) -> "Log":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (SQLite folds the write-ahead log back into it)."""
        self.conn.close()

    def _write(self, sql: str, args: Iterable) -> sqlite3.Cursor:
        if self.read_only:
            raise VoicecoachError(f"{self.path}: the log was opened for reading only; nothing was written")
        try:
            with self.conn:   # its own transaction, committed before this returns
                return self.conn.execute(sql, tuple(args))
        except sqlite3.Error as e:
            raise self._not_written(e) from None

    def _not_written(self, e: sqlite3.Error) -> VoicecoachError:
        if _full(e, self.path):
            return VoicecoachError(f"{self.path}: could not be written: {no_space(self.path)}; "
                                   "earlier entries are unchanged")
        if _read_only(e, self.path):
            return VoicecoachError(f"{self.path}: could not be written: {READ_ONLY}; earlier entries are "
                                   f"unchanged, and {READERS}")
        return VoicecoachError(f"{self.path}: could not be written ({e}); earlier entries are unchanged")

    def _insert(self, sql: str, args: Iterable) -> int:
        """_write for an INSERT: the new entry's id."""
        new_id = self._write(sql, args).lastrowid
        if new_id is None:      # sqlite3 sets it after every INSERT; None would mean the row is not there
            raise VoicecoachError(f"{self.path}: the new entry was not recorded")
        return new_id

    def start(self, script: str | os.PathLike, params: Mapping[str, object] | None = None,
              total_ms: int | None = None, *, when: datetime | None = None) -> int:
        """Record a played session as begun (partial until finish()); returns its id."""
        return self._insert(
            "INSERT INTO entries (kind, started, script, params, total_ms, source) VALUES ('session', ?, ?, ?, ?, 'player')",
            (stamp(when or now()), script_name(script), params_text(params), checked_ms(total_ms, "total_ms")),
        )

    def finish(self, entry: int, completed_ms: int, total_ms: int | None = None, *,
               when: datetime | None = None) -> None:
        """Mark a session as ended, with how much of it was played."""
        total = checked_ms(total_ms, "total_ms")
        done = checked_ms(completed_ms, "completed_ms")
        cursor = self._write(
            "UPDATE entries SET finished = ?, completed_ms = ?, total_ms = COALESCE(?, total_ms) "
            "WHERE id = ? AND kind = 'session'",
            (stamp(when or now()), done if total is None else min(done, total), total, entry_id(entry)),
        )
        if cursor.rowcount != 1:
            raise VoicecoachError(f"{self.path}: there is no played session {entry} in the log")

    def add(self, kind: str, *, size: int | None = None, comfort: int | None = None, note: str | None = None,
            script: str | None = None, params: Mapping[str, object] | None = None,
            minutes: float | None = None, when: datetime | None = None) -> int:
        """Record practice done without the player (a trainer, a script from memory, anything else)."""
        if kind not in KINDS:
            raise VoicecoachError(f"unknown kind {shown(kind)} (one of: {', '.join(KINDS)})")
        start = when or now()
        length = minutes_ms(minutes)
        return self._insert(
            "INSERT INTO entries (kind, started, finished, script, params, size, comfort, completed_ms, total_ms, note, "
            "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'hand')",
            (kind, stamp(start), stamp(start), script_name(script) if script else None, params_text(params),
             checked_size(size), checked_comfort(comfort), length, length, checked_note(note)),
        )

    def add_played(self, script: str | os.PathLike, params: Mapping[str, object] | None, *, total_ms: int,
                   completed_ms: int, finished: datetime, comfort: int | None, source: str,
                   request: str | None = None) -> tuple[int, bool]:
        """Record a session played elsewhere (the phone), once per `request`; (its id, whether it is new)."""
        if source not in SOURCES:
            raise VoicecoachError(f"unknown source {shown(source)} (one of: {', '.join(SOURCES)})")
        total, done = checked_ms(total_ms, "total_ms"), checked_ms(completed_ms, "completed_ms")
        values = (stamp(finished - timedelta(milliseconds=min(done, total))), stamp(finished), script_name(script),
                  params_text(params), checked_comfort(comfort), min(done, total), total, source)
        key = checked_request(request) if request is not None else None
        if self.read_only:
            raise VoicecoachError(f"{self.path}: the log was opened for reading only; nothing was written")
        try:
            # One transaction that takes the write lock first: two copies of one request sent at once (a phone
            # retrying while the first is still being written) cannot both find it missing.
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if key is not None:
                    seen = self.conn.execute("SELECT entry FROM received WHERE request = ?", (key,)).fetchone()
                    if seen is not None:
                        self.conn.execute("ROLLBACK")
                        return int(seen[0]), False
                new_id = self.conn.execute(
                    "INSERT INTO entries (kind, started, finished, script, params, comfort, completed_ms, total_ms, "
                    "source) VALUES ('session', ?, ?, ?, ?, ?, ?, ?, ?)", values).lastrowid
                if new_id is None:
                    raise VoicecoachError(f"{self.path}: the new entry was not recorded")
                if key is not None:
                    self.conn.execute("INSERT INTO received (request, entry, at) VALUES (?, ?, ?)",
                                      (key, new_id, stamp(now())))
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise self._not_written(e) from None
        return new_id, True

    def rate(self, entry: int | None = None, *, comfort: int | None = None, note: str | None = None,
             replace_note: bool = False) -> LogEntry:
        """Add how an entry felt (default: the one added last, just noted or played); a note is added to the one it
        has, not put in its place, unless `replace_note`. Returns the updated entry."""
        if entry is None:
            entry = self.conn.execute("SELECT max(id) FROM entries").fetchone()[0]
            if entry is None:
                raise VoicecoachError(f"{self.path}: the practice log is empty; there is nothing to rate yet")
        current, text = self.get(entry), checked_note(note)
        if text is not None and current.note and not replace_note:
            text = joined_notes(current.note, text)
        if self._write("UPDATE entries SET comfort = COALESCE(?, comfort), note = COALESCE(?, note) WHERE id = ?",
                       (checked_comfort(comfort), checked_note(text), current.id)).rowcount != 1:
            raise VoicecoachError(f"there is no entry {entry} in the practice log; "
                                  "`voicecoach log list` shows each entry's number")
        return self.get(current.id)

    def delete(self, entry: int) -> LogEntry:
        """Remove one entry (a wrong one, say); returns what was removed."""
        gone = self.get(entry)
        self._write("DELETE FROM entries WHERE id = ?", (entry,))
        return gone

    def get(self, entry: int) -> LogEntry:
        """One entry by id."""
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE id = ?", (entry_id(entry),)).fetchone()
        if row is None:
            raise VoicecoachError(f"there is no entry {shown(entry)} in the practice log; "
                                  "`voicecoach log list` shows each entry's number")
        try:
            return entry_of_row(row)
        except ValueError as e:
            raise VoicecoachError(f"{self.path}: entry {entry} cannot be read ({e}); "
                                  "`voicecoach log check` lists what is wrong") from None

    def entries(self) -> list[LogEntry]:
        """Every entry that can be read, oldest first; a row that cannot is named in `skipped`, not raised."""
        good, self.skipped = [], []
        for row in self.conn.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY id"):
            try:
                good.append(entry_of_row(row))
            except ValueError as e:     # a log edited by hand, or written by another version
                self.skipped.append(f"entry {row[0]}: {e}")
        return sorted(good, key=lambda e: (e.started, e.id))

    def skipped_note(self) -> str | None:
        """One line naming the rows the last entries() skipped, or None when it read them all."""
        if not self.skipped:
            return None
        first = "; ".join(self.skipped[:3]) + (f"; and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else "")
        return (f"{self.path}: skipped {len(self.skipped)} entr{'y' if len(self.skipped) == 1 else 'ies'} "
                f"that cannot be read ({first}); `voicecoach log check` lists them")

    def count(self) -> int:
        """How many entries the log holds."""
        return self.conn.execute("SELECT count(*) FROM entries").fetchone()[0]

    def export_csv(self, out: TextIO) -> int:
        """Write every entry as CSV (a header row first); returns the number of entries."""
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "kind", "started", "finished", "status", "script", "params", "trainer_size",
                         "comfort", "minutes_done", "minutes_total", "note", "source"])
        entries = self.entries()
        for e in entries:
            writer.writerow([e.id, e.kind, stamp(e.started), stamp(e.finished) if e.finished else "",
                             e.status, e.script or "", json.dumps(dict(e.params), ensure_ascii=False) if e.params else "",
                             csv_cell(e.size), csv_cell(e.comfort), csv_minutes(e.completed_ms), csv_minutes(e.total_ms),
                             e.note or "", e.source or ""])
        return len(entries)

    def check(self) -> list[str]:
        """Problems found in the file (empty when it is sound): SQLite's own check, what someone else added to it,
        every entry's fields, and who else can read it."""
        problems = [row[0] for row in self.conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            problems.append(f"format {version}, expected {SCHEMA_VERSION}")
        problems += strangers(self.conn)
        self.entries()
        problems += self.skipped
        return problems + self.privacy()

    def privacy(self) -> list[str]:
        """The log's folder and files, and voicecoach's own user folders, where other users can read them."""
        return privacy_problems_of(self.path)


def privacy_problems_of(log: str | os.PathLike | None = None) -> list[str]:
    """What of the practice log (its folder and files) and of voicecoach's user folders others can read, with fixes."""
    path = db_path(log)
    problems = privacy_problems([path.parent], tree=False)
    problems += privacy_problems([path] + [path.with_name(path.name + side) for side in SIDE_FILES])
    return problems + privacy_problems(p for p in paths.user_dirs() if p != path.parent)


# ---------------------------------------------------------------- opening to write

def open_log(path: str | os.PathLike | None = None, *, existing: str | None = None) -> Log:
    """Open to write (creating if needed, 0600 in a 0700 folder) and migrate the practice log; with `existing`
    ("to rate"), a command that changes entries already there refuses a log that is not there yet."""
    path = db_path(path)
    if existing and not path.exists():
        raise VoicecoachError(f"there is no practice log at {path} yet, so there is nothing {existing}; playing a "
                              "session, or `voicecoach log trainer --size 1`, starts it")
    _regular(path, "nothing was changed")
    try:
        if not path.parent.is_dir():
            private_dir(path.parent)
        _make_private_file(path)
    except OSError as e:
        if e.errno in _NOT_WRITABLE:
            raise VoicecoachError(f"{path}: the practice log could not be created there: its folder is on read-only "
                                  "media (or read-only); nothing was changed") from None
        raise VoicecoachError(f"{path}: the practice log could not be created ({e.strerror or e})") from None
    if not _writable(path):
        # SQLite opens such a file for reading without a word, and only a write would fail: say so before asking.
        raise VoicecoachError(f"{path}: cannot be written: {READ_ONLY}; nothing was changed, and {READERS}")
    conn = None
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        version = check_format(conn, path)      # before WAL, which rewrites the header of any file it touches
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed entry survives a power cut too, not only a killed process.
        conn.execute("PRAGMA synchronous = FULL")
        if version != SCHEMA_VERSION and migrate(conn, version):
            _make_private_files(path)
    except sqlite3.Error as e:
        if conn is not None:
            conn.close()
        if _read_only(e, path) and not _full(e, path):
            raise VoicecoachError(f"{path}: cannot be written: {READ_ONLY}; nothing was changed, "
                                  f"and {READERS}") from None
        raise _unreadable(e, path, "nothing was changed") from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return Log(path, conn)


def _make_private_file(path: Path) -> None:
    # Create the file ourselves, so it is private from its first byte, before SQLite opens it.
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _make_private_files(path: Path) -> None:
    # Earlier versions did not insist on a private file; this one does. SQLite made its side files
    # (the write-ahead log holds recent entries) with the file's mode at the time, so they go too.
    for name in [path.name] + [path.name + side for side in SIDE_FILES]:
        try:
            if stat.S_IMODE(os.stat(path.parent / name).st_mode) & 0o077:
                os.chmod(path.parent / name, 0o600)
        except FileNotFoundError:
            pass


# ---------------------------------------------------------------- opening to read

def read_log(path: str | os.PathLike | None = None) -> Log:
    """Open the practice log to read only: nothing is created, migrated or written (no log yet reads as empty)."""
    return _reading(db_path(path), "nothing was changed")


def _reading(path: Path, unchanged: str) -> Log:
    _regular(path, unchanged)
    conn = None
    try:
        if not path.exists():
            # Looking at a log that is not there yet must not create it: it reads as an empty one.
            conn = sqlite3.connect(":memory:", isolation_level=None)
            version = 0
        else:
            conn = _connect_read_only(path, unchanged)
            version = check_format(conn, path, unchanged)
        if version != SCHEMA_VERSION:
            if path.exists():
                # An older log is read through a copy migrated in memory: migrating the file would write it.
                copy = sqlite3.connect(":memory:", isolation_level=None)
                conn.backup(copy)
                conn.close()
                conn = copy
            migrate(conn, version)
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as e:
        if conn is not None:
            conn.close()
        raise _unreadable(e, path, unchanged) from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return Log(path, conn, read_only=True)


def _connect_read_only(path: Path, unchanged: str) -> sqlite3.Connection:
    uri = path.resolve().as_uri()       # as a URI, so that SQLite neither creates the file nor writes where told not to
    if _writable(path) and _writable(path.parent):
        # Where the log may be written, a reader that may write too (only SQL's writes are refused, by query_only)
        # removes SQLite's side files when it closes, as a writer does; a read-only reader leaves them behind.
        conn = _connected(f"{uri}?mode=rw")
        conn.execute("PRAGMA query_only = ON")
        return conn
    try:
        return _connected(f"{uri}?mode=ro")
    except sqlite3.OperationalError as e:
        if not _read_only(e, path):
            raise
    # A reader of a log in WAL mode needs the -shm file beside it, which SQLite makes if it can. Where it
    # cannot (a read-only folder or medium) and there is none, nobody is writing the log either, and the file
    # can be read as it is, unless recent changes wait in a -wal or -journal that only a writer can apply.
    for side in ("-wal", "-journal"):
        pending = path.with_name(path.name + side)
        if pending.exists() and pending.stat().st_size > 0:
            raise VoicecoachError(f"{path}: its latest changes are in {pending.name}, which can only be read where "
                                  f"the log's folder can be written ({READ_ONLY}); copy the folder somewhere "
                                  f"writable and give the copy with --db; {unchanged}")
    return _connected(f"{uri}?mode=ro&immutable=1")


def _connected(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()    # SQLite opens lazily: fail here, not later
    except BaseException:
        conn.close()
        raise
    return conn


# ---------------------------------------------------------------- what went wrong

def _regular(path: Path, unchanged: str) -> None:
    # A folder, a pipe or a device given as the log: SQLite would fail obscurely, or block reading a pipe.
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return      # missing, or unreachable: what opens it next says which
    if not stat.S_ISREG(mode):
        raise VoicecoachError(f"{path}: is not a file (a folder, a device or a pipe), so it is not a practice log; "
                              f"give the log's file with --db; {unchanged}")


def _unreadable(error: sqlite3.Error, path: Path, unchanged: str) -> VoicecoachError:
    if _full(error, path):
        # SQLite says "disk I/O error" when it cannot grow its write-ahead log: the log itself is fine.
        return VoicecoachError(f"{path}: the practice log could not be opened: {no_space(path)}; "
                               "nothing was changed, and the log is unharmed")
    return VoicecoachError(f"{path}: cannot be read as a practice log ({error}); {unchanged}")


def _full(error: sqlite3.Error, path) -> bool:
    """Whether SQLite failed because the disk holding `path` is full (it may say "disk I/O error" then)."""
    text = str(error).lower()
    return "full" in text or (("disk i/o" in text or "i/o error" in text) and disk_full(path))


def _read_only(error: sqlite3.Error, path: Path) -> bool:
    """Whether SQLite failed because the log, or the folder it keeps its side files in, cannot be written."""
    name = getattr(error, "sqlite_errorname", None) or ""
    if name.startswith("SQLITE_READONLY") or "readonly database" in str(error):
        return True
    # SQLite says "unable to open database file" when it cannot make its side files beside the log.
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in str(error):
        return (path.exists() and not _writable(path)) or not _writable(path.parent)
    return False


def _writable(path: Path) -> bool:
    # The effective user decides what may be written (a program run with another's rights, or as root).
    return os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


# ---------------------------------------------------------------- forgetting

def forgettable(path: str | os.PathLike | None = None) -> int:
    """How many entries forget() would delete (0: no log); refuses, as forget() does, a file that is not a log."""
    path = db_path(path)
    if not path.exists():
        return 0
    # The same check as opening it, read-only: another program's file is refused before anything is deleted.
    with _reading(path, "it was not deleted (if it is yours, delete it by hand)") as log:
        return log.count()


def forget(path: str | os.PathLike | None = None) -> int:
    """Delete the practice log and SQLite's side files, once it reads as a practice log; returns its entry count."""
    path = db_path(path)
    if not path.exists():
        return 0
    count = forgettable(path)
    deleted = False
    for name in [path.name] + [path.name + side for side in SIDE_FILES]:
        try:
            (path.parent / name).unlink()
            deleted = True
        except FileNotFoundError:
            pass
        except OSError as e:
            why = READ_ONLY if e.errno in _NOT_WRITABLE else e.strerror or str(e)
            left = "the log itself is gone" if deleted else "nothing was deleted"
            raise VoicecoachError(f"{path.parent / name}: could not be deleted: {why}; {left}") from None
    return count
