"""Issue 26, items 3 to 5: listings that fit an 80-column terminal with real data, whole-sentence short help,
notes that are kept, and values checked where they are given, in one line that names the value and what is allowed."""

from __future__ import annotations

import re
from datetime import datetime

import click
import pytest
from click.testing import CliRunner

from voicecoach import paths
from voicecoach.catalogue import without_length
from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.program import load_program
from voicecoach.exercise.script import load_script
from voicecoach.exercise.trainers import program_sizes, sizes_text
from voicecoach.practice import log as practice
from voicecoach.practice.log import open_log, read_log
from voicecoach.units import spoken

COLUMNS = 80


def run(*args, ok: bool = True, **kwargs):
    result = CliRunner(env={"COLUMNS": str(COLUMNS)}).invoke(cli, [str(a) for a in args], **kwargs)
    if ok:
        assert result.exit_code == 0, (args, result.output, result.exception)
    return result


def one_line_error(result) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def too_wide(text: str) -> list[str]:
    # A path longer than the line has a line of its own, whole, so that it can be copied. Columns, not
    # characters: a wide (Japanese) character takes two.
    from voicecoach.cli.layout import cells
    return [line for line in text.splitlines() if cells(line) > COLUMNS and not re.fullmatch(r"\s*/\S+", line)]


# ---------------------------------------------------------------- 3. listings fit 80 columns

@pytest.mark.slow
def test_list_fits_80_columns_and_says_each_length_once(shared_cache):
    out = run("--cache-dir", shared_cache.root, "list").output
    assert too_wide(out) == []
    assert not re.search(r"\babout \d+ minutes\.", out, re.I)       # the column says the length; the text does not
    assert "Slow breaths into the belly" in out and "pelvic-floor-release.yaml" in out
    # A description wraps under its script, indented; the program's stages still list one a line.
    assert re.search(r"^    \S", out, re.M)
    assert re.search(r"^\s+3\. Trainer, size 1\s+(\d+:\d\d|about \d+ min)\s+trainer\.yaml --set size=1$", out, re.M)


def test_list_fits_with_long_names_descriptions_and_broken_scripts(tmp_path, cache):
    long = "a-script-whose-name-goes-on-for-a-good-while.yaml"
    (tmp_path / long).write_text("voicecoach: 1\ntitle: A title that is itself rather long, longer than most titles\n"
                                 f"about: {'Words that go on and on. ' * 12}About 12 minutes.\n"
                                 "steps:\n  - say: Hello.\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("voicecoach: 1\ntitle: Broken\nsteps: nope\n", encoding="utf-8")
    out = run("--cache-dir", cache.root, "list", "--dir", tmp_path).output
    assert too_wide(out) == [] and long in out and "About 12 minutes" not in out
    assert re.search(r"^broken\.yaml +\(cannot be read\)$", out, re.M) and "    line 3: steps must be a list" in out


def test_without_length_drops_only_a_sentence_saying_the_length():
    assert without_length("Slow breaths. About 5 minutes.") == "Slow breaths."
    assert without_length("Up to about a minute each. Takes 5-10 min.") == "Up to about a minute each."
    assert without_length("Ten minutes a day helps.") == "Ten minutes a day helps."


def test_log_list_fits_80_columns_and_leaves_out_the_settings_nobody_chose(private_log):
    defaults = dict(load_script(paths.scripts_dir() / "trainer.yaml").params)
    with open_log(private_log) as log:
        played = log.start("trainer.yaml", defaults, 400_000)
        log.finish(played, 100_000)
        chosen = log.start("pelvic-floor-release.yaml", {"hold": 8, "rest": 10, "reps": 6}, 300_000)
        log.finish(chosen, 300_000)
        log.rate(chosen, comfort=5, note="calmer than last week, and the breathing helped a great deal, I think")
        partner = log.start("with-a-partner.yaml", {"size": 1}, 300_000)
        log.finish(partner, 300_000)
        log.add("other", minutes=12.5, note="shower routine", comfort=4)
        log.add("trainer", size=2, comfort=2, note="x" * 300)
    out = run("log", "list").output
    assert too_wide(out) == []
    words = " ".join(out.split())
    assert "trainer.yaml size=1, partial" in words or "trainer.yaml size=1 partial" in words
    assert "tighten=" not in out and "settle=" not in out       # the trainer's own defaults, never chosen
    assert "pelvic-floor-release.yaml hold=8" in words and "rest=10" not in out
    assert "with-a-partner.yaml size" not in out                 # its title does not name the size
    assert "12 minutes 30 seconds" in words and "the breathing helped a great deal" in words


@pytest.mark.slow
def test_export_to_a_folder_summary_fits_80_columns(tmp_path, shared_cache):
    program = tmp_path / "p"
    program.mkdir()
    (program / "a-session-with-a-rather-long-name-indeed.yaml").write_text(
        "voicecoach: 1\ntitle: A session whose title is long enough to make a long file name\n"
        "steps:\n  - say: Hello.\n", encoding="utf-8")
    (program / "program.yaml").write_text(
        "voicecoach: 1\ntitle: Mine\nstages:\n  - stage: The first and only stage of this little program\n"
        "    script: a-session-with-a-rather-long-name-indeed.yaml\n    move_on_when: It feels easy.\n"
        "    frequency: every day\n", encoding="utf-8")
    out = run("--cache-dir", shared_cache.root, "export", program / "program.yaml", "-d",
              tmp_path / "exported", "-f", "wav").output
    assert too_wide(out) == [] and "LUFS" in out


def walk(command: click.Command, ctx: click.Context):
    yield command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))


