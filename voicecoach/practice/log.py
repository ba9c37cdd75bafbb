"""The practice log: a private SQLite file of sessions and manual entries, migrated forward on open."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sqlite3
import stat
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Iterable, Mapping, Sequence, TextIO, overload

from voicecoach import paths
from voicecoach.errors import VoicecoachError, shown
from voicecoach.files import disk_full, no_space, privacy_problems, private_dir

SCHEMA_VERSION = 2
FILE_NAME = "practice.sqlite3"
KINDS = ("session", "trainer", "other")
COMFORT = {1: "very hard", 2: "hard", 3: "okay", 4: "comfortable", 5: "very comfortable"}
MAX_NOTE = 2000
MAX_SIZE = 10
# What a value entering the log may be; a row holding anything else is named and skipped on reading.
MAX_MS = 24 * 3600 * 1000       # a day: no session or practice is longer
MAX_MINUTES = 600
MAX_NAME = 255                  # a script's file name (the longest a file system allows)
MAX_PARAMS = 50
MAX_TEXT = 200                  # a setting's value, when it is a text
MAX_NUMBER = 10 ** 9            # a setting's value, when it is a number
BACKDATE_DAYS = 3653            # --when reaches ten years back; further is a typo, not a diary
EARLIEST_YEAR = 1970            # an entry dated before this is not practice (a hand edit, a broken clock)
MAX_ID = 2 ** 63 - 1            # SQLite's largest row id
# SQLite keeps a database's recent writes beside it; forgetting the log means removing these too.
SIDE_FILES = ("-wal", "-shm", "-journal")

_CURRENT = """
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    script TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    size INTEGER,
    comfort INTEGER,
    completed_ms INTEGER,
    total_ms INTEGER,
    note TEXT
);
CREATE INDEX entries_started ON entries (started);
"""

# Version 1 kept only manual entries, by day.
_FROM_1 = _CURRENT + """
INSERT INTO entries (id, kind, started, finished, size, comfort, note)
    SELECT id, what, day || 'T12:00:00', day || 'T12:00:00', size, comfort, note FROM practice ORDER BY id;
