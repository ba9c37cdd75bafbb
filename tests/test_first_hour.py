"""A newcomer's first hour, through click's CliRunner: every step's output, every suggestion it prints run,
and the README naming every command and option that `--help` has."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from voicecoach import paths
from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.document import Document
from voicecoach.exercise.library import locate
from voicecoach.player import play
from voicecoach.practice.log import open_log, split_rating
from voicecoach.testing import RecordingSink

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

TINY = """
voicecoach: 1
title: My own minute
steps:
  - section: Settle
  - say: Let your shoulders drop.
  - pause: 0.5
  - section: Close
  - say: Well done.
"""


class Terminal:
    """Keys as a terminal gives them, for CliRunner (which has none): no key while playing, one when asked.

    Without a terminal (interactive False) no key ever comes, at once: the instant sink then plays a
    whole session in a moment instead of one poll every tick."""

    def __init__(self, answer: str | None, interactive: bool = True):
        self.answer, self.asked, self.interactive = answer, 0, interactive

    def __call__(self, stream=None):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def read(self, timeout: float):
        if timeout >= play.ASK_FOR:     # the question at the end waits that long; play's ticks never do
            self.asked += 1
            return self.answer
        # Enter goes on from a wait at once (and does nothing else), so a wait never holds real time.
        return "\r" if self.interactive else None


@pytest.fixture
def newcomer(tmp_path, monkeypatch, shared_cache):
    """A user with their own data folder and one script of their own, at home in an unrelated folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    own = paths.user_scripts_dir()
    own.mkdir(parents=True)
    (own / "my-minute.yaml").write_text(textwrap.dedent(TINY).lstrip(), encoding="utf-8")
    # The sound card is what this machine lacks: the recording sink stands in for it, playing instantly.
    monkeypatch.setattr(play, "SimpleaudioOutput", lambda: RecordingSink(instant=True))
    monkeypatch.setattr(play, "Keys", Terminal(None, interactive=False))
    monkeypatch.chdir(tmp_path)

    def run(*args, input=None, ok=True):
        result = CliRunner().invoke(cli, ["--cache-dir", str(shared_cache.root), *map(str, args)], input=input)
        assert "Traceback" not in result.output
        if ok:
            assert result.exit_code == 0, result.output
        return result.output
    return run


def suggestions(text: str) -> list[str]:
    """Every `voicecoach ...` command an output suggests, in backticks."""
    return re.findall(r"`voicecoach ([^`]+)`", text)


def run_suggestions(run, text: str, tmp_path: Path) -> int:
    """Run each suggested command (a FOLDER to write to becomes a fresh one); returns how many ran."""
    ran = 0
    for command in suggestions(text):
        words = command.replace("FOLDER", str(tmp_path / f"out{ran}")).split()
        assert not [w for w in words if re.fullmatch(r"[A-Z]{3,}", w)], f"a placeholder left in `{command}`"
        run(*[w.strip('"') for w in words])
        ran += 1
    return ran