def test_the_log_commands_short_help_is_a_whole_sentence_in_80_columns():
    log_group = cli.get_command(click.Context(cli), "log")
    help_text = run("log", "--help").output
    assert too_wide(help_text) == []
    commands = help_text.split("Commands:")[1]
    assert "..." not in commands and "e.g.\n" not in commands
    for name in log_group.list_commands(click.Context(log_group)):
        line = next(line for line in commands.splitlines() if line.split()[:1] == [name])
        assert line.rstrip().endswith("."), line


def test_every_short_help_is_a_whole_sentence():
    # Every command and group, as `voicecoach --help` and each group's --help list them at 80 columns.
    cut = []
    for command, ctx in walk(cli, click.Context(cli, info_name="voicecoach")):
        if not isinstance(command, click.Group):
            continue
        out = run(*(ctx.command_path.split()[1:]), "--help").output
        assert too_wide(out) == [], out
        listed = out.split("Commands:")[1]
        cut += [line.strip() for line in listed.splitlines() if line.rstrip().endswith("...") or
                (line.strip() and not line.rstrip().endswith("."))]
    assert cut == []


# ---------------------------------------------------------------- 4. notes are kept

def test_rating_adds_to_the_note_and_says_the_whole_note(private_log):
    run("log", "trainer", "--size", "2", "first go at size two")
    run("log", "other", "--when", "2 days ago", "--minutes", "10", "shower")      # noted last, dated earlier
    latest = run("log", "rate", "4").output
    assert "Entry 2." in latest and "comfortable" in latest       # the entry just noted, not the newest by date
    rated = run("log", "rate", "1", "3", "a bit tense").output
    assert "Note: first go at size two; a bit tense" in rated
    run("log", "rate", "1", "3", "a bit tense")                     # the same words again are not written twice
    with read_log(private_log) as log:
        assert log.get(1).note == "first go at size two; a bit tense" and log.get(1).comfort == 3
        assert log.get(2).comfort == 4 and log.get(2).note == "shower"
    replaced = run("log", "rate", "1", "4", "easier", "--replace-note").output
    assert "Note: easier" in replaced and "tense" not in replaced


def test_the_suggested_replace_note_command_works(private_log):
    run("log", "trainer", "--size", "1", "first")
    suggestion = one_line_error(run("log", "rate", "--replace-note", ok=False))
    command = re.search(r"`voicecoach (log rate [^`]+)`", suggestion).group(1)
    run(*[w.strip('"') for w in re.findall(r'"[^"]*"|\S+', command)])
    with read_log(private_log) as log:
        assert log.get(1).note == "easier" and log.get(1).comfort == 4


