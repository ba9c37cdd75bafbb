"""Progress through the program, computed from the practice log: pure functions, no files, no clock."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Mapping, Protocol, Sequence

from voicecoach.errors import VoicecoachError
from voicecoach.practice.log import MAX_SIZE, LogEntry

DEFAULT_PER_WEEK = 3     # the leaflet: every day if possible, at least three times a week
COMFORTABLE = 4          # comfort ratings 4 and 5 count as comfortable
HARD = 2                 # ratings 1 and 2 count as hard
MOVE_ON_AFTER = 3        # comfortable days at a stage before the next one is mentioned
HARD_IN_A_ROW = 2        # hard sessions in a row at a stage before an earlier stage is mentioned
TRAINER_SCRIPT = "trainer.yaml"
WEEKS_SHOWN = 12

NOT_ADVICE = ("This is a diary of your own practice, not medical advice. If something hurts or worries you, "
              "a GP or a pelvic health physiotherapist can help.")


class StageLike(Protocol):
    """What progress needs from a program stage (voicecoach.program.Stage has it all)."""
    name: str
    script: Path
    set: Mapping[str, object]
    move_on_when: str
    per_week: int


@dataclass(frozen=True)
class Week:
    start: date          # the Monday
    days: int            # days in the week with any practice


@dataclass(frozen=True)
class Progress:
    today: date
    per_week: int                          # the rhythm asked for: days a week
    weeks: tuple                           # Week, oldest first, ending with this week
    streak: int                            # weeks in a row at the rhythm (this week counts once it gets there)
    total_days: int                        # days with practice, ever
    stage: int | None                      # index of the current stage, None before any stage was practised
    stage_name: str | None
    comfortable: int                       # comfortable days at the current stage since its last hard one
    hard_in_a_row: int                     # latest rated sessions at the current stage that felt hard
    unrated: int                           # entries at the current stage with no comfort noted
    sizes: tuple                           # (date, trainer size) for every trainer practice, oldest first
    suggestion: str

    @property
    def this_week(self) -> int:
        """Days with practice so far this week."""
        return self.weeks[-1].days if self.weeks else 0


def week_start(day: date) -> date:
    """The Monday of the week holding `day`."""
    return day - timedelta(days=day.weekday())


def trainer_size(entry: LogEntry) -> int | None:
    """The trainer size an entry practised with, if it was trainer practice."""
    if entry.size is not None:
        return entry.size
    if entry.script == TRAINER_SCRIPT and "size" in entry.params:
        value = entry.params["size"]
        if not isinstance(value, (str, int, float)):    # params come from JSON: a list, object or null is no size
            return None
        try:
            size = int(value)
        except (TypeError, ValueError, OverflowError):   # "large", inf or nan from a hand-edited log
            return None
        return size if 1 <= size <= MAX_SIZE else None
    return None


def _matches(params: Mapping[str, object], sets: Mapping[str, object]) -> bool:
    return all(str(params.get(k)) == str(v) for k, v in sets.items())


def stage_of(entry: LogEntry, stages: Sequence[StageLike]) -> int | None:
    """The index of the program stage an entry practised, or None (other practice still counts for the week)."""
    if entry.kind == "trainer" or entry.script == TRAINER_SCRIPT:
        size = trainer_size(entry)
        if size is None:
            return None
        trainers = [i for i, s in enumerate(stages) if Path(s.script).name == TRAINER_SCRIPT]
        for pool in (trainers, range(len(stages))):
            for i in pool:
                if str(stages[i].set.get("size")) == str(size):
                    return i
        return None
    if entry.script is None:
        return None
    same = [i for i, s in enumerate(stages) if Path(s.script).name == entry.script]
    exact = [i for i in same if _matches(entry.params, stages[i].set)]
    if exact:
        # A stage with no settings matches any; the stage whose settings say the most is the one played
        # (calm.yaml with size=2 is the stage that sets size 2, not the earlier one that sets nothing).
        return max(exact, key=lambda i: (len(stages[i].set), -i))
    # Played without the settings written out: only a script used by one stage is unambiguous.
    return same[0] if len(same) == 1 else None


def _per_week(days: set[date]) -> Counter:
    return Counter(week_start(d) for d in days)


def _weeks(counts: Counter, today: date, count: int) -> tuple:
    first = week_start(today) - timedelta(weeks=count - 1)
    return tuple(Week(start, counts[start]) for start in (first + timedelta(weeks=n) for n in range(count)))


def _streak(counts: Counter, today: date, per_week: int) -> int:
    streak = 0
    start = week_start(today)
    if counts[start] >= per_week:
        streak += 1
    # A week still under way never breaks the run; any earlier week short of the rhythm does.
    start -= timedelta(weeks=1)
    while counts[start] >= per_week:
        streak += 1
        start -= timedelta(weeks=1)
    return streak


def summarise(entries: Sequence[LogEntry], stages: Sequence[StageLike], today: date,
              weeks: int = WEEKS_SHOWN) -> Progress:
    """Week counts, the run of weeks at the rhythm, the current stage and a kind next step."""
    entries = [e for e in entries if e.day <= today]
    days = {e.day for e in entries}
    counts = _per_week(days)
    per_week = min((s.per_week for s in stages), default=DEFAULT_PER_WEEK) if stages else DEFAULT_PER_WEEK
    placed = [(e, stage_of(e, stages)) for e in entries]
    at_stage = [(e, i) for e, i in placed if i is not None]

    stage = None
    if at_stage:
        last_day = max(e.day for e, _ in at_stage)
        # Working up through the sizes in one sitting: the day's largest is where you are.
        stage = max(i for e, i in at_stage if e.day == last_day)
        per_week = stages[stage].per_week

    here = [e for e, i in at_stage if i == stage]
    rated = [(e.day, e.comfort) for e in here if e.comfort is not None]     # (day, comfort), in order
    hard_in_a_row = 0
    for _, comfort in reversed(rated):
        if comfort > HARD:
            break
        hard_in_a_row += 1
    last_hard = max((k for k, (_, comfort) in enumerate(rated) if comfort <= HARD), default=-1)
    comfortable = len({day for day, comfort in rated[last_hard + 1:] if comfort >= COMFORTABLE})
    unrated = sum(1 for e in here if e.comfort is None)

    sizes = tuple((e.day, s) for e in entries if (s := trainer_size(e)) is not None)
    progress = Progress(
        today=today, per_week=per_week, weeks=_weeks(counts, today, weeks),
        streak=_streak(counts, today, per_week), total_days=len(days),
        stage=stage, stage_name=stages[stage].name if stage is not None else None,
        comfortable=comfortable, hard_in_a_row=hard_in_a_row, unrated=unrated, sizes=sizes, suggestion="",
    )
    return _with_suggestion(progress, stages, bool(entries))


def _play_hint(stage: StageLike) -> str:
    sets = "".join(f" --set {k}={v}" for k, v in stage.set.items())
    return f"`voicecoach play {Path(stage.script).stem}{sets}`"


def _with_suggestion(p: Progress, stages: Sequence[StageLike], any_practice: bool) -> Progress:
    return replace(p, suggestion=suggest(p, stages, any_practice))


def suggest(p: Progress, stages: Sequence[StageLike], any_practice: bool = True) -> str:
    """The next step, in a sentence or three: forward when it is comfortable, back a little when it is hard."""
    if not stages:
        return "Any practice you note here counts. There is no program to follow yet, and that is fine."
    if p.stage is None:
        first = stages[0]
        if any_practice:
            return (f"Everything you have noted counts. When you feel ready, the program starts with "
                    f"{first.name}: {_play_hint(first)}.")
        return (f"Nothing noted yet, and there is no rush. When you feel ready, a gentle place to begin is "
                f"{first.name}: {_play_hint(first)}.")
    here = stages[p.stage]
    move_on_after = getattr(here, "move_on_after", None) or MOVE_ON_AFTER
    if p.hard_in_a_row >= HARD_IN_A_ROW:
        if p.stage > 0:
            back = stages[p.stage - 1]
            return (f"Your last few sessions at {here.name} felt hard. That happens, "
                    f"and it undoes nothing you have done. If you like, spend a few sessions back at {back.name} "
                    f"({_play_hint(back)}) to let things feel easy again, then return to {here.name} "
                    "whenever you feel ready. Go gently with yourself.")
        return (f"Your last few sessions at {here.name} felt hard. That happens, and it is fine to keep them short: "
                "a few calm breaths count as practice too. Go gently with yourself.")
    if p.hard_in_a_row == 1:
        return (f"Your last session at {here.name} felt hard. Some days are like that. Next time you could take "
                "it more slowly, or start at an easier step and work up.")
    rate_hint = (" You can note how a session felt with `voicecoach log rate --comfort 4` "
                 "(1 very hard, 5 very comfortable).") if p.unrated and p.comfortable < move_on_after else ""
    if p.comfortable >= move_on_after:
        if p.stage + 1 < len(stages):
            nxt = stages[p.stage + 1]
            return (f"You have had {_times(p.comfortable)} at {here.name} that felt comfortable. The program's "
                    f"sign for moving on: \"{here.move_on_when}\" If that sounds like you, you could try "
                    f"{nxt.name} when you feel ready ({_play_hint(nxt)}). Staying a while longer is fine too.")
        return (f"You have had {_times(p.comfortable)} at {here.name}, the last stage of the program, that felt "
                "comfortable. Carry on at whatever pace suits you both.")
    so_far = f"so far {_times(p.comfortable)} felt comfortable" if p.comfortable else "there is no hurry"
    return (f"You are working on {here.name}. The program's sign for moving on: \"{here.move_on_when}\" "
            f"Usually that takes about {move_on_after} comfortable sessions; {so_far}.{rate_hint}")


def _times(n: int) -> str:
    return {1: "one session", 2: "two sessions", 3: "three sessions"}.get(n, f"{n} sessions")


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def report(p: Progress) -> str:
    """Progress as a few short lines for the terminal."""
    lines = []
    if p.this_week >= p.per_week:
        lines.append(f"This week: practice on {_days(p.this_week)}. That is the rhythm of at least "
                     f"{p.per_week} a week; well done.")
    elif p.this_week:
        lines.append(f"This week so far: practice on {_days(p.this_week)}. The program suggests at least "
                     f"{p.per_week} a week; a few minutes is enough.")
    else:
        lines.append(f"This week: nothing noted yet. The program suggests at least {p.per_week} days a week, "
                     "whenever suits you.")
    if p.streak:
        lines.append(f"Weeks in a row at that rhythm: {p.streak}.")
    if p.total_days:
        lines.append(f"Days with practice since you started: {p.total_days}.")
    if p.stage_name:
        lines.append(f"Stage: {p.stage_name}. `voicecoach today` plays it, with its settings.")
        if p.sizes:
            lines.append(f"Latest trainer size: {p.sizes[-1][1]}.")
    lines.append("")
    lines.append(p.suggestion)
    lines.append("")
    lines.append(NOT_ADVICE)
    return "\n".join(lines)


@dataclass(frozen=True)
class Today:
    number: int          # 1-based stage number in the program
    stage: StageLike
    why: str             # which stage this is and why, in a sentence or two


def choose_today(p: Progress, stages: Sequence[StageLike], number: int | None = None,
                 asked: Mapping[str, object] | None = None) -> Today:
    """The stage to practise today: the one asked for by number, else where the log says you are (played with
    the settings `asked` on the command line over the stage's own, which the sentence then names)."""
    chosen = _choose_today(p, stages, number)
    own = dict(getattr(chosen.stage, "set", {}) or {})
    changed = {name: value for name, value in (asked or {}).items() if str(own.get(name)) != str(value)}
    if not changed:
        return chosen
    yours = ", ".join(f"{name}={value}" for name, value in changed.items())
    theirs = ", ".join(f"{name}={own[name]}" for name in changed if name in own)
    return replace(chosen, why=f"{chosen.why} With {yours} from --set" +
                   (f" (the stage has {theirs})." if theirs else "."))


def _choose_today(p: Progress, stages: Sequence[StageLike], number: int | None) -> Today:
    if not stages:
        raise VoicecoachError("the program has no stages to play")
    if number is not None:
        if not 1 <= number <= len(stages):
            raise VoicecoachError(f"there is no stage {number}; the program has stages 1 to {len(stages)} "
                                  "(`voicecoach show program` lists them)")
        stage = stages[number - 1]
        return Today(number, stage, f"Stage {number} of {len(stages)}, {stage.name}, as you asked.")
    if p.stage is None:
        stage = stages[0]
        return Today(1, stage, f"Stage 1 of {len(stages)}, {stage.name}: nothing from the program is in your log "
                               "yet, so this is where it begins.")
    here = stages[p.stage]
    why = (f"Stage {p.stage + 1} of {len(stages)}, {here.name}: it is the stage your log shows you working on. "
           f"The program's sign for moving on: \"{here.move_on_when}\"")
    move_on_after = getattr(here, "move_on_after", None) or MOVE_ON_AFTER
    if p.comfortable >= move_on_after and p.stage + 1 < len(stages):
        why += (f" {_times(p.comfortable).capitalize()} here felt comfortable; if that sounds like you, "
                f"`voicecoach today {p.stage + 2}` plays {stages[p.stage + 1].name}.")
    elif p.hard_in_a_row >= HARD_IN_A_ROW and p.stage > 0:
        why += (f" The last few felt hard; `voicecoach today {p.stage}` plays {stages[p.stage - 1].name} "
                "if you would rather go gently today.")
    return Today(p.stage + 1, here, why)