@pytest.mark.slow
def test_a_newcomers_first_hour(newcomer, tmp_path, monkeypatch, private_log):
    run = newcomer
    # Nothing noted yet: progress points at the first stage, and its command works.
    first = run("progress")
    assert "a gentle place to begin is Release and breathing" in " ".join(first.split())
    assert run_suggestions(run, first, tmp_path) == 1

    listed = run("list")
    assert "pelvic-floor-release.yaml" in listed and "Program:" in listed
    assert "Your own scripts" in listed and "my-minute.yaml" in listed and "My own minute" in listed
    assert run_suggestions(run, listed, tmp_path) >= 2        # `voicecoach show program`, play by name

    shown = run("show", "pelvic-floor-release")
    assert "Letting go" in shown or "release" in shown.lower()
    assert "Release and breathing" in run("show", "program")

    typo = run("show", "pelvic-flor-release", ok=False)
    assert "did you mean pelvic-floor-release?" in typo and typo.count("\n") == 1
    exported = run("export", "program", "-o", tmp_path / "all.mp3", ok=False)
    assert "this is a program" in exported and "-d FOLDER" in exported

    # Playing by name, from this unrelated folder; a terminal asks how it felt.
    terminal = Terminal("4")
    monkeypatch.setattr(play, "Keys", terminal)
    played = run("play", "my-minute")
    assert terminal.asked == 1 and "How did that feel?" in played
    assert re.search(r"Saved in your log as entry \d+: my-minute\.yaml, complete, felt comfortable\.", played)

    # today: the stage the log shows, with its settings, said first.
    monkeypatch.setattr(play, "Keys", Terminal("\r"))     # Enter: skipped
    run("log", "trainer", "--size", "2", "--comfort", "4", "first go at size two")
    today = run("today")
    assert today.startswith("Stage 4 of 8, Trainer, size 2: it is the stage your log shows you working on.")
    assert re.search(r"Saved in your log as entry \d+: trainer\.yaml .*size=2.*, complete\.", today)
    assert run_suggestions(run, today, tmp_path) == 1        # `voicecoach log rate N 4`, as printed
    by_number = run("today", "1")
    assert by_number.startswith("Stage 1 of 8, Release and breathing, as you asked.")

    # The log, corrected: rate by number with a plain note, delete one entry after asking, list shows settings.
    with open_log(private_log) as log:
        entries = log.entries()
    assert [(e.script, e.comfort) for e in entries][:1] == [("pelvic-floor-release.yaml", None)]
    trainer_play = next(e for e in entries if e.script == "trainer.yaml")
    assert trainer_play.comfort == 4          # from `log rate N 4`, the suggestion run above
    rated = run("log", "rate", entries[0].id, "3", "a bit tense")
    assert "pelvic-floor-release.yaml" in rated and "okay" in rated
    listing = run("log", "list")
    assert re.search(r"trainer\.yaml .*size=2", listing) and "a bit tense" in " ".join(listing.split())    # wrapped
    kept = run("log", "delete", entries[0].id, input="n\n")
    assert "Nothing was deleted." in kept
    gone = run("log", "delete", entries[0].id, input="y\n")
    assert "Deleted entry" in gone and "other entries are unchanged" in gone
    with open_log(private_log) as log:
        left = log.entries()
    assert [e.id for e in left] == [e.id for e in entries[1:]]     # that one entry, and only it

    later = run("progress")
    assert "Stage:" in later
    run_suggestions(run, later, tmp_path)

    doctor = run("doctor")
    assert "exercise library" in doctor and "practice log" in doctor and "readable by you only" in doctor
    assert "its filters run in voicecoach (libavfilter.so." in " ".join(doctor.split())
    assert doctor.rstrip().endswith("Everything needed is here.")


def test_doctor_says_what_is_missing_and_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))        # no ffmpeg and no speech program on this PATH
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "!!  ffmpeg" in result.output and "sudo apt-get install ffmpeg" in " ".join(result.output.split())
    # Wrapped to 80 columns under each check's name; only a path too long for a line of its own goes past.
    assert all(len(line) <= 80 or len(line[23:].split()) == 1 for line in result.output.splitlines()), result.output
    last = result.output.splitlines()[-1]
    missing = [line[4:23].strip() for line in result.output.splitlines() if line.startswith("!!  ")]
    assert last == (f"Error: {len(missing)} things needed are missing or wrong, marked !! above, each with its fix"
                    if len(missing) > 1 else "Error: 1 thing needed is missing or wrong, marked !! above, each with its fix")


def test_doctor_sees_a_log_others_can_read(tmp_path, private_log):
    with open_log(private_log):
        pass
    private_log.chmod(0o644)
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1 and f"chmod 600 {private_log}" in result.output


def test_sessions_are_found_by_path_file_name_or_name_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    library = paths.scripts_dir()
    assert locate("trainer") == locate("trainer.yaml") == library / "trainer.yaml"
    own = paths.user_scripts_dir()
    own.mkdir(parents=True)
    (own / "trainer.yaml").write_text(textwrap.dedent(TINY), encoding="utf-8")
    assert locate("trainer") == own / "trainer.yaml"           # your own copy comes first
    assert locate(str(library / "trainer.yaml")) == library / "trainer.yaml"
    with pytest.raises(VoicecoachError, match=r"did you mean belly-breathing\?"):
        locate("bely-breathing")


