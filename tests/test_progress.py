"""Progress: week counts, the run of weeks at the rhythm, the current stage and kind next steps, on the real
program file and a fixture history."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SCRIPTS

from voicecoach.cli import cli
from voicecoach.exercise.program import load_program
from voicecoach.practice.log import LogEntry
from voicecoach.practice.progress import NOT_ADVICE, Week, report, stage_of, summarise, week_start

STAGES = load_program(SCRIPTS / "program.yaml").stages
RELEASE, FAMILIAR, T1, T2, T3, T4, PARTNER, CONTAINMENT = range(8)
TODAY = date(2026, 11, 25)          # a Wednesday
UNKIND = re.compile(r"\b(must|should|fail\w*|wrong|bad|lazy|behind|missed|need to|only managed)\b", re.I)

_ids = iter(range(1, 10_000))


def entry(day: str, kind: str = "trainer", *, size=None, comfort=None, script=None, params=None,
          completed=None, total=None) -> LogEntry:
    when = datetime.fromisoformat(f"{day}T19:00:00+00:00")
    return LogEntry(id=next(_ids), kind=kind, started=when, finished=when, script=script, params=params or {},
                 size=size, comfort=comfort, completed_ms=completed, total_ms=total)


def trainer(day, size, comfort=None):
    return entry(day, size=size, comfort=comfort)


# Four weeks: 3, 4, 3 practice days, then 1 so far this week; a hard day at size 2 on the 16th.
HISTORY = [
    entry("2026-11-02", "session", script="pelvic-floor-release.yaml", completed=600_000, total=600_000),
    trainer("2026-11-04", 1, 4),
    trainer("2026-11-06", 1, 4),
    entry("2026-11-06", "other"),                      # the same day again: still one day
    trainer("2026-11-09", 1, 5),
    trainer("2026-11-10", 2, 3),
    trainer("2026-11-12", 1, 5),                       # working up within one sitting
    trainer("2026-11-12", 2, 4),
    entry("2026-11-14", "session", script="trainer.yaml", params={"size": "2"}, completed=90_000, total=480_000),
    trainer("2026-11-16", 2, 2),
    trainer("2026-11-18", 2, 4),
    trainer("2026-11-20", 2, 4),
    trainer("2026-11-24", 2, 5),
]


def test_fixture_history_weeks_streak_stage_and_next_step():
    p = summarise(HISTORY, STAGES, TODAY)
    assert [(w.start.isoformat(), w.days) for w in p.weeks[-5:]] == [
        ("2026-10-26", 0), ("2026-11-02", 3), ("2026-11-09", 4), ("2026-11-16", 3), ("2026-11-23", 1)]
    assert len(p.weeks) == 12 and p.weeks[-1].start == week_start(TODAY)
    assert p.this_week == 1 and p.per_week == 3
    assert p.streak == 3                               # this week is under way, so it does not break the run
    assert p.total_days == 11
    assert (p.stage, p.stage_name) == (T2, "Trainer, size 2")
    assert p.comfortable == 3                          # the 18th, 20th and 24th, after the hard day
    assert p.hard_in_a_row == 0 and p.unrated == 1     # the played session on the 14th
    assert "Trainer, size 3" in p.suggestion and "`voicecoach play trainer --set size=3`" in p.suggestion
    assert STAGES[T2].move_on_when in p.suggestion
    assert p.sizes[-1] == (date(2026, 11, 24), 2) and (date(2026, 11, 14), 2) in p.sizes


def test_before_the_third_comfortable_session_there_is_no_hurry():
    p = summarise(HISTORY[:-1], STAGES, date(2026, 11, 23))
    assert p.this_week == 0 and p.streak == 3 and p.comfortable == 2
    assert "Trainer, size 3" not in p.suggestion
    assert "about 3 comfortable sessions; so far two sessions felt comfortable" in p.suggestion


def test_this_week_counts_once_it_reaches_the_rhythm():
    more = HISTORY + [trainer("2026-11-23", 1), entry("2026-11-25", "other")]
    p = summarise(more, STAGES, TODAY)
    assert p.this_week == 3 and p.streak == 4
    assert "That is the rhythm of at least 3 a week" in report(p)


def test_a_week_short_of_the_rhythm_ends_the_run():
    p = summarise([trainer(d, 1) for d in ("2026-11-02", "2026-11-03", "2026-11-04", "2026-11-10",
                                           "2026-11-16", "2026-11-17", "2026-11-18")], STAGES, TODAY)
    assert p.streak == 1
    assert summarise([trainer("2026-11-10", 1)], STAGES, TODAY).streak == 0


def test_future_entries_are_left_for_their_day():
    p = summarise(HISTORY + [trainer("2026-11-30", 3, 4)], STAGES, TODAY)
    assert p.stage == T2 and p.total_days == 11


def test_two_hard_sessions_suggest_an_earlier_stage_kindly():
    p = summarise(HISTORY + [trainer("2026-11-24", 3, 2), trainer("2026-11-25", 3, 1)], STAGES, TODAY)
    assert (p.stage, p.hard_in_a_row, p.comfortable) == (T3, 2, 0)
    assert "felt hard" in p.suggestion and "back at Trainer, size 2" in p.suggestion
    assert "`voicecoach play trainer --set size=2`" in p.suggestion and "whenever you feel ready" in p.suggestion


def test_one_hard_session_is_acknowledged_without_turning_back():
    p = summarise(HISTORY + [trainer("2026-11-25", 3, 2)], STAGES, TODAY)
    assert p.hard_in_a_row == 1
    assert "Some days are like that" in p.suggestion and "Trainer, size 2" not in p.suggestion


def test_a_hard_session_starts_the_comfortable_count_again():
    p = summarise(HISTORY + [trainer("2026-11-25", 2, 2)], STAGES, TODAY)
    assert (p.comfortable, p.hard_in_a_row) == (0, 1)


def test_hard_at_the_first_stage_has_nowhere_earlier_to_go():
    played = [entry(d, "session", script="pelvic-floor-release.yaml", comfort=1) for d in ("2026-11-24", "2026-11-25")]
    p = summarise(played, STAGES, TODAY)
    assert p.stage == RELEASE and "keep them short" in p.suggestion


def test_the_last_stage():
    together = [entry(d, "session", script="containment.yaml", comfort=4) for d in
                ("2026-11-20", "2026-11-22", "2026-11-24")]
    p = summarise(together, STAGES, TODAY)
    assert p.stage == CONTAINMENT and "the last stage of the program" in p.suggestion


def test_an_empty_log_suggests_the_first_stage():
    p = summarise([], STAGES, TODAY)
    assert (p.stage, p.streak, p.this_week, p.total_days) == (None, 0, 0, 0)
    assert "no rush" in p.suggestion and "`voicecoach play pelvic-floor-release`" in p.suggestion
    assert "This week: nothing noted yet" in report(p)


def test_other_practice_counts_for_the_week_but_names_no_stage():
    p = summarise([entry("2026-11-24", "other"), entry("2026-11-25", "session", script="shower.yaml")],
                  STAGES, TODAY)
    assert p.this_week == 2 and p.stage is None and "Everything you have noted counts" in p.suggestion


def test_unrated_sessions_bring_a_hint_to_rate_them():
    played = [entry("2026-11-24", "session", script="trainer.yaml", params={"size": 1})]
    p = summarise(played, STAGES, TODAY)
    assert p.stage == T1 and p.unrated == 1 and "voicecoach log rate --comfort 4" in p.suggestion


@pytest.mark.parametrize("e, stage", [
    (trainer("2026-11-24", 1), T1),
    (trainer("2026-11-24", 4), T4),
    (trainer("2026-11-24", 7), None),
    (entry("2026-11-24", "session", script="trainer.yaml", params={"size": "3", "hold": 8}), T3),
    (entry("2026-11-24", "session", script="trainer.yaml"), None),           # which size? unknown
    (entry("2026-11-24", "session", script="with-a-partner.yaml", params={"size": 1}), PARTNER),
    (entry("2026-11-24", "session", script="with-a-partner.yaml"), PARTNER),  # one stage uses it
    (entry("2026-11-24", "session", script="daily-familiarisation.yaml"), FAMILIAR),
    (entry("2026-11-24", "session", script="belly-breathing.yaml"), None),   # alongside: counts, no stage
    (entry("2026-11-24", "other"), None),
])
def test_which_stage_an_entry_belongs_to(e, stage):
    assert stage_of(e, STAGES) == stage


@dataclass(frozen=True)
class Step:
    """The small interface progress needs, with the optional move_on_after a program may one day carry."""
    name: str
    script: Path
    set: dict = field(default_factory=dict)
    move_on_when: str = "It feels easy."
    per_week: int = 3
    move_on_after: int | None = None


def test_any_stage_list_works_and_move_on_after_is_honoured():
    steps = [Step("Breathing", Path("belly-breathing.yaml"), move_on_after=1), Step("Shower", Path("shower.yaml"))]
    p = summarise([entry("2026-11-25", "session", script="belly-breathing.yaml", comfort=5)], steps, TODAY)
    assert p.stage == 0 and "you could try Shower" in p.suggestion
    assert "Any practice you note here counts" in summarise(HISTORY, [], TODAY).suggestion


def test_every_text_is_kind_and_disclaims_medical_advice():
    scenarios = [
        [], HISTORY, HISTORY[:-1], HISTORY + [trainer("2026-11-24", 3, 2), trainer("2026-11-25", 3, 1)],
        HISTORY + [trainer("2026-11-25", 3, 2)], [entry("2026-11-24", "other")],
        [entry(d, "session", script="pelvic-floor-release.yaml", comfort=1) for d in ("2026-11-24", "2026-11-25")],
        [entry(d, "session", script="containment.yaml", comfort=4) for d in ("2026-11-20", "2026-11-22", "2026-11-24")],
        [entry("2026-11-24", "session", script="trainer.yaml", params={"size": 1})],
    ]
    for history in scenarios:
        text = report(summarise(history, STAGES, TODAY))
        assert not UNKIND.search(text), text
        assert text.endswith(NOT_ADVICE)
        assert text.count("medical advice") == 1


def test_week_start_is_monday():
    assert week_start(date(2026, 11, 29)) == date(2026, 11, 23)
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)
    assert Week(date(2026, 11, 23), 2).days == 2


def test_progress_command(tmp_path):
    db = str(tmp_path / "log.db")
    runner = CliRunner()
    today = date.today()
    for back in (0, 1, 2):
        when = (today - timedelta(days=back)).isoformat()
        result = runner.invoke(cli, ["log", "trainer", "--size", "2", "--comfort", "4", "--when", when, "--db", db])
        assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["progress", "--db", db], obj={})
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())       # wrapped at 80 columns
    assert "Stage: Trainer, size 2." in flat and "you could try Trainer, size 3" in flat
    assert flat.endswith(NOT_ADVICE) and max(map(len, result.output.splitlines())) <= 80
    days_this_week = len({today - timedelta(days=b) for b in (0, 1, 2)} & {week_start(today) + timedelta(days=k)
                                                                         for k in range(7)})
    assert f"practice on {days_this_week} day" in result.output


def test_progress_with_a_broken_program_file(tmp_path):
    broken = tmp_path / "program.yaml"
    broken.write_text("voicecoach: 1\ntitle: x\nstages: []\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["progress", "--db", str(tmp_path / "log.db"), "--program", str(broken)])
    assert result.exit_code == 1 and result.output.startswith(f"Error: {broken}:3:")


def test_looking_at_progress_creates_no_log(tmp_path):
    db = tmp_path / "private" / "log.db"
    result = CliRunner().invoke(cli, ["progress", "--db", str(db)])
    assert result.exit_code == 0 and "Nothing noted yet" in result.output
    assert not db.parent.exists()