DROP TABLE practice;
"""

MIGRATIONS = {1: _FROM_1}

_COLUMNS = "id, kind, started, finished, script, params, size, comfort, completed_ms, total_ms, note"


@dataclass(frozen=True)
class LogEntry:
    id: int
    kind: str                         # session (played), trainer or other (logged by hand)
    started: datetime
    finished: datetime | None         # None: the session never reached its end (closed, killed, power cut)
    script: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)
    size: int | None = None
    comfort: int | None = None        # 1 very hard .. 5 very comfortable
    completed_ms: int | None = None
    total_ms: int | None = None
    note: str | None = None

    @property
    def status(self) -> str:
        """"complete", or "partial" for a played session that stopped before its end."""
        if self.kind != "session":
            return "complete"
        if self.finished is None:
            return "partial"
        if self.total_ms is not None and (self.completed_ms or 0) < self.total_ms:
            return "partial"
        return "complete"

    @property
    def day(self) -> date:
        """The calendar day the practice happened, where it happened."""
        return self.started.date()


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """--db, else $VOICECOACH_DB, else practice.sqlite3 in the user data folder."""
    if explicit:
        return Path(explicit)
    if os.environ.get("VOICECOACH_DB"):
        return Path(os.environ["VOICECOACH_DB"])
    return paths.data_dir() / FILE_NAME


def now() -> datetime:
    """The local time, to the second, with its UTC offset."""
    return datetime.now().astimezone().replace(microsecond=0)


def _stamp(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat()


def parse_when(text: str, today: datetime | None = None) -> datetime:
    """"today", "yesterday", "2026-11-20" or "2026-11-20 19:30" -> a local time (never in the future)."""
    today = today or now()
    word = text.strip().lower()
    if word in ("today", "now"):
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        if len(word) == 10:
            when = datetime.combine(date.fromisoformat(word), time(12, 0))
        else:
            when = datetime.fromisoformat(word.replace(" ", "T"))
    except ValueError:
        raise VoicecoachError(f"--when {shown(text)}: write a day like 2026-11-20, optionally with a time "
                              "like 2026-11-20 19:30, or 'today' / 'yesterday'") from None
    # The day is checked first: year 1 or 9999 would overflow the conversion to local time.
    if when.date() > today.date():
        raise VoicecoachError(f"--when {shown(text)} is in the future; the log is for practice already done")
    if when.date() < today.date() - timedelta(days=BACKDATE_DAYS):
        raise VoicecoachError(f"--when {shown(text)} is more than ten years ago; the log keeps practice "
                              "from the last ten years")
    when = when.astimezone() if when.tzinfo is None else when
    return when.replace(microsecond=0)


def parse_comfort(text: str | int | None) -> int | None:
    """"4", "comfortable", "hard", "ok" ... -> 1..5 (1 very hard, 3 okay, 5 very comfortable)."""
    if text is None or isinstance(text, int):
        return _comfort(text)
    raw = str(text).strip()
    # The sign is read before hyphens become spaces: "-5" is minus five (refused), not 5.
    if re.fullmatch(r"[+-]?\d+", raw):
        return _comfort(int(raw) if len(raw) <= 20 else MAX_ID)
    word = " ".join(raw.lower().replace("-", " ").replace("_", " ").split())
    names = {name: n for n, name in COMFORT.items()}
    names.update({"ok": 3, "fine": 3, "easy": 5})
    if word not in names:
        raise VoicecoachError(f"--comfort {shown(text)}: use 1 to 5, or very hard, hard, okay, comfortable, "
                              "very comfortable")
    return names[word]


def split_rating(words: Sequence[str]) -> tuple[int | None, int | None, tuple[str, ...]]:
    """`log rate`'s words -> (entry, comfort, note words): "4", "12 4", "12 okay easier today", "very hard"."""
    words = tuple(words)

    def comfort_at(i: int) -> tuple[int | None, int]:
        # The words of the scale may be two words ("very hard"); the longest that reads as one wins.
        for n in (2, 1):
            if i + n <= len(words):
                try:
                    return parse_comfort(" ".join(words[i:i + n])), n
                except VoicecoachError:
                    pass
        return None, 0

    if len(words) >= 2 and words[0].isdigit():
        comfort, n = comfort_at(1)
        if comfort is not None:
            return int(words[0]), comfort, words[1 + n:]
    comfort, n = comfort_at(0)
    if comfort is not None:
        return None, comfort, words[n:]
    if words and words[0].isdigit():
        raise VoicecoachError(f"{words[0]} is not a comfort from 1 to 5; to rate entry {words[0]}, add how it felt: "
                              f"`voicecoach log rate {words[0]} 4`")
    return None, None, words


# ---------------------------------------------------------------- the file

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


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _version(conn: sqlite3.Connection, path: Path) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise VoicecoachError(f"{path}: this practice log was written by a newer voicecoach "
                              f"(format {version}); this one reads up to format {SCHEMA_VERSION}. "
                              "Nothing was changed.")
    if version == 0 and _tables(conn):
        raise VoicecoachError(f"{path}: this is not a voicecoach practice log; nothing was changed")
    return version


def _migrate(conn: sqlite3.Connection, path: Path, version: int) -> None:
    if version == SCHEMA_VERSION:
        return
    # One transaction for every step: a failed migration leaves the file exactly as it was.
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]   # another process may have just done it
        if version == SCHEMA_VERSION:
            pass
        elif version == 0:
            for statement in _statements(_CURRENT):
                conn.execute(statement)
        else:
            for v in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[v]):
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if version:
        # Earlier versions did not insist on a private file; this one does. SQLite made its side files
        # (the write-ahead log holds recent entries) with the file's mode at the time, so they go too.
        for name in [path.name] + [path.name + side for side in SIDE_FILES]:
            try:
                if stat.S_IMODE(os.stat(path.parent / name).st_mode) & 0o077:
                    os.chmod(path.parent / name, 0o600)
            except FileNotFoundError:
                pass


def _statements(script: str) -> list[str]:
    # executescript() would commit first; splitting keeps the migration inside our transaction.
    return [s.strip() for s in script.split(";") if s.strip()]