def test_a_note_goes_to_the_entry_named_without_rating_it(private_log):
    # `log rate 1 --note calmer` rates the last entry "very hard"; adding a note to entry 1 needs its own words.
    run("log", "trainer", "--size", "1", "first")
    run("log", "trainer", "--size", "2", "--comfort", "4")
    said = run("log", "note", "1", "calmer today").output
    assert "Entry 1." in said and "Note: first; calmer today" in said
    assert "Entry 2." in run("log", "note", "about the last one").output
    with read_log(private_log) as log:
        assert (log.get(1).comfort, log.get(1).note) == (None, "first; calmer today")
        assert (log.get(2).comfort, log.get(2).note) == (4, "about the last one")
    assert "Note: only this" in run("log", "note", "1", "only this", "--replace-note").output
    # A lone number is an entry without its words; the command offered instead works.
    suggestion = one_line_error(run("log", "note", "2", ok=False))
    command = re.search(r"`voicecoach (log note [^`]+)`", suggestion).group(1)
    run(*[w.strip('"') for w in re.findall(r'"[^"]*"|\S+', command)])
    with read_log(private_log) as log:
        assert log.get(2).note == "about the last one; calmer today" and log.get(2).comfort == 4
    assert "no entry 9" in one_line_error(run("log", "note", "9", "x", ok=False))


def test_log_other_says_its_minutes():
    assert "other practice, 12 minutes" in run("log", "other", "--minutes", "12", "walk").output
    assert "12 minutes" in run("log", "list").output


@pytest.mark.parametrize("args", [("log", "rate", "4"), ("log", "delete", "1", "--yes"), ("log", "note", "words")])
def test_a_missing_log_is_one_calm_line_and_is_not_created(args, private_log):
    result = run(*args, ok=False)
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not private_log.exists() and not private_log.parent.exists()


# ---------------------------------------------------------------- 5. values checked where they are given

@pytest.mark.parametrize("value", ["abc", "7", "0", "2.5"])
@pytest.mark.parametrize("command", [["show"], ["log", "session"]])
def test_a_trainer_size_outside_the_programs_trainers_is_refused(command, value):
    error = one_line_error(run(*command, "trainer", "--set", f"size={value}", ok=False))
    assert f"--set size={value}" in error and "the program's trainers are sizes 1 to 4" in error


def test_a_number_parameter_given_a_word_is_refused_naming_it():
    error = one_line_error(run("show", "pelvic-floor-release", "--set", "hold=long", ok=False))
    assert "--set hold='long'" in error or "--set hold=long" in error
    assert "hold is a number" in error and "pelvic-floor-release.yaml" in error


def test_the_program_names_the_trainer_sizes():
    assert program_sizes(paths.scripts_dir()) == (1, 2, 3, 4)
    assert [s.set.get("size") for s in load_program(paths.scripts_dir() / "program.yaml").stages
            if s.script.name == "trainer.yaml"] == [1, 2, 3, 4]
    assert sizes_text((1, 2, 5)) == "sizes 1, 2 and 5" and sizes_text((3,)) == "size 3"


def test_a_program_of_your_own_with_more_sizes_allows_them(tmp_path):
    (tmp_path / "mine.yaml").write_text("voicecoach: 1\ntitle: Size $size\nparams: {size: 1}\n"
                                        "steps:\n  - say: Hello.\n", encoding="utf-8")
    (tmp_path / "program.yaml").write_text(
        "voicecoach: 1\ntitle: Mine\nstages:\n" + "".join(
            f"  - stage: Size {n}\n    script: mine.yaml\n    set: {{size: {n}}}\n    move_on_when: Easy.\n"
            f"    frequency: every day\n" for n in (1, 5, 6)), encoding="utf-8")
    assert load_script(tmp_path / "mine.yaml", {"size": 6}).title == "Size 6"
    with pytest.raises(VoicecoachError, match="sizes 1, 5 and 6"):
        load_script(tmp_path / "mine.yaml", {"size": 2})


