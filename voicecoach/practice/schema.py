"""The practice log's file format: its tables, the migrations from older formats, and the check that a file is ours."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from voicecoach.errors import VoicecoachError, shown

SCHEMA_VERSION = 3

# Format 2: every entry in one table.
_V2 = """
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
_FROM_1 = _V2 + """
INSERT INTO entries (id, kind, started, finished, size, comfort, note)
    SELECT id, what, day || 'T12:00:00', day || 'T12:00:00', size, comfort, note FROM practice ORDER BY id;
DROP TABLE practice;
"""

# Format 3: where each entry came from, and the requests a phone has sent. A request is remembered apart from its
# entry so that a phone retrying one whose answer it never saw cannot bring back an entry deleted since.
# Entries of format 2 that only a person could have added (trainer, other) are "hand"; a session of format 2 may
# have been played or noted by hand, and stays unknown (NULL) rather than guessed.
_RECEIVED = """
CREATE TABLE received (
    request TEXT PRIMARY KEY,
    entry INTEGER NOT NULL,
    at TEXT NOT NULL
);
"""
_FROM_2 = """
ALTER TABLE entries ADD COLUMN source TEXT;
UPDATE entries SET source = 'hand' WHERE kind IN ('trainer', 'other');
""" + _RECEIVED

_CURRENT = _V2.replace("    note TEXT\n", "    note TEXT,\n    source TEXT\n") + _RECEIVED

MIGRATIONS = {1: _FROM_1, 2: _FROM_2}

_COLUMNS_2 = ("id", "kind", "started", "finished", "script", "params", "size", "comfort", "completed_ms", "total_ms",
              "note")
COLUMNS = _COLUMNS_2 + ("source",)
# The table each format keeps its entries in, with the columns every file of that format has.
TABLE_OF = {1: ("practice", ("id", "day", "what", "size", "comfort", "note")), 2: ("entries", _COLUMNS_2),
            3: ("entries", COLUMNS)}
# Everything the current format defines; SQLite's own objects are named sqlite_... and are left out.
OWN_OBJECTS = {("table", "entries"), ("index", "entries_started"), ("table", "received")}


def tables(conn: sqlite3.Connection) -> set[str]:
    """The names of the tables in the file."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """The columns of `table`, in order (none when there is no such table)."""
    if table not in tables(conn):
        return []
    return [row[0] for row in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))]


def check_format(conn: sqlite3.Connection, path: Path, unchanged: str = "nothing was changed") -> int:
    """The file's format (0: a new, empty file); refuses, in one line ending with `unchanged`, a file that is not our log."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise VoicecoachError(f"{path}: this practice log was written by a newer voicecoach "
                              f"(format {version}); this one reads up to format {SCHEMA_VERSION}; {unchanged}")
    if version == 0 and not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        return 0
    # Another program's file may well have a table called entries: its format number and its columns tell ours.
    table, needed = TABLE_OF.get(version, ("", ()))
    if version < 1 or not needed or not set(needed) <= set(columns(conn, table)):
        raise VoicecoachError(f"{path}: this is not a voicecoach practice log; {unchanged}")
    return version


def migrate(conn: sqlite3.Connection, version: int) -> int:
    """Bring a file of format `version` (0: new) to the current format, in one transaction; returns the format found."""
    if version == SCHEMA_VERSION:
        return version
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
    return version


def _statements(script: str) -> list[str]:
    # executescript() would commit first; splitting keeps the migration inside our transaction.
    return [s.strip() for s in script.split(";") if s.strip()]


def strangers(conn: sqlite3.Connection) -> list[str]:
    """What the file holds that the log does not define (a trigger, view, table, index or column someone added)."""
    found = []
    for kind, name, table in conn.execute("SELECT type, name, tbl_name FROM sqlite_master ORDER BY type, name"):
        # SQLite refuses sqlite_... names for what people create: those are its own indexes and statistics.
        if (kind, name) in OWN_OBJECTS or (kind in ("table", "index") and str(name).startswith("sqlite_")):
            continue
        on = f" on {shown(table)}" if kind in ("trigger", "index") else ""
        why = ", and it runs whenever entries are written" if kind == "trigger" else ""
        found.append(f"{kind} {shown(name)}{on} is not part of the practice log (something else added it{why})")
    extra = [c for c in columns(conn, "entries") if c not in COLUMNS]
    if extra:
        found.append(f"table 'entries' has column{'s' if len(extra) > 1 else ''} the practice log does not define: "
                     f"{', '.join(shown(c) for c in extra)}")
    return found