class Log:
    """An open practice log; use as a context manager, or call close()."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        self.skipped: list[str] = []    # the rows the last entries() could not read, each named with why

    def __enter__(self) -> "Log":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (SQLite folds the write-ahead log back into it)."""
        self.conn.close()

    def _write(self, sql: str, args: Iterable) -> sqlite3.Cursor:
        try:
            with self.conn:   # its own transaction, committed before this returns
                return self.conn.execute(sql, tuple(args))
        except sqlite3.Error as e:
            if _full(e, self.path):
                raise VoicecoachError(f"{self.path}: could not be written: {no_space(self.path)}; "
                                      "earlier entries are unchanged") from None
            raise VoicecoachError(f"{self.path}: could not be written ({e}); earlier entries are unchanged") from None

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
            "INSERT INTO entries (kind, started, script, params, total_ms) VALUES ('session', ?, ?, ?, ?)",
            (_stamp(when or now()), _script(script), _params(params), _ms(total_ms, "total_ms")),
        )

    def finish(self, entry: int, completed_ms: int, total_ms: int | None = None, *,
               when: datetime | None = None) -> None:
        """Mark a session as ended, with how much of it was played."""
        total = _ms(total_ms, "total_ms")
        done = _ms(completed_ms, "completed_ms")
        cursor = self._write(
            "UPDATE entries SET finished = ?, completed_ms = ?, total_ms = COALESCE(?, total_ms) "
            "WHERE id = ? AND kind = 'session'",
            (_stamp(when or now()), done if total is None else min(done, total), total, _id(entry)),
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
        length = _minutes(minutes)
        return self._insert(
            "INSERT INTO entries (kind, started, finished, script, params, size, comfort, completed_ms, total_ms, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, _stamp(start), _stamp(start), _script(script) if script else None, _params(params),
             _size(size), _comfort(comfort), length, length, _note(note)),
        )

    def rate(self, entry: int | None = None, *, comfort: int | None = None, note: str | None = None) -> LogEntry:
        """Add how an entry felt (default: the latest); returns the updated entry."""
        if entry is None:
            row = self.conn.execute("SELECT id FROM entries ORDER BY started DESC, id DESC LIMIT 1").fetchone()
            if row is None:
                raise VoicecoachError("the practice log is empty; there is nothing to rate yet")
            entry = row[0]
        cursor = self._write(
            "UPDATE entries SET comfort = COALESCE(?, comfort), note = COALESCE(?, note) WHERE id = ?",
            (_comfort(comfort), _note(note), _id(entry)),
        )
        if cursor.rowcount != 1:
            raise VoicecoachError(f"there is no entry {entry} in the practice log")
        return self.get(entry)

    def delete(self, entry: int) -> LogEntry:
        """Remove one entry (a wrong one, say); returns what was removed."""
        gone = self.get(entry)
        self._write("DELETE FROM entries WHERE id = ?", (entry,))
        return gone

    def get(self, entry: int) -> LogEntry:
        """One entry by id."""
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE id = ?", (_id(entry),)).fetchone()
        if row is None:
            raise VoicecoachError(f"there is no entry {shown(entry)} in the practice log")
        try:
            return _entry(row)
        except ValueError as e:
            raise VoicecoachError(f"{self.path}: entry {entry} cannot be read ({e}); "
                                  "`voicecoach log check` lists what is wrong") from None

    def entries(self) -> list[LogEntry]:
        """Every entry that can be read, oldest first; a row that cannot is named in `skipped`, not raised."""
        good, self.skipped = [], []
        for row in self.conn.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY id"):
            try:
                good.append(_entry(row))
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
                         "comfort", "minutes_done", "minutes_total", "note"])
        entries = self.entries()
        for e in entries:
            writer.writerow([e.id, e.kind, _stamp(e.started), _stamp(e.finished) if e.finished else "",
                             e.status, e.script or "", json.dumps(dict(e.params), ensure_ascii=False) if e.params else "",
                             _blank(e.size), _blank(e.comfort), _csv_minutes(e.completed_ms), _csv_minutes(e.total_ms),
                             e.note or ""])
        return len(entries)

    def check(self) -> list[str]:
        """Problems found in the file (empty when it is sound): SQLite's own check, then every entry's fields."""
        problems = [row[0] for row in self.conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            problems.append(f"format {version}, expected {SCHEMA_VERSION}")
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


def open_log(path: str | os.PathLike | None = None) -> Log:
    """Open (creating if needed, 0600 in a 0700 folder) and migrate the practice log."""
    path = db_path(path)
    try:
        if not path.parent.is_dir():
            private_dir(path.parent)
        _make_private_file(path)
    except OSError as e:
        raise VoicecoachError(f"{path}: the practice log could not be created ({e.strerror or e})") from None
    conn = None
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        version = _version(conn, path)      # before WAL, which rewrites the header of any file it touches
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed entry survives a power cut too, not only a killed process.
        conn.execute("PRAGMA synchronous = FULL")
        _migrate(conn, path, version)
    except sqlite3.Error as e:
        if conn is not None:
            conn.close()
        if _full(e, path):
            # SQLite says "disk I/O error" when it cannot grow its write-ahead log: the log itself is fine.
            raise VoicecoachError(f"{path}: the practice log could not be opened: {no_space(path)}; "
                                  "nothing was changed, and the log is unharmed") from None
        raise VoicecoachError(f"{path}: cannot be read as a practice log ({e}); nothing was changed") from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return Log(path, conn)


def _full(error: sqlite3.Error, path) -> bool:
    """Whether SQLite failed because the disk holding `path` is full (it may say "disk I/O error" then)."""
    text = str(error).lower()
    return "full" in text or (("disk i/o" in text or "i/o error" in text) and disk_full(path))


def forget(path: str | os.PathLike | None = None) -> int:
    """Delete the practice log and SQLite's side files; returns how many entries there were."""
    path = db_path(path)
    if not path.exists():
        return 0
    # Read-only: refuse before deleting anything that is not ours.
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = _tables(conn)
            count = conn.execute("SELECT count(*) FROM entries").fetchone()[0] if "entries" in tables else \
                conn.execute("SELECT count(*) FROM practice").fetchone()[0] if "practice" in tables else None
        finally:
            conn.close()
    except sqlite3.Error:
        count = None
    if count is None:
        raise VoicecoachError(f"{path}: this is not a voicecoach practice log, so it was not deleted")
    for name in [path.name] + [path.name + side for side in SIDE_FILES]:
        try:
            (path.parent / name).unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            raise VoicecoachError(f"{path.parent / name}: could not be deleted ({e.strerror or e})") from None
    return count


# ---------------------------------------------------------------- values

def _entry(row) -> LogEntry:
    """A row as an entry; ValueError, naming the field, for anything an entry cannot hold (nothing else raises)."""
    (id_, kind, started, finished, script, params, size, comfort, completed, total, note) = row
    if kind not in KINDS:
        raise ValueError(f"unknown kind {shown(kind)}")
    start = _read_stamp(started, "start")
    end = None if finished is None else _read_stamp(finished, "end")
    if end is not None and end < start:
        raise ValueError("ends before it starts")
    if script is not None and not (isinstance(script, str) and 0 < len(script) <= MAX_NAME):
        raise ValueError(f"script {shown(script)} is not a script's name")
    values = _read_params(params)
    for name, value, check in (("trainer size", size, _size), ("comfort", comfort, _comfort),
                               ("completed_ms", completed, lambda v: _ms(v, "completed_ms")),
                               ("total_ms", total, lambda v: _ms(v, "total_ms"))):
        try:
            check(value)
        except VoicecoachError:
            raise ValueError(f"{name} {shown(value)} is out of range") from None
    if note is not None and not (isinstance(note, str) and len(note) <= MAX_NOTE):
        raise ValueError("the note is not a text of up to 2000 characters")
    return LogEntry(id=id_, kind=kind, started=start, finished=end, script=script, params=values, size=size,
                    comfort=comfort, completed_ms=completed, total_ms=total, note=note)


def _read_stamp(text, what: str) -> datetime:
    if not isinstance(text, str) or len(text) > 40:
        raise ValueError(f"its {what} {shown(text)} is not a time")
    try:
        when = datetime.fromisoformat(text)
        when = when.astimezone() if when.tzinfo is None else when
        future = when > now() + timedelta(days=2)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"its {what} {shown(text)} is not a time") from None
    if when.year < EARLIEST_YEAR or future:
        raise ValueError(f"its {what} {shown(text)} is not a time near now")
    return when