@pytest.mark.parametrize("size", ["7", "0", "abc", "-1"])
def test_log_trainer_size_is_one_of_the_programs(size, private_log):
    error = one_line_error(run("log", "trainer", f"--size={size}", ok=False))
    assert "the program's trainers are sizes 1 to 4" in error and size.lstrip("-") in error
    assert not private_log.exists()


def test_today_0_is_refused_naming_the_stages():
    error = one_line_error(run("today", "0", ok=False))
    assert "there is no stage 0; the program has stages 1 to 8" in error


@pytest.mark.parametrize("text, days, hour", [("2 days ago", 2, 15), ("two days ago", 2, 15), ("a week ago", 7, 15),
                                              ("yesterday 19:30", 1, 19), ("3 hours ago", 0, 12),
                                              ("monday", 4, 15), ("last friday", 7, 15), ("day before yesterday", 2, 15),
                                              ("a month ago", 30, 15), ("3 months ago 19:30", 91, 19),
                                              ("a year ago", 365, 15), ("10 years ago", 3652, 15)])
def test_relative_dates_are_understood(text, days, hour):
    today = datetime(2026, 12, 4, 15, 0).astimezone()        # a Friday
    when = practice.parse_when(text, today)
    assert (today.date() - when.date()).days == days and when.hour == hour


@pytest.mark.parametrize("text, said", [("5000 days ago", "more than ten years ago"),
                                        ("today 23:00", "in the future"), ("friday 25:00", "not a time of day"),
                                        ("2026-12-04 23:59", "in the future"), ("tomorrow", "in the future"),
                                        ("in 2 days", "in the future"), ("next monday", "in the future"),
                                        ("the day after tomorrow", "in the future"), ("11 years ago", "more than ten")])
def test_relative_dates_that_cannot_be_are_refused_kindly(text, said):
    with pytest.raises(VoicecoachError, match=said) as refused:
        practice.parse_when(text, datetime(2026, 12, 4, 15, 0).astimezone())
    assert repr(text) in str(refused.value)


def test_log_accepts_a_relative_date():
    noted = run("log", "other", "--when", "2 days ago", "walk").output
    assert noted.startswith("Noted: other practice, ")


def test_a_long_pause_says_its_length_in_minutes(write_script):
    path = write_script("voicecoach: 1\ntitle: Long\nsteps:\n  - pause: 61m\n")
    with pytest.raises(VoicecoachError, match="pause is 61 minutes; the longest allowed is 60 minutes"):
        load_script(path)


def test_spoken_lengths():
    assert [spoken(ms) for ms in (1000, 2500, 60_000, 3_660_000, 90_500, 7_200_000)] == \
        ["1 second", "2.5 seconds", "1 minute", "61 minutes", "1 minute 30.5 seconds", "2 hours"]


def test_titles_abouts_and_notes_in_wide_characters_fit_80_columns(tmp_path):
    own = paths.user_scripts_dir()
    own.mkdir(parents=True)
    (own / "wide.yaml").write_text(
        "voicecoach: 1\ntitle: Ünïcödé 日本語 morning routine with a rather long title that goes on 日本語日本語日本語\n"
        "about: 日本語の説明文です。とても長い説明文がここに続きます。日本語の説明文です。とても長い説明文がここに続きます。"
        " And some English words after it.\nsteps:\n  - say: Hello.\n", encoding="utf-8")
    run("log", "other", "日本語のメモ " * 7 + "とても長い", "--minutes", "5")
    listed = run("--cache-dir", tmp_path / "cache", "list").output + run("log", "list").output
    assert too_wide(listed) == []
    # Nothing is lost to the wrapping: every character of the title, the about and the note is there.
    joined = "".join(listed.split())
    for text in ("日本語日本語日本語", "とても長い説明文がここに続きます。日本語の説明文です。", "日本語のメモ" * 7 + "とても長い"):
        assert text in joined
