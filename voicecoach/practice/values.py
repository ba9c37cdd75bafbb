"""What a value entering the practice log may be: typed words read, values checked at the door, rows read back."""

from __future__ import annotations

import json
import math
import os
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Mapping, Sequence, overload

from voicecoach import paths
from voicecoach.errors import VoicecoachError, shown
from voicecoach.exercise.trainers import program_sizes, sizes_text
from voicecoach.practice.entry import COMFORT, KINDS, SOURCES, LogEntry

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


def now() -> datetime:
    """The local time, to the second, with its UTC offset."""
    return datetime.now().astimezone().replace(microsecond=0)


def stamp(when: datetime) -> str:
    """A time as the log stores it: ISO 8601 to the second, with its offset."""
    return when.replace(microsecond=0).isoformat()


# ---------------------------------------------------------------- what a person types

_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10}
_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1),
          "week": timedelta(weeks=1)}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# "2 days ago", "an hour ago", "three weeks ago"; the unit's plural and a few short forms too.
_AGO = re.compile(r"(\d+|[a-z]+)\s*(minute|min|hour|hr|day|week|wk|month|year|yr)s?\s+ago")
_SHORT = {"min": "minute", "hr": "hour", "wk": "week", "yr": "year"}
_MONTHS = {"month": 1, "year": 12}       # counted by the calendar: "a month ago" on 31 March is 28 or 29 February
# A day to come, said in words: "tomorrow", "in 2 days", "next monday", "next week".
_AHEAD = re.compile(r"tomorrow|(the )?day after tomorrow|in\s+(\d+|[a-z]+)\s*[a-z]+|next\s+[a-z]+")
# A time of day after a day said in words: "yesterday 19:30", "monday at 8:15".
_AT_TIME = re.compile(r"(.*?)\s+(?:at\s+)?(\d{1,2}):(\d{2})")
WHEN_WANTED = ("write a day like 2026-11-20 (with a time if you like, 2026-11-20 19:30), or today, yesterday, "
               "2 days ago, 3 hours ago or a weekday such as monday")


def parse_when(text: str, today: datetime | None = None) -> datetime:
    """"today", "yesterday", "2 days ago", "monday", "2026-11-20" or "2026-11-20 19:30" -> a local time (never in
    the future)."""
    today = today or now()
    word = " ".join(text.strip().lower().split())
    when = _relative(word, today, text)
    if when is not None and when > today:       # "today 23:00" said at noon
        raise VoicecoachError(f"--when {shown(text)} is in the future; the log is for practice already done")
    if when is None:
        try:
            if len(word) == 10:
                when = datetime.combine(date.fromisoformat(word), time(12, 0))
            else:
                when = datetime.fromisoformat(word.replace(" ", "T"))
        except ValueError:
            raise VoicecoachError(f"--when {shown(text)}: {WHEN_WANTED}") from None
    # The day is checked first: year 1 or 9999 would overflow the conversion to local time.
    if when.date() > today.date():
        raise VoicecoachError(f"--when {shown(text)} is in the future; the log is for practice already done")
    if when.date() < today.date() - timedelta(days=BACKDATE_DAYS):
        raise VoicecoachError(f"--when {shown(text)} is more than ten years ago; the log keeps practice "
                              "from the last ten years")
    when = when.astimezone() if when.tzinfo is None else when
    if len(word) != 10 and when > (today if today.tzinfo else today.astimezone()):
        raise VoicecoachError(f"--when {shown(text)} is in the future; the log is for practice already done")
    return when.replace(microsecond=0)


def _relative(word: str, today: datetime, text: str) -> datetime | None:
    """A day said in words, as a time in `today`'s zone; None when `word` is not one (a date, perhaps)."""
    at = _AT_TIME.fullmatch(word)
    day_words, clock = (at.group(1), (int(at.group(2)), int(at.group(3)))) if at else (word, None)
    if day_words in ("today", "now", "yesterday", "the day before yesterday", "day before yesterday"):
        day = _days_back(today, {"today": 0, "now": 0, "yesterday": 1}.get(day_words, 2))
    elif day_words.removeprefix("last ") in _WEEKDAYS:
        # The latest such day: today when it is today's name ("monday" on a Monday), a week back with "last".
        name = day_words.removeprefix("last ")
        back = (today.weekday() - _WEEKDAYS.index(name)) % 7
        day = _days_back(today, back or (7 if day_words.startswith("last ") else 0))
    elif _AHEAD.fullmatch(day_words):
        raise VoicecoachError(f"--when {shown(text)} is in the future; the log is for practice already done")
    elif m := _AGO.fullmatch(day_words):
        count, unit = m.groups()
        n = int(count) if count.isdigit() else _NUMBER_WORDS.get(count)
        if n is None:
            raise VoicecoachError(f"--when {shown(text)}: write the number as digits, like 2 days ago")
        unit = _SHORT.get(unit, unit)
        if unit in _MONTHS:
            day = _months_back(today, n * _MONTHS[unit], text)
        else:
            step = _UNITS[unit]
            if n * step.total_seconds() > (BACKDATE_DAYS + 1) * 86_400:
                raise VoicecoachError(f"--when {shown(text)} is more than ten years ago; the log keeps practice "
                                      "from the last ten years")
            if clock is not None and step < timedelta(days=1):
                raise VoicecoachError(f"--when {shown(text)}: give either a time ago or a time of day, not both")
            day = _days_back(today, n * step.days) if step.days else today - step * n
    else:
        return None
    if clock is None:
        return day
    hour, minute = clock
    if hour > 23 or minute > 59:
        raise VoicecoachError(f"--when {shown(text)}: {hour}:{minute:02d} is not a time of day (00:00 to 23:59)")
    return day.replace(hour=hour, minute=minute, second=0).replace(tzinfo=None).astimezone()


