"""The exercise library in scripts/: every script loads, renders, fits, reads kindly and keeps its promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voicecoach.exercise.document import Document
from voicecoach.exercise.program import is_program
from voicecoach.exercise.script import load_script, phrases
from voicecoach.session import prepare

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "scripts").glob("*.yaml") if not is_program(Document.load(p)))
LEAFLET = ROOT.parent / "shared" / "seed" / "000_1063aeddd9a9fb19.txt"
RATES = (None, 120)          # None: the script's own rate, else the calm default

MAX_WORDS = 25
# Words that judge, pressure or hurry someone who is already anxious.
UNKIND = ["must", "fail", "failed", "failure", "failing", "should", "should have", "just relax", "hurry",
          "quick", "quickly", "rush", "wrong", "have to", "need to", "force", "push through", "try harder",
          "simply", "obviously", "don't worry", "calm down", "come on", "no pain", "silly", "stupid",
          "overreact", "in your head", "imagining"]
UNKIND_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in UNKIND) + r")\b", re.IGNORECASE)
CLAIM = re.compile(r"\babout\s+(\d+(?:\.\d+)?)\s*(?:minutes?|mins?)\b", re.IGNORECASE)

EXPECTED = {"pelvic-floor-release", "tummy-release", "belly-breathing", "reverse-kegel", "daily-familiarisation",
            "trainer", "with-a-partner", "containment", "sensate-focus", "when-it-is-hard", "shower"}


def ids(paths):
    return [p.stem for p in paths]


@pytest.fixture(scope="module")
def render(shared_cache):
    """render(path, rate=None, **sets) -> Session, each combination rendered once per test run."""
    done = {}

    def get(path, rate=None, **sets):
        key = (path, rate, tuple(sorted(sets.items())))
        if key not in done:
            done[key] = prepare(path, shared_cache, rate=rate, overrides=sets)
        return done[key]
    return get


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;])\s+", text.strip()) if s]


def spoken(script) -> list[str]:
    """Every line the script speaks, counts excluded."""
    return [t for t in phrases(script.steps) if not t.isdigit()]


def claimed_ms(text: str) -> int:
    found = CLAIM.findall(text)
    assert len(found) == 1, f"expected one 'About N minutes' in {text!r}"
    return round(float(found[0]) * 60_000)


def test_the_library_is_complete():
    assert EXPECTED <= {p.stem for p in SCRIPTS}
    assert (ROOT / "scripts" / "pelvic-floor-release.yaml") in SCRIPTS  # the session `play` runs by default


@pytest.mark.parametrize("path", SCRIPTS, ids=ids(SCRIPTS))
def test_loads_with_title_about_params_and_sections(path):
    script = load_script(path)
    assert script.title and script.about and script.params
    assert sum(type(s).__name__ == "Section" for s in script.steps) >= 2
    assert CLAIM.search(script.about), "the about text states the approximate length"
    if script.length is not None:
        assert claimed_ms(script.length) == claimed_ms(script.about)


@pytest.mark.slow
@pytest.mark.parametrize("rate", RATES, ids=["default-rate", "rate-120"])
@pytest.mark.parametrize("path", SCRIPTS, ids=ids(SCRIPTS))
def test_every_cue_fits_its_interval(render, path, rate):
    # build_timeline refuses a tighten, count, release or breath cue longer than its phase;
    # on top of that no cue may still be sounding when the next one starts.
    timeline = render(path, rate).timeline
    cues = sorted(timeline.cues, key=lambda c: c.start)
    assert cues
    for cue, following in zip(cues, cues[1:]):
        assert cue.end + cue.wait <= following.start, f"{cue.text!r} runs into {following.text!r}"
    assert cues[-1].end + cues[-1].wait <= timeline.length


@pytest.mark.slow
@pytest.mark.parametrize("path", SCRIPTS, ids=ids(SCRIPTS))
def test_rendered_length_is_what_about_claims(render, path):
    session = render(path)
    claim = claimed_ms(session.script.about)
    assert abs(session.timeline.length - claim) <= claim * 0.10, \
        f"{path.name} lasts {session.timeline.length / 60000:.2f} min but its about says {claim / 60000:g}"


@pytest.mark.parametrize("path", SCRIPTS, ids=ids(SCRIPTS))
def test_spoken_lines_are_short_and_kind(path):
    script = load_script(path)
    lines = spoken(script)
    assert any(re.search(r"\byou(r|rs|rself)?\b", line, re.I) for line in lines), "speaks to the listener"
    for line in lines:
        for sentence in sentences(line):
            assert len(sentence.split()) <= MAX_WORDS, f"{len(sentence.split())} words: {sentence!r}"
        assert not UNKIND_RE.search(line), f"{UNKIND_RE.search(line).group(0)!r} in {line!r}"
    assert not UNKIND_RE.search(script.title + " " + script.about)


def test_the_lint_catches_what_it_looks_for():
    assert UNKIND_RE.search("You must relax.") and UNKIND_RE.search("Just relax, there is no hurry.")
    assert not UNKIND_RE.search("Take all the time you need, when you feel ready.")
    assert [len(s.split()) for s in sentences("One two. Three four five! Six?")] == [2, 3, 1]


@pytest.mark.skipif(not LEAFLET.exists(), reason="the leaflet is kept outside the repository")
@pytest.mark.parametrize("path", SCRIPTS, ids=ids(SCRIPTS))
def test_no_sentence_is_copied_from_the_leaflet(path):
    # Our own words: no run of six words in a row taken from the leaflet.
    def words(text):
        return re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))
    leaflet = words(LEAFLET.read_text(encoding="utf-8"))
    runs = {tuple(leaflet[i:i + 6]) for i in range(len(leaflet) - 5)}
    for line in spoken(load_script(path)):
        w = words(line)
        copied = [" ".join(w[i:i + 6]) for i in range(len(w) - 5) if tuple(w[i:i + 6]) in runs]
        assert not copied, f"{path.name}: {copied[0]!r} is the leaflet's wording"


# ---------------------------------------------------------------- the facts

TRAINER = ROOT / "scripts" / "trainer.yaml"


def trainer_rounds(timeline) -> list[dict]:
    """Each tighten -> release -> advance -> hold -> out round of the trainer timeline, in order."""
    rounds, want, current = [], "tighten", {}
    for cue in timeline.cues:
        text = (cue.text or "").lower()
        if want == "tighten" and cue.role == "tighten":
            current, want = {"tighten": cue}, "release"
        elif want == "release" and cue.role == "release":
            current["release"], want = cue, "advance"
        elif want == "advance" and "advance" in text and "inch" in text:
            current["advance"], want = cue, "hold"
        elif want == "hold" and re.search(r"\bhold\b", text):
            current["hold"], want = cue, "out"
        elif want == "out" and re.search(r"\bout\b", text):
            current["out"], want = cue, "tighten"
            rounds.append(current)
    return rounds


@pytest.mark.slow
def test_trainer_tightens_releases_advances_holds_and_comes_out_twice(render):
    session = render(TRAINER, size=2)
    assert session.script.title.endswith("size 2")
    assert any("size 2" in (c.text or "") for c in session.timeline.cues)
    rounds = trainer_rounds(session.timeline)
    assert len(rounds) == 2
    for r in rounds:
        # The tighten cue sounds at the entrance, before the release.
        assert r["tighten"].end <= r["release"].start
        # Nobody can know how long advancing takes: the session waits for a key (or a timeout).
        assert r["advance"].role == "wait" and r["advance"].wait > 0
        assert re.search(r"\b(2|two) or (3|three) inches\b", r["advance"].text)
        # A hold of a few seconds: the quiet between "hold" and "out".
        still = r["out"].start - r["hold"].end
        assert 2_000 <= still <= 10_000, f"the hold lasts {still / 1000:g} s"
        assert "gently" in r["out"].text.lower()
    assert rounds[0]["out"].end <= rounds[1]["tighten"].start


@pytest.mark.slow
def test_trainer_size_changes_the_words_not_the_timing(render):
    one, two, three = render(TRAINER, size=1), render(TRAINER, size=2), render(TRAINER, size=3)
    assert [c.role for c in two.timeline.cues] == [c.role for c in three.timeline.cues]
    assert "size 3" in three.script.title and "size 1" in one.script.title
    # Size 1 leaves out only the suggestion to start with a smaller size.
    said_at_one = {(d.text or "").replace("size 1", "size 3") for d in one.timeline.cues}
    left_out = [c.text for c in three.timeline.cues if (c.text or "") not in said_at_one]
    assert len(left_out) == 1 and "smaller size" in left_out[0]
    assert len(one.timeline.cues) == len(three.timeline.cues) - 1


@pytest.mark.slow
def test_waits_are_for_steps_nobody_can_time(render):
    for name in ("trainer", "with-a-partner", "containment"):
        waits = [c for c in render(ROOT / "scripts" / f"{name}.yaml").timeline.cues if c.role == "wait"]
        assert waits and all(0 < c.wait <= 120_000 for c in waits)
    # Hands-free in the shower: nothing there waits for a key.
    assert not [c for c in render(ROOT / "scripts" / "shower.yaml").timeline.cues if c.role == "wait"]


def test_pelvic_floor_release_rests_longer_than_it_holds():
    from voicecoach.exercise.script import Squeeze
    squeezes = [s for s in load_script(ROOT / "scripts" / "pelvic-floor-release.yaml").steps if isinstance(s, Squeeze)]
    assert squeezes and all(s.rest_ms > s.hold_ms for s in squeezes)


def test_sensate_focus_names_the_clinic_reference():
    about = load_script(ROOT / "scripts" / "sensate-focus.yaml").about
    assert "Sheffield Teaching Hospitals" in about and "pil3291" in about


def test_familiarisation_explains_the_three_words():
    text = " ".join(spoken(load_script(ROOT / "scripts" / "daily-familiarisation.yaml"))).lower()
    for word in ("hypersensitivity", "desensitisation", "familiarisation", "wash"):
        assert word in text


SAFETY_LINE = re.compile(r"\bhurts?\b.*\bbleed(ing)?\b.*\bstop\b", re.IGNORECASE)


@pytest.mark.parametrize("name, sets", [("trainer", ["size=1"]), ("trainer", ["size=3"]), ("with-a-partner", []),
                                        ("with-a-partner", ["size=2"]), ("containment", [])])
def test_sessions_with_penetration_say_when_to_stop(name, sets):
    # The safety guidance reached no spoken line. Each session where something goes inside says, once and
    # kindly, to stop when something hurts or bleeds.
    said = phrases(load_script(ROOT / "scripts" / f"{name}.yaml", sets).steps)
    assert sum(bool(SAFETY_LINE.search(p)) for p in said) == 1, said


def test_the_first_trainer_size_does_not_suggest_a_smaller_one():
    first = phrases(load_script(ROOT / "scripts" / "trainer.yaml", ["size=1"]).steps)
    second = phrases(load_script(ROOT / "scripts" / "trainer.yaml", ["size=2"]).steps)
    assert not any("smaller" in p.lower() for p in first), first
    assert any("smaller size" in p.lower() for p in second), second


LONG_QUIET_MS = 30_000      # a silence this long, with no tone in it, sounds like a file that has stopped


def test_a_listener_is_told_before_each_long_silence_that_has_no_tone():
    from voicecoach.exercise.script import Pause, Say, Section
    for path in sorted((ROOT / "scripts").glob("*.yaml")):
        if path.name == "program.yaml":
            continue
        script = load_script(path)
        quiet, said = False, []
        for step in script.steps:
            if isinstance(step, Section):
                quiet, said = step.keep_alive is False, []
            elif isinstance(step, Say):
                said.append(step.text)
            elif isinstance(step, Pause) and quiet and step.ms >= LONG_QUIET_MS:
                assert any("quiet" in text.lower() for text in said), \
                    f"{path.name}: {step.ms // 1000} s of silence in a quiet section with no word that it is coming"