def _read_params(text) -> dict[str, object]:
    if text is None or text == "":
        return {}
    def refuse(constant):
        raise ValueError(f"the settings hold {constant}")
    try:
        if not isinstance(text, str) or len(text) > 20_000:
            raise ValueError
        values = json.loads(text, parse_constant=refuse)
        if not isinstance(values, dict):
            raise ValueError
        return _checked_params(values, ValueError)
    except (ValueError, RecursionError):
        raise ValueError(f"its settings {shown(text)} cannot be read") from None


def _checked_params(params: Mapping, error: type[Exception]) -> dict[str, object]:
    """The settings, each a short name and a finite number, a short text or true/false; else `error`."""
    if len(params) > MAX_PARAMS:
        raise error(f"{len(params)} settings are more than the log keeps ({MAX_PARAMS})")
    out: dict[str, object] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", key):
            raise error(f"the setting name {shown(key)} is not a name (letters, digits and _)")
        if isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if abs(value) > MAX_NUMBER:
                raise error(f"the setting {key}={shown(value)} is too large to be a setting")
        elif isinstance(value, float):
            if not math.isfinite(value) or abs(value) > MAX_NUMBER:
                raise error(f"the setting {key}={shown(value)} is not a finite number of a usable size")
        elif isinstance(value, str):
            if len(value) > MAX_TEXT:
                raise error(f"the setting {key} is {len(value)} characters; the log keeps up to {MAX_TEXT}")
        else:
            raise error(f"the setting {key}={shown(value)} is not a number or a text")
        out[key] = value
    return out


