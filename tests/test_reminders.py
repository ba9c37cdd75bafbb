"""Calendar reminders: parsed back with the icalendar library, the weekly RRULE expanded with dateutil."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from click.testing import CliRunner
from dateutil.rrule import rrulestr
from icalendar import Calendar

from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.practice import reminders

TODAY = date(2026, 11, 26)       # a Thursday
PRIVATE_WORDS = re.compile(r"vagin|trainer|pelvic|sex|penetrat|voicecoach|exercise|practi[cs]e", re.I)


def event_of(data: bytes):
    cal = Calendar.from_ical(data)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == 1
    return cal, events[0]


def test_weekly_on_the_chosen_days_at_the_chosen_time():
    data = reminders.calendar(reminders.parse_days("mon,wed,fri"), time(20, 0), today=TODAY)
    assert b"RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\r\n" in data
    cal, event = event_of(data)
    assert cal["VERSION"] == "2.0"
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "WE", "FR"]
    start = event.decoded("DTSTART")
    assert start == datetime(2026, 11, 27, 20, 0) and start.tzinfo is None   # floating: 20:00 wherever you are
    assert event.decoded("DURATION") == timedelta(minutes=15)
    upcoming = list(rrulestr(rule.to_ical().decode(), dtstart=start))[:6]
    assert [(d.strftime("%a"), d.strftime("%H:%M")) for d in upcoming] == [
        ("Fri", "20:00"), ("Mon", "20:00"), ("Wed", "20:00"), ("Fri", "20:00"), ("Mon", "20:00"), ("Wed", "20:00")]
    assert upcoming[-1] == datetime(2026, 12, 9, 20, 0)


def test_discreet_private_and_with_a_quiet_alert():
    data = reminders.calendar(("TU", "SA"), time(7, 30), today=TODAY)
    _, event = event_of(data)
    for field in ("SUMMARY", "DESCRIPTION"):
        assert not PRIVATE_WORDS.search(str(event[field])), event[field]
    assert str(event["CLASS"]) == "PRIVATE" and str(event["TRANSP"]) == "TRANSPARENT"
    alarms = [c for c in event.walk() if c.name == "VALARM"]
    assert len(alarms) == 1 and str(alarms[0]["ACTION"]) == "DISPLAY"
    assert alarms[0].decoded("TRIGGER") == timedelta(0)
    assert not PRIVATE_WORDS.search(str(alarms[0]["DESCRIPTION"]))


def test_nothing_in_the_file_names_the_app_or_the_practice():
    # Finding 9 of the second hardening round: the UID ended in "@voicecoach", the PRODID named it too.
    data = reminders.calendar(("TU", "SA"), time(7, 30), today=TODAY)
    assert not PRIVATE_WORDS.search(data.decode()), data.decode()


def test_the_same_reminder_each_time_so_a_new_file_replaces_the_old():
    one = event_of(reminders.calendar(("MO",), time(20, 0), today=TODAY))[1]
    two = event_of(reminders.calendar(("TU",), time(21, 0), today=TODAY))[1]
    assert one["UID"] == two["UID"]


@pytest.mark.parametrize("text, days", [
    ("mon,wed,fri", ("MO", "WE", "FR")), ("Fri, Mon", ("MO", "FR")), ("tuesday,thu", ("TU", "TH")),
    ("daily", ("MO", "TU", "WE", "TH", "FR", "SA", "SU")), ("weekdays", ("MO", "TU", "WE", "TH", "FR")),
    ("su", ("SU",)),
])
def test_days(text, days):
    assert reminders.parse_days(text) == days


@pytest.mark.parametrize("bad", ["", "t", "moon", "mon,funday", ","])
def test_days_that_are_not_days(bad):
    with pytest.raises(VoicecoachError, match="--days"):
        reminders.parse_days(bad)


@pytest.mark.parametrize("bad", ["8pm", "25:00", "20", "20:60", "a:b"])
def test_times_that_are_not_times(bad):
    with pytest.raises(VoicecoachError, match="--at"):
        reminders.parse_time(bad)


def test_first_day():
    assert reminders.first_day(("TH",), TODAY) == TODAY
    assert reminders.first_day(("WE",), TODAY) == date(2026, 12, 2)


def test_remind_command(tmp_path):
    out = tmp_path / "practice.ics"
    result = CliRunner().invoke(cli, ["remind", "--days", "mon,wed,fri", "--at", "20:00", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "MO,WE,FR at 20:00" in result.output
    _, event = event_of(out.read_bytes())
    assert event["RRULE"]["BYDAY"] == ["MO", "WE", "FR"] and event.decoded("DTSTART").time() == time(20, 0)
    titled = CliRunner().invoke(cli, ["remind", "--days", "sat", "--at", "9:15", "--title", "Me time",
                                      "--minutes", "10", "-o", str(out)])
    assert titled.exit_code == 0, titled.output
    _, event = event_of(out.read_bytes())
    assert str(event["SUMMARY"]) == "Me time" and event.decoded("DURATION") == timedelta(minutes=10)


def test_remind_mistakes_leave_the_old_file(tmp_path):
    out = tmp_path / "practice.ics"
    out.write_bytes(b"old calendar")
    for args in (["--days", "someday"], ["--at", "8pm"], ["--title", "   "]):
        result = CliRunner().invoke(cli, ["remind", *args, "-o", str(out)])
        assert result.exit_code == 1 and result.output.startswith("Error: ") and "Traceback" not in result.output
    assert out.read_bytes() == b"old calendar" and [p.name for p in tmp_path.iterdir()] == ["practice.ics"]
