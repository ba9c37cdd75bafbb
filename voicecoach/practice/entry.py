"""One entry of the practice log: a played session, or practice noted by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping

from voicecoach.units import spoken

KINDS = ("session", "trainer", "other")
COMFORT = {1: "very hard", 2: "hard", 3: "okay", 4: "comfortable", 5: "very comfortable"}
# Where an entry came from: played on this computer, noted with a `log` command, or sent by the phone page.
SOURCES = {"player": "played here", "hand": "by hand", "phone": "phone"}


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
    source: str | None = None         # one of SOURCES; None for a session logged before sources were kept

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


def what_was_done(e: LogEntry, defaults: Mapping[str, object] | None = None) -> str:
    """An entry in a few words: "trainer.yaml size=2", "trainer size 1", "other practice, 12 minutes"; settings
    equal to `defaults` (the script's own, which nobody chose) are left out."""
    if e.kind == "trainer":
        what = f"trainer size {e.size}"
    elif e.script:
        hidden = defaults or {}
        what = e.script + "".join(f" {k}={v}" for k, v in e.params.items()
                                  if k not in hidden or str(hidden[k]) != str(v))
    else:
        what = "other practice" if e.kind == "other" else "a session"
    # The time a person noted with --minutes; a played session's length is in its status instead.
    if e.completed_ms is not None and (e.kind != "session" or e.source == "hand"):
        what += f", {spoken(e.completed_ms)}"
    return what