def _params(params: Mapping[str, object] | None) -> str:
    values = _checked_params({str(k): v for k, v in (params or {}).items()}, VoicecoachError)
    return json.dumps(values, ensure_ascii=False, sort_keys=True, allow_nan=False)


def _script(script: str | os.PathLike) -> str:
    name = Path(script).name
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise VoicecoachError(f"the script name {shown(name)} cannot be logged (up to {MAX_NAME} characters, "
                              "on one line)")
    return name


def _id(entry) -> int:
    if isinstance(entry, bool) or not isinstance(entry, int) or not 1 <= entry <= MAX_ID:
        raise VoicecoachError(f"there is no entry {shown(entry)} in the practice log (`voicecoach log list` "
                              "shows their numbers)")
    return entry


def _minutes(minutes) -> int | None:
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes) \
            or not 0 <= minutes <= MAX_MINUTES:
        raise VoicecoachError(f"--minutes {shown(minutes)} should be from 0 to {MAX_MINUTES}")
    return round(minutes * 60_000)


@overload
def _ms(value: None, what: str) -> None: ...
@overload
def _ms(value: int, what: str) -> int: ...
@overload
def _ms(value: int | None, what: str) -> int | None: ...
def _ms(value, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MS:
        raise VoicecoachError(f"{what} must be a whole number of milliseconds up to a day, not {shown(value)}")
    return value


def _size(size) -> int | None:
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE):
        raise VoicecoachError(f"trainer size {shown(size)} should be a whole number from 1 to {MAX_SIZE}")
    return size


def _comfort(comfort) -> int | None:
    if comfort is not None and (isinstance(comfort, bool) or not isinstance(comfort, int) or comfort not in COMFORT):
        raise VoicecoachError(f"comfort {shown(comfort)} should be 1 to 5 (1 very hard, 3 okay, 5 very comfortable)")
    return comfort


def _note(note: str | None) -> str | None:
    if note is None:
        return None
    if not isinstance(note, str):
        raise VoicecoachError("the note should be a text")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise VoicecoachError(f"the note is {len(note)} characters; the log keeps notes up to {MAX_NOTE}")
    return note or None


def _csv_minutes(ms: int | None) -> str:
    # Minutes read at a glance in a spreadsheet; two decimals keep the log's second-level detail (0.6 s).
    return "" if ms is None else f"{ms / 60_000:.2f}"


def what_was_done(e: LogEntry) -> str:
    """An entry in a few words: "trainer.yaml size=2", "trainer size 1", "other practice"."""
    if e.kind == "trainer":
        return f"trainer size {e.size}"
    if e.script:
        return e.script + "".join(f" {k}={v}" for k, v in e.params.items())
    return "other practice" if e.kind == "other" else "a session"


def _blank(value) -> object:
    return "" if value is None else value