def _months_back(today: datetime, months: int, text: str) -> datetime:
    """The same day `months` back by the calendar (the month's last day when it is shorter), at today's time."""
    import calendar  # only here: every command that opens the log imports this module
    if months > BACKDATE_DAYS // 28:
        raise VoicecoachError(f"--when {shown(text)} is more than ten years ago; the log keeps practice "
                              "from the last ten years")
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return today.replace(tzinfo=None, year=year, month=month + 1, day=day).astimezone()


def _days_back(today: datetime, days: int) -> datetime:
    # By the calendar: the same time of day `days` back, in the offset that day had (summer time or not).
    return (today.replace(tzinfo=None) - timedelta(days=days)).astimezone() if days else today


def parse_comfort(text: str | int | None) -> int | None:
    """"4", "comfortable", "hard", "ok" ... -> 1..5 (1 very hard, 3 okay, 5 very comfortable)."""
    if text is None or isinstance(text, int):
        return checked_comfort(text)
    raw = str(text).strip()
    # The sign is read before hyphens become spaces: "-5" is minus five (refused), not 5.
    if re.fullmatch(r"[+-]?\d+", raw):
        return checked_comfort(int(raw) if len(raw) <= 20 else MAX_ID)
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
        if words[1].isdigit():
            # Two numbers are an entry and how it felt: never a comfort and a note of a number.
            raise VoicecoachError(f"{words[1]} is not a comfort from 1 to 5; rate entry {words[0]} with, e.g., "
                                  f"`voicecoach log rate {words[0]} 4`")
    comfort, n = comfort_at(0)
    if comfort is not None:
        return None, comfort, words[n:]
    if words and words[0].isdigit():
        if int(words[0]) < 1:
            raise VoicecoachError(f"{words[0]} is neither a comfort from 1 to 5 nor an entry (they count from 1); "
                                  "`voicecoach log list` shows their numbers")
        raise VoicecoachError(f"{words[0]} is not a comfort from 1 to 5; to rate entry {words[0]}, add how it felt: "
                              f"`voicecoach log rate {words[0]} 4`")
    return None, None, words


# ---------------------------------------------------------------- values at the door (VoicecoachError)

def checked_params(params: Mapping, error: type[Exception]) -> dict[str, object]:
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


def params_text(params: Mapping[str, object] | None) -> str:
    """The settings as the log stores them (JSON), once checked."""
    values = checked_params({str(k): v for k, v in (params or {}).items()}, VoicecoachError)
    return json.dumps(values, ensure_ascii=False, sort_keys=True, allow_nan=False)


def script_name(script: str | os.PathLike) -> str:
    """The name a script is logged under: its file name, short and on one line."""
    name = Path(script).name
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise VoicecoachError(f"the script name {shown(name)} cannot be logged (up to {MAX_NAME} characters, "
                              "on one line)")
    return name


def checked_request(request) -> str:
    """A request's id as a client makes it: 16 to 64 letters, digits, - and _ (a random one per entry)."""
    if not isinstance(request, str) or not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", request):
        raise VoicecoachError(f"the request id {shown(request)} should be 16 to 64 letters, digits, - or _")
    return request


def entry_id(entry) -> int:
    """An entry's number, if it can be one."""
    if isinstance(entry, bool) or not isinstance(entry, int) or not 1 <= entry <= MAX_ID:
        raise VoicecoachError(f"there is no entry {shown(entry)} in the practice log (`voicecoach log list` "
                              "shows their numbers)")
    return entry


def minutes_ms(minutes) -> int | None:
    """--minutes as whole milliseconds."""
    if minutes is None:
        return None
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not math.isfinite(minutes) \
            or not 0 <= minutes <= MAX_MINUTES:
        raise VoicecoachError(f"--minutes {shown(minutes)} should be from 0 to {MAX_MINUTES}")
    if round(minutes * 60_000) < 1000:
        # Under a second is no length anyone means: "0 seconds" in the log would only look like a mistake.
        raise VoicecoachError(f"--minutes {minutes:g} is less than a second; give about how long it took "
                              "(0.5 is half a minute), or leave --minutes out")
    return round(minutes * 60_000)


