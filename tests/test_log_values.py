"""Finding 1 of the second hardening round: no entry can break the log; values are checked at the door,
and a row that cannot be read (hand-edited, another version) is named and skipped, never a traceback."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.cli import cli
from voicecoach.practice.log import open_log


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result) -> str:
    assert result.exit_code != 0 and not isinstance(result.exception, Exception) or \
        isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.mark.parametrize("args", [
    ("log", "session", "trainer", "--set", "size=inf"),
    ("log", "session", "trainer", "--set", "size=1e400"),
    ("log", "session", "trainer", "--set", "size=nan"),
    ("log", "trainer", "--size", "1", "--comfort", "-5"),
    ("log", "trainer", "--size", "1", "--comfort", "-1"),
    ("log", "trainer", "--size", "1", "--comfort", "99999999999999999999999"),
    ("log", "trainer", "--size", "1", "--when", "0001-01-01"),
    ("log", "trainer", "--size", "1", "--when", "9999-12-31 10:00"),
    ("log", "trainer", "--size", "1", "--when", "1990-06-01"),
    ("log", "other", "--minutes", "nan"),
    ("log", "session", "x" * 300),
])
def test_bad_values_are_refused_at_the_door_in_one_line(args, private_log):
    one_line_error(run(*args))
    if private_log.exists():
        with open_log(private_log) as log:
            assert log.count() == 0


def test_rate_of_an_impossible_entry_is_one_line():
    run("log", "trainer", "--size", "1")
    assert "there is no entry" in one_line_error(run("log", "rate", "99999999999999999999999", "--comfort", "3"))
    assert "there is no entry" in one_line_error(run("log", "rate", "0", "--comfort", "3"))


def test_minus_five_is_not_very_comfortable():
    assert "comfort -5" in one_line_error(run("log", "trainer", "--size", "1", "--comfort", "-5"))
    result = run("log", "trainer", "--size", "1", "--comfort", "very-comfortable")
    assert result.exit_code == 0 and "very comfortable" in result.output


def test_a_size_is_taken_as_the_script_takes_it(private_log):
    # `--set size=2.0` plays size 2; `log trainer --size 2.0` had been refused as no trainer.
    assert "trainer size 2," in run("log", "trainer", "--size", "2.0").output
    assert "the program's trainers are sizes 1 to 4" in one_line_error(run("log", "trainer", "--size", "2.5"))
    assert "the program's trainers are sizes 1 to 4" in one_line_error(run("log", "trainer", "--size", "7"))


def _poke(path, sql, *args):
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, args)
    conn.close()


def test_a_row_no_version_could_write_is_named_skipped_and_reported(private_log):
    assert run("log", "session", "trainer", "--set", "size=2", "--comfort", "4").exit_code == 0
    assert run("log", "trainer", "--size", "3").exit_code == 0
    # What an older version, or a hand edit, could leave: an infinite size in the settings.
    _poke(private_log, "UPDATE entries SET params = ? WHERE id = 1", '{"size": Infinity}')
    for args in (["progress"], ["log", "list"], ["log", "export"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        assert "skipped 1 entry" in result.stderr and "entry 1" in result.stderr
        assert "`voicecoach log check`" in result.stderr
    listed = CliRunner().invoke(cli, ["log", "list"]).stdout
    assert "trainer size 3" in listed and "trainer.yaml" not in listed
    check = run("log", "check")
    assert check.exit_code == 1 and "entry 1" in check.output and "settings" in check.output


ROW_VALUES = st.one_of(
    st.none(), st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=60), st.binary(max_size=20),
    st.sampled_from(["session", "trainer", "other", "2026-11-20T12:00:00+01:00", "0001-01-01", "9999-12-31",
                     '{"size": 1e999}', '{"size": NaN}', '[1, 2]', '{"size": "big"}', '{"a": {"b": []}}',
                     '{"size": 99999999999999999999999999}', "2026-11-20 19:30", "", "{}"]),
)
COLUMNS = ("kind", "started", "finished", "script", "params", "size", "comfort", "completed_ms", "total_ms",
           "note")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.fixed_dictionaries({c: ROW_VALUES for c in COLUMNS}))
def test_fuzz_any_row_a_log_can_hold(row, tmp_path_factory):
    db = tmp_path_factory.mktemp("fuzz") / "log.sqlite3"
    with open_log(db) as log:
        log.add("trainer", size=2, comfort=3)
    for column, stand_in in (("kind", "other"), ("started", "2026-11-20T12:00:00"), ("params", "{}")):
        if row[column] is None or row[column] != row[column]:
            row[column] = stand_in      # NOT NULL in the schema (SQLite stores NaN as NULL)
    _poke(db, f"INSERT INTO entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
          *(row[c] for c in COLUMNS))
    for args in (["progress"], ["log", "list"], ["log", "export"], ["log", "check"], ["log", "rate", "2",
                                                                                       "--comfort", "3"]):
        result = CliRunner().invoke(cli, [*args, "--db", str(db)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, row, result.output)
        assert "Traceback" not in result.output
    listed = CliRunner().invoke(cli, ["log", "list", "--db", str(db)])
    assert "trainer size 2" in listed.stdout       # the sound entry is never lost to the bad one


@settings(max_examples=200, deadline=None)
@given(comfort=st.one_of(st.none(), st.text(max_size=30), st.integers().map(str)),
       when=st.one_of(st.none(), st.text(max_size=30), st.dates().map(str),
                      st.datetimes().map(lambda d: d.isoformat(" "))),
       note=st.one_of(st.none(), st.text(max_size=50)),
       sets=st.lists(st.text(max_size=20), max_size=3),
       minutes=st.one_of(st.none(), st.floats().map(str), st.text(max_size=10)))
def test_fuzz_what_a_person_can_type(comfort, when, note, sets, minutes, tmp_path_factory):
    db = tmp_path_factory.mktemp("typed") / "log.sqlite3"
    args = ["log", "session", "trainer", "--db", str(db)]
    for name, value in (("--comfort", comfort), ("--when", when), ("--note", note), ("--minutes", minutes)):
        if value is not None:
            args += [name, value]
    for pair in sets:
        args += ["--set", pair]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    if result.exit_code == 0:
        for follow_up in (["progress"], ["log", "list"], ["log", "export"], ["log", "check"]):
            after = CliRunner().invoke(cli, [*follow_up, "--db", str(db)])
            assert after.exit_code == 0, (args, follow_up, after.output)
            assert "skipped" not in after.output
