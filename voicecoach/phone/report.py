"""What the phone page sends to the practice log (one played session and how it felt), read as strictly as the `log`
commands read theirs, and today's stage, which the page shows first."""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Mapping

from voicecoach.discreet import session_title
from voicecoach.errors import VoicecoachError, shown
from voicecoach.practice.log import COMFORT, MAX_MINUTES, open_log, read_log
from voicecoach.practice.values import BACKDATE_DAYS, checked_comfort, checked_request, now

MAX_BODY = 2048             # a report is about 150 bytes; anything near this is not one
FIELDS = ("request", "session", "key", "status", "seconds", "comfort", "ended")
STATUSES = ("done", "partial")
# A phone's clock may run a little ahead of the computer's: an end up to this far in the future is taken as now.
CLOCK_SLACK = timedelta(hours=1)
MAX_WHEN = 40               # characters of an ISO 8601 time, with room to spare


class Refused(Exception):
    """A request the server answers with `status` and a one-line `reason`, recording nothing."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Playable:
    """A session the page lists, under the names the log gives it (as `play` and `today` log it)."""
    number: int                     # its number on the page
    script: str                     # the script's file name
    params: Mapping[str, object]    # the script's settings with the stage's `set:` applied
    ms: int                         # its length

    @property
    def key(self) -> str:
        """Which session this is, the same in every sharing of it (see key())."""
        return key(self.script, self.params)


def key(script: str, params: Mapping[str, object]) -> str:
    """A session's name for reports kept on the phone: the same however the program is shared next time (another
    token, discreet or not, another order), and saying nothing of the script's name to anyone reading the page."""
    text = json.dumps([script, dict(params)], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Report:
    """One played session, as the phone sent it and once checked."""
    request: str
    session: Playable
    done: bool
    played_ms: int
    comfort: int | None
    ended: datetime


@dataclass(frozen=True)
class LogTarget:
    """Where the phone's reports go, and what the page may report on: `db` None is the default log."""
    db: Path | None
    sessions: Mapping[int, Playable]
    stages: tuple = ()              # the program's stages (exercise.program.Stage), for today's; () for one script
    stage_sessions: Mapping[int, int] = field(default_factory=dict)  # stage number -> its session's number
    discreet: bool = False
    on_log: Callable[[str], None] | None = field(default=None, compare=False)   # a line for the terminal


def content_type_ok(header: str | None) -> bool:
    """Whether a Content-Type is JSON (in UTF-8, the only encoding JSON has)."""
    # Only JSON: a web page elsewhere cannot send it without the browser asking this server first (which it
    # never allows), so no other site can post into the log even if it guessed the address.
    kind, _, params = (header or "").partition(";")
    if kind.strip().lower() != "application/json":
        return False
    charset = [p.split("=", 1)[1].strip().strip('"').lower() for p in params.split(";") if "=" in p
               and p.split("=", 1)[0].strip().lower() == "charset"]
    return all(c in ("utf-8", "utf8") for c in charset)


def parse(body: bytes, sessions: Mapping[int, Playable], *, clock: Callable[[], datetime] = now) -> Report:
    """A report from a POSTed body; Refused(400, why) for anything a `log` command would refuse, or more."""
    if len(body) > MAX_BODY:
        raise Refused(413, f"a report is at most {MAX_BODY} bytes")

    def once(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise Refused(400, "a field is given twice")
        return dict(pairs)

    def no_constant(name):
        raise Refused(400, f"{name} is not a number")

    try:
        data = json.loads(body.decode("utf-8"), object_pairs_hook=once, parse_constant=no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "the body should be a JSON object")
    unknown = [k for k in data if k not in FIELDS]
    if unknown:
        raise Refused(400, f"unknown field {shown(unknown[0])} (known: {', '.join(FIELDS)})")
    for name in ("request", "session", "status", "seconds"):
        if name not in data:
            raise Refused(400, f"{name} is missing")
    try:
        request = checked_request(data["request"])
        comfort = checked_comfort(data.get("comfort"))
    except VoicecoachError as e:
        raise Refused(400, str(e)) from None
    number, given = data["session"], data.get("key")
    if isinstance(number, bool) or not isinstance(number, int):
        raise Refused(400, f"session {shown(number)} should be a session's number on the page")
    if given is not None and (not isinstance(given, str) or len(given) > 64):
        raise Refused(400, "key should be the key the page gave the session")
    if given is not None:
        # A report kept on the phone since an earlier sharing: its key finds its session wherever it is now.
        found = [s for s in sessions.values() if s.key == given]
        if not found:
            raise Refused(400, "that session is not among the ones shared now")
        session = sessions[number] if number in sessions and sessions[number].key == given else found[0]
    elif number in sessions:
        session = sessions[number]
    else:
        listed = f"1 to {max(sessions)}" if sessions else "none"
        raise Refused(400, f"there is no session {shown(number)} on this page (sessions {listed})")
    status = data["status"]
    if status not in STATUSES:
        raise Refused(400, f"status {shown(status)} should be done or partial")
    seconds = data["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or not 0 <= seconds <= MAX_MINUTES * 60:
        raise Refused(400, f"seconds {shown(seconds)} should be from 0 to {MAX_MINUTES * 60}")
    played = round(seconds * 1000)
    if status == "partial" and played >= session.ms:
        raise Refused(400, f"a partial session stops before its end ({session.ms // 1000} seconds); "
                           "send done instead")
    return Report(request, session, status == "done", min(played, session.ms), comfort,
                  _ended(data.get("ended"), clock()))


def _ended(value, today: datetime) -> datetime:
    if value is None:
        return today
    if not isinstance(value, str) or len(value) > MAX_WHEN:
        raise Refused(400, "ended should be a time like 2026-11-20T19:30:00Z")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise Refused(400, "ended should be a time like 2026-11-20T19:30:00Z") from None
    if when.tzinfo is None:
        raise Refused(400, "ended should say its time zone (Z, or +01:00)")
    try:
        when = when.astimezone(today.tzinfo)
    except (OverflowError, OSError):
        raise Refused(400, "ended is not a time near now") from None
    if when > today + CLOCK_SLACK:
        raise Refused(400, "ended is in the future; the log is for practice already done (check the phone's clock)")
    if when.date() < today.date() - timedelta(days=BACKDATE_DAYS):
        raise Refused(400, "ended is more than ten years ago; the log keeps practice from the last ten years")
    return min(when, today).replace(microsecond=0)


def record(report: Report, db: str | os.PathLike | None) -> tuple[int, bool]:
    """Write `report` to the practice log, once per request id: (the entry's id, whether it is new)."""
    s = report.session
    with open_log(db) as log:
        return log.add_played(s.script, s.params, total_ms=s.ms, completed_ms=s.ms if report.done else report.played_ms,
                              finished=report.ended, comfort=report.comfort, source="phone", request=report.request)


def today(target: LogTarget, day: date | None = None) -> dict:
    """Today's stage as `voicecoach today` chooses it, for the page: {"session": number, "text": one line}."""
    from voicecoach.practice.progress import choose_today, summarise
    if not target.stages:
        # One script shared alone: it is today's session, whatever the log says.
        number = min(target.sessions) if target.sessions else None
        return {"session": number, "text": ""}
    try:
        with read_log(target.db) as log:        # read only: asking for today's stage creates no log
            entries = log.entries()
    except VoicecoachError:
        entries = []                            # an unreadable log: the page still works, from the first stage
    chosen = choose_today(summarise(entries, target.stages, day or date.today()), target.stages)
    number = target.stage_sessions.get(chosen.number, chosen.number)
    if target.discreet:
        return {"session": number, "text": f"Next: {session_title(number)}"}
    return {"session": number,
            "text": f"Today: stage {chosen.number} of {len(target.stages)}, {chosen.stage.name}"}


def said(report: Report, entry: int, new: bool) -> str:
    """One line for the computer's terminal about what the phone logged."""
    if not new:
        return f"The phone sent entry {entry} again; it was already in the log."
    how = "complete" if report.done else f"partial, {report.played_ms // 60_000} min"
    felt = f", {COMFORT[report.comfort]}" if report.comfort else ""
    return f"Logged from the phone: session {report.session.number} ({how}{felt}). Entry {entry}."


def answer(entry: int, new: bool) -> bytes:
    """The JSON body of a recorded report's answer."""
    return json.dumps({"entry": entry, "new": new}).encode()


def program_stages(path: Path) -> tuple:
    """The stages of the program at `path`, or () when it is one script."""
    from voicecoach.exercise.document import Document
    from voicecoach.exercise.program import is_program, program_from_document
    doc = Document.load(path)
    return program_from_document(doc).stages if is_program(doc) else ()