def test_the_library_ships_inside_the_package(tmp_path):
    # What `pip install .` and pipx put in the wheel: setuptools' build_py, from a copy of the tree.
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", "audio_cache", "*.egg-info", "build", "out", ".git", "__pycache__"))
    done = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                           "-d", str(tmp_path / "built")], cwd=tree, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    shipped = tmp_path / "built" / "voicecoach" / "scripts"
    assert sorted(p.name for p in shipped.glob("*.yaml")) == sorted(p.name for p in (ROOT / "scripts").glob("*.yaml"))
    assert not shipped.is_symlink() and (shipped / "program.yaml").read_bytes() == (ROOT / "scripts" / "program.yaml").read_bytes()
    # Installed there, outside a checkout, the library is found in the package.
    check = subprocess.run([sys.executable, "-c", "from voicecoach import paths; print(paths.scripts_dir())"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60,
                           env={"PYTHONPATH": str(tmp_path / "built"), "PATH": "/usr/bin:/bin"})
    assert check.returncode == 0, check.stderr
    assert Path(check.stdout.strip()) == shipped


@pytest.mark.parametrize("words, expected", [
    (["4"], (None, 4, ())),
    (["12", "4"], (12, 4, ())),
    (["12", "very", "hard", "still", "sore"], (12, 1, ("still", "sore"))),
    (["4", "easier", "today"], (None, 4, ("easier", "today"))),
    (["okay"], (None, 3, ())),
    ([], (None, None, ())),
])
def test_log_rate_reads_entry_comfort_and_note(words, expected):
    assert split_rating(words) == expected


def test_log_rate_with_an_entry_number_alone_says_what_to_add():
    with pytest.raises(VoicecoachError, match=r"`voicecoach log rate 12 4`"):
        split_rating(["12"])


@pytest.mark.parametrize("words", [["3", "9"], ["3", "0", "sore"]])
def test_log_rate_with_two_numbers_rates_that_entry_or_refuses(words):
    # "log rate 3 9" once rated the latest entry "okay" with a note of "9".
    with pytest.raises(VoicecoachError, match=rf"{words[1]} is not a comfort from 1 to 5; rate entry 3"):
        split_rating(words)


def test_log_other_takes_what_as_plain_words(private_log):
    result = CliRunner().invoke(cli, ["log", "other", "shower routine", "--minutes", "10"])
    assert result.exit_code == 0, result.output
    with open_log(private_log) as log:
        assert log.entries()[-1].note == "shower routine"


@pytest.mark.parametrize("body, line, words", [
    ("title: x\nsteps:\n  - breathe:\n      cycles: 3\n     in: 4\n", 5, "indented less than the lines around it"),
    ("title: x\nsteps:\n  - say: hi\n - say: bye\n", 4, "indented less than the lines around it"),
    ("title: x\nsteps:\n  - breathe:\n      cycles: 3\n        in: 4\n", 5, "indented more than the line above"),
    ("title: x\nsteps:\n\t- say: hi\n", 3, "a tab at column 1; use spaces"),
    ("title: a: b\n", 1, "a second ':' on this line"),
    ('title: "x\nsteps: []\n', 1, "the quote at column 8 is never closed"),
    ("title: @x\n", 1, "cannot begin with '@'"),
])
def test_yaml_mistakes_in_plain_words_at_their_line(body, line, words):
    with pytest.raises(VoicecoachError) as e:
        Document("x.yaml", body)
    assert str(e.value).startswith(f"x.yaml:{line}: ") and words in str(e.value)
    assert "while parsing" not in str(e.value) and "cannot start any token" not in str(e.value)


def test_voices_lists_the_best_first_with_names_that_work(monkeypatch):
    result = CliRunner().invoke(cli, ["voices"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if re.match(r"\w+:\S", line)]
    assert "best-available" in lines[0] and len(lines) < 20
    assert "`voicecoach voices --all` lists every one" in result.output
    for spec in [line.split()[0] for line in lines]:
        shown = CliRunner().invoke(cli, ["show", "belly-breathing", "--voice", spec, "--json"])
        assert "has no voice" not in shown.output and "no voice" not in shown.output, spec
        break                                           # rendering each would be slow; the names are checked below
    from voicecoach.speech.engines import resolve
    for spec in [line.split()[0] for line in lines]:
        engine = spec.split(":")[0]
        if not any(line.startswith(f"{engine}: not installed") for line in result.output.splitlines()):
            resolve(spec)                               # every short name printed resolves
    typo = CliRunner().invoke(cli, ["show", "belly-breathing", "--voice", "festival:sl"])
    if "not installed" not in typo.output:
        assert "did you mean festival:slt?" in typo.output


def test_sections_are_found_by_the_start_of_their_name_or_number(write_script, cache):
    from voicecoach.exercise.timeline import section_index
    from voicecoach.session import prepare
    timeline = prepare(write_script(TINY), cache).timeline
    assert section_index(timeline, "settle") == section_index(timeline, "1") == 0
    assert section_index(timeline, "clo") == section_index(timeline, "Closs") == 1
    with pytest.raises(VoicecoachError, match="the start of a name or its number is enough"):
        section_index(timeline, "nothing like it")


def test_help_is_a_command():
    result = CliRunner().invoke(cli, ["help", "log", "rate"])
    assert result.exit_code == 0 and "[ENTRY] COMFORT [NOTE]" in result.output
    assert "today" in CliRunner().invoke(cli, ["help"]).output


def _commands(group: click.Group, path=()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_the_readme_names_every_command_and_option_of_help():
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `voicecoach ([a-z ]*[a-z])[^`]*` \|.*$", README, re.M)}
    missing = []
    for path, command in _commands(cli):
        name = " ".join(path)
        if name not in rows:
            missing.append(f"`voicecoach {name}`")
            continue
        # An option is documented in its command's row, or on a README line that uses it with that command.
        beside = [rows[name], *[line for line in README.splitlines() if f"voicecoach {name} " in line]]
        for option in command.params:
            if isinstance(option, click.Option):
                for flag in [*option.opts, *option.secondary_opts]:
                    if not any(re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", line) for line in beside):
                        missing.append(f"`voicecoach {name} {flag}`")
    for flag in ("--cache-dir", "--version"):
        if flag not in README:
            missing.append(f"`voicecoach {flag}`")
    assert not missing, "not in README.md: " + ", ".join(missing)


def _using_it() -> list[str]:
    """The command lines of the README's "Using it" block."""
    section = README[README.index("\n## Using it\n"):]
    block = section[section.index("```sh\n") + 6:]
    return [line for line in block[:block.index("```")].splitlines() if line.strip()]


def _new_user(tmp_path: Path, cache_root: Path) -> dict:
    """The environment of someone who has just installed voicecoach: an empty home of their own, no sound device."""
    home = tmp_path / "home"
    home.mkdir()
    # A sound card that is not there, whatever this machine has: play's answer is then the same everywhere.
    (home / ".asoundrc").write_text("pcm.!default { type hw card 77 }\n", encoding="utf-8")
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "LANG": "C.UTF-8", "VOICECOACH_CACHE": str(cache_root)}    # the shared cache: rendering once is enough
    for name, folder in (("XDG_DATA_HOME", ".local/share"), ("XDG_CONFIG_HOME", ".config"),
                         ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        env[name] = str(home / folder)
    return env


@pytest.mark.slow
def test_every_command_of_the_readmes_using_it_block_works_for_a_new_user(tmp_path, shared_cache):
    # Each line as a new user types it, in a process of its own, in an empty home and an unrelated folder.
    # With no sound device `play` and `today` cannot play: they exit with status 3 and one line holding the
    # export command for the same session; that counts as working when that command then works (exit 0).
    lines = _using_it()
    assert len(lines) >= 8 and all(line.startswith("voicecoach ") for line in lines)
    env, work = _new_user(tmp_path, shared_cache.root), tmp_path / "work"
    work.mkdir()

    def run(words):
        return subprocess.run([sys.executable, "-m", "voicecoach.cli", *words[1:]], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)
    failed = []
    for line in lines:
        words = shlex.split(line, comments=True)
        assert "scripts/" not in line, f"{line}: name the session, so that it works outside a checkout"
        done = run(words)
        if done.returncode == 3 and words[1] in ("play", "today"):
            assert done.stderr.startswith("There is no sound device") and done.stderr.count("\n") == 1, done.stderr
            suggested = shlex.split(re.findall(r"`(voicecoach [^`]+)`", done.stderr)[0])
            done = run(suggested)
            line = f"{line} -> {shlex.join(suggested)}"
        if done.returncode != 0 or "Traceback" in done.stdout + done.stderr:
            failed.append(f"{line}: status {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}")
    assert not failed, "\n".join(failed)
    assert (work / "relax.mp3").is_file() and (work / "exact.wav").is_file() and (work / "session.mp3").is_file()


def test_the_readme_says_what_the_tool_is_before_setting_it_up():
    first = README.split("\n\n")[1]
    assert first.startswith("voicecoach is a voice-guided exercise player")
    assert README.index("make run") > README.index(first) and README.index("make test") < README.index("## Using it")
    assert not re.search(r"^voicecoach [a-z]+ scripts/", README, re.M)     # examples by name, not by checkout path
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", README) if len(p) > 80]
    assert len(paragraphs) == len(set(paragraphs)), "a paragraph said twice"
    sentences = re.split(r"(?<=[.;:])\s", " ".join(README.split()))
    assert len([s for s in sentences if "per core" in s]) == 1, "how many workers a core runs, said once"


@pytest.mark.slow
def test_make_run_without_a_sound_device_writes_the_file_and_says_so_in_one_line(tmp_path, shared_cache, write_script):
    # The Makefile's run recipe (its set-up left out: -o setup), with the checkout's voicecoach and a short session.
    # The README's first command is `make run`: a machine without make cannot follow it (CI installs make).
    assert shutil.which("make") is not None, "make is not installed"
    script = write_script(TINY, "tiny.yaml")
    env = _new_user(tmp_path, shared_cache.root)
    env["VOICECOACH_CONFIG"] = os.environ["VOICECOACH_CONFIG"]     # the fast test voice
    out = tmp_path / "out" / "session.mp3"
    done = subprocess.run(["make", "-o", "setup", "run", f"VC={sys.executable} -m voicecoach.cli", f"SCRIPT={script}",
                           f"OUT={out}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    said = (done.stdout + done.stderr).strip().splitlines()
    assert said == [f"There is no sound device here, so the session was written to {out} instead, to play on any device."]
    assert out.stat().st_size > 10_000


def test_a_program_given_where_a_script_goes_names_the_commands_that_play_it_and_they_run(newcomer, tmp_path):
    run = newcomer
    for command in (["play", "program"], ["render", "program", "-o", tmp_path / "p.wav"],
                    ["log", "session", "program", "--comfort", "3"]):
        said = run(*command, ok=False)
        assert "this is a program of stages, not a script" in said and said.count("\n") == 1, said
        assert suggestions(said) == ["today", "show program"]
    assert run_suggestions(run, said, tmp_path) == 2
    # A program of one's own is named by its path, in commands that take it.
    own = tmp_path / "my program.yaml"
    shutil.copy(locate("program"), own)
    for script in Path(locate("program")).parent.glob("*.yaml"):
        if script.name != "program.yaml":
            shutil.copy(script, tmp_path / script.name)
    said = run("play", own, ok=False)
    assert suggestions(said) == [f"today --program {shlex.quote(str(own))}", f"show {shlex.quote(str(own))}"]
    for command in suggestions(said):
        run(*shlex.split(command))


def test_today_says_which_of_its_settings_a_set_changed(newcomer):
    run = newcomer
    changed = run("today", "4", "--set", "size=3", "--no-log")
    assert changed.startswith("Stage 4 of 8, Trainer, size 2, as you asked. With size=3 from --set "
                              "(the stage has size=2).")
    same = run("today", "4", "--set", "size=2", "--no-log")
    assert same.splitlines()[0] == "Stage 4 of 8, Trainer, size 2, as you asked."
    # A misspelt one is said first, not after the stage was announced with it.
    typo = run("today", "4", "--set", "sise=3", "--no-log", ok=False)
    assert typo.startswith("Error: ") and "did you mean `size`" in typo and "Stage 4" not in typo


def test_a_bad_set_value_is_blamed_on_the_set_and_a_misspelt_one_gets_a_suggestion(newcomer):
    run = newcomer
    negative = run("show", "trainer", "--set", "hold=-3", ok=False)
    assert "--set hold=-3: pause must be a positive number of seconds" in negative
    misspelt = run("show", "trainer", "--set", "siz=2", ok=False)
    assert "did you mean `size`?" in misspelt and misspelt.count("\n") == 1


def test_no_length_and_no_entry_zero_in_the_log(newcomer, tmp_path):
    run = newcomer
    zero = run("log", "other", "--minutes", "0", ok=False)
    assert "less than a second" in zero and "Noted" not in zero
    assert "30 seconds" in run("log", "other", "--minutes", "0.5")
    rated = run("log", "rate", "0", ok=False)
    assert "nor an entry (they count from 1)" in rated and suggestions(rated) == ["log list"]
    assert run_suggestions(run, rated, tmp_path) == 1


def test_today_takes_plays_background_pre_roll_and_keep_alive(newcomer, monkeypatch):
    run = newcomer
    asked: list[dict] = []
    monkeypatch.setattr(play, "play_script", lambda path, cache, **kwargs: asked.append(kwargs) or "done")
    run("today", "1", "--hands-free", "--pre-roll", "5", "--background", "rain", "--background-level", "-12",
        "--no-keep-alive", "--no-log")
    assert len(asked) == 1
    assert {k: asked[0][k] for k in ("hands_free", "pre_roll", "background", "background_level", "keep_alive")} == \
        {"hands_free": True, "pre_roll": 5, "background": "rain", "background_level": -12.0, "keep_alive": False}
    refused = run("today", "1", "--pre-roll", "5", ok=False)
    assert "--pre-roll is for --hands-free" in refused


def test_a_missing_entry_points_to_the_list_and_a_note_given_two_ways_is_two_notes(newcomer, tmp_path):
    run = newcomer
    run("log", "other", "stretching", "--minutes", "10")
    missing = run("log", "rate", "12", "3", ok=False)
    assert "there is no entry 12 in the practice log" in missing
    assert suggestions(missing) == ["log list"] and "stretching" in run(*suggestions(missing)[0].split())
    both = run("log", "rate", "1", "3", "--note", "better after", "tense at first")
    assert both.splitlines()[-1].endswith("Note: stretching; tense at first; better after")


@pytest.mark.parametrize("args, said", [
    (("today", "abc"), "STAGE abc: give a whole number; `voicecoach show program` lists the stages"),
    (("today", "1.5"), "STAGE 1.5: give a whole number"),
    (("show", "shower", "--rate", "500"), "--rate 500: give a whole number from 60 to 400 (words a minute)"),
    (("show", "shower", "--volume", "nan"), "--volume nan: give a number from 0.05 to 1"),
    (("export", "shower", "--background-level", "-3"), "--background-level -3: give a number from -40 to -6"),
    (("log", "list", "--last", "0"), "--last 0: give a whole number of at least 1"),
    (("log", "other", "walk", "--minutes", "1000"), "--minutes 1000: give a number from 0 to 600 (minutes)"),
    (("log", "delete", "abc"), "ENTRY abc: give a whole number; `voicecoach log list` shows each entry's number"),
])
def test_a_number_out_of_its_range_is_refused_in_one_line_naming_the_option(newcomer, args, said):
    result = CliRunner().invoke(cli, list(args))
    out = result.output
    assert result.exit_code == 2 and "Traceback" not in out           # a mistake in the command, as click's are
    assert out.startswith(f"Error: {said}") and out.count("\n") == 1, out      # one line, no usage block
    assert "Invalid value" not in out
    for command in suggestions(out):        # where to look for a stage or an entry works
        newcomer(*shlex.split(command))