@overload
def checked_ms(value: None, what: str) -> None: ...
@overload
def checked_ms(value: int, what: str) -> int: ...
@overload
def checked_ms(value: int | None, what: str) -> int | None: ...
def checked_ms(value, what: str) -> int | None:
    """A length in whole milliseconds, up to a day."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MS:
        raise VoicecoachError(f"{what} must be a whole number of milliseconds up to a day, not {shown(value)}")
    return value


def checked_size(size) -> int | None:
    """A trainer size, 1 to MAX_SIZE."""
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE):
        raise VoicecoachError(f"trainer size {shown(size)} should be a whole number from 1 to {MAX_SIZE}")
    return size


def trainer_sizes() -> tuple[int, ...]:
    """The trainer sizes the programs name (the library's and your own), or 1 to MAX_SIZE when none names any."""
    found = set(program_sizes(paths.scripts_dir())) | set(program_sizes(paths.user_scripts_dir()))
    return tuple(sorted(s for s in found if 1 <= s <= MAX_SIZE)) or tuple(range(1, MAX_SIZE + 1))


def given_size(text: str | int, sizes: Sequence[int]) -> int:
    """`log trainer --size` as typed: one of `sizes`, the program's trainers."""
    raw = str(text).strip()
    # "2.0" is size 2, as `--set size=2.0` already takes it; 2.5 is no trainer.
    size = int(float(raw)) if re.fullmatch(r"[+-]?\d{1,6}(\.0*)?", raw) else None
    if size is None or size not in sizes:
        example = sizes[1] if len(sizes) > 1 else sizes[0]
        raise VoicecoachError(f"--size {shown(text) if size is None else size}: the program's trainers are "
                              f"{sizes_text(tuple(sizes))}; give one of those, e.g. --size {example}")
    return size


def checked_comfort(comfort) -> int | None:
    """A comfort, 1 to 5."""
    if comfort is not None and (isinstance(comfort, bool) or not isinstance(comfort, int) or comfort not in COMFORT):
        raise VoicecoachError(f"comfort {shown(comfort)} should be 1 to 5 (1 very hard, 3 okay, 5 very comfortable)")
    return comfort


def checked_note(note: str | None) -> str | None:
    """A note, stripped, up to MAX_NOTE characters (None when empty)."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise VoicecoachError("the note should be a text")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise VoicecoachError(f"the note is {len(note)} characters; the log keeps notes up to {MAX_NOTE}")
    return note or None


def joined_notes(old: str, new: str) -> str:
    """A note added to the one an entry has: both kept, the new one after; the same words given again are not
    written twice (a command run again)."""
    before = old[: len(old) - len(new)].rstrip()
    if old == new or (old.endswith(new) and before[-1:] in ".!?;"):
        return old                              # added already, as the last of its notes
    if new.startswith(old):
        return new                              # the note typed again with more at its end: all of it is kept
    end = old.rstrip()
    joined = f"{end} {new}" if end[-1:] in ".!?;" else f"{end}; {new}"
    if len(joined) > MAX_NOTE:
        raise VoicecoachError(f"the entry already has a note, and with this one it would be {len(joined)} characters; "
                              f"the log keeps notes up to {MAX_NOTE} (--replace-note puts the new one in its place)")
    return joined


# ---------------------------------------------------------------- rows read back (ValueError)

def entry_of_row(row) -> LogEntry:
    """A row as an entry; ValueError, naming the field, for anything an entry cannot hold (nothing else raises)."""
    (id_, kind, started, finished, script, params, size, comfort, completed, total, note, source) = row
    if kind not in KINDS:
        raise ValueError(f"unknown kind {shown(kind)}")
    if source is not None and source not in SOURCES:
        raise ValueError(f"unknown source {shown(source)}")
    start = _read_stamp(started, "start")
    end = None if finished is None else _read_stamp(finished, "end")
    if end is not None and end < start:
        raise ValueError("ends before it starts")
    if script is not None and not (isinstance(script, str) and 0 < len(script) <= MAX_NAME):
        raise ValueError(f"script {shown(script)} is not a script's name")
    values = _read_params(params)
    for name, value, check in (("trainer size", size, checked_size), ("comfort", comfort, checked_comfort),
                               ("completed_ms", completed, lambda v: checked_ms(v, "completed_ms")),
                               ("total_ms", total, lambda v: checked_ms(v, "total_ms"))):
        try:
            check(value)
        except VoicecoachError:
            raise ValueError(f"{name} {shown(value)} is out of range") from None
    if note is not None and not (isinstance(note, str) and len(note) <= MAX_NOTE):
        raise ValueError("the note is not a text of up to 2000 characters")
    return LogEntry(id=id_, kind=kind, started=start, finished=end, script=script, params=values, size=size,
                    comfort=comfort, completed_ms=completed, total_ms=total, note=note, source=source)


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
        return checked_params(values, ValueError)
    except (ValueError, RecursionError):
        raise ValueError(f"its settings {shown(text)} cannot be read") from None


# ---------------------------------------------------------------- the export's cells

def csv_minutes(ms: int | None) -> str:
    """A length as the CSV export writes it: minutes, read at a glance in a spreadsheet."""
    # Two decimals keep the log's second-level detail (0.6 s).
    return "" if ms is None else f"{ms / 60_000:.2f}"


def csv_cell(value) -> object:
    """A value as the CSV export writes it: blank for none."""
    return "" if value is None else value
