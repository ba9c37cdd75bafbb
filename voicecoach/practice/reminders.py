"""`voicecoach remind`: a calendar file with a weekly, discreetly named practice reminder."""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from voicecoach.errors import VoicecoachError, shown
from voicecoach.files import atomic_path, written

DAYS = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA", "sun": "SU"}
_NAMES = dict(zip(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), DAYS.values()))
TITLE = "A few minutes for me"      # says nothing about what, if a calendar is shared or glanced at
DESCRIPTION = "Some quiet time, whenever it suits."
# The same UID each time: importing a new file replaces the old reminder rather than adding a second.
# A bare UUID (as RFC 7986 advises): no domain naming the app, in a calendar anyone may glance at or sync.
UID = str(uuid.uuid5(uuid.NAMESPACE_URL, "voicecoach:reminder"))
PRODID = "-//reminders//EN"         # required by iCalendar; neutral for the same reason


def parse_days(text: str) -> tuple:
    """"mon,wed,fri" (or "daily", "weekdays") -> ("MO", "WE", "FR"), in week order."""
    word = text.strip().lower()
    if word in ("daily", "every day", "everyday"):
        return tuple(DAYS.values())
    if word == "weekdays":
        return ("MO", "TU", "WE", "TH", "FR")
    chosen = set()
    for part in word.replace(" ", ",").split(","):
        if not part:
            continue
        found = [code for name, code in _NAMES.items() if len(part) >= 2 and name.startswith(part)]
        if len(found) != 1:
            raise VoicecoachError(f"--days {shown(text)}: {shown(part)} is not a day; write e.g. mon,wed,fri")
        chosen.add(found[0])
    if not chosen:
        raise VoicecoachError(f"--days {shown(text)}: name at least one day, e.g. mon,wed,fri")
    return tuple(d for d in DAYS.values() if d in chosen)


def parse_time(text: str) -> time:
    """"20:00" or "8:30" -> a time of day."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise VoicecoachError(f"--at {shown(text)}: write a 24-hour time like 20:00") from None


def first_day(days: tuple, after: date) -> date:
    """The first of `days` on or after `after`."""
    wanted = {list(DAYS.values()).index(d) for d in days}
    day = after
    while day.weekday() not in wanted:
        day += timedelta(days=1)
    return day


def calendar(days: tuple, at: time, *, title: str = TITLE, minutes: int = 15, today: date | None = None,
             stamp: datetime | None = None) -> bytes:
    """An iCalendar file with one weekly event on `days` at `at`, in floating local time, with a quiet alert."""
    from icalendar import Alarm, Calendar, Event, vRecur

    today = today or date.today()
    start = datetime.combine(first_day(days, today), at)   # floating: 20:00 wherever you are
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", UID)
    event.add("dtstamp", (stamp or datetime.now(timezone.utc)).replace(microsecond=0))
    event.add("summary", title)
    event.add("description", DESCRIPTION)
    event.add("dtstart", start)
    event.add("duration", timedelta(minutes=minutes))
    event.add("rrule", vRecur(freq="weekly", byday=list(days)))
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT")     # a reminder, not a busy block
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", title)
    alarm.add("trigger", timedelta(0))
    event.add_component(alarm)
    cal.add_component(event)
    return cal.to_ical()


def write_ics(path: str | os.PathLike, days: tuple, at: time, **options) -> Path:
    """Write the reminder calendar atomically."""
    path = Path(path)
    data = calendar(days, at, **options)
    with written(path), atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
