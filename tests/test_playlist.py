"""A program folder's playlist: extended M3U that parses back, names a phone accepts."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicecoach.export.playlist import PlaylistEntry, m3u8, parse_m3u8, safe_name, stage_file

ENTRIES = [PlaylistEntry("01 Letting go.mp3", "Letting go", 353_723), PlaylistEntry("02 Second, slowly.mp3", "Second, slowly", 61_499)]


def test_extended_m3u_lists_files_in_order_with_lengths_and_titles():
    text = m3u8(ENTRIES, "Step by step")
    assert text.splitlines() == ["#EXTM3U", "#PLAYLIST:Step by step",
                                 "#EXTINF:354,Letting go", "01 Letting go.mp3",
                                 "#EXTINF:61,Second, slowly", "02 Second, slowly.mp3"]
    back = parse_m3u8(text)
    assert [e.file for e in back] == [e.file for e in ENTRIES]
    assert [e.title for e in back] == [e.title for e in ENTRIES]     # a comma in a title survives
    assert [e.ms for e in back] == [354_000, 61_000]


def test_titles_cannot_break_the_playlist():
    text = m3u8([PlaylistEntry("01 A.mp3", "Two\nlines", 1000)], "Also\ntwo")
    assert parse_m3u8(text) == [PlaylistEntry("01 A.mp3", "Two lines", 1000)]
    assert "#PLAYLIST:Also two" in text


@given(st.text(max_size=200))
def test_safe_names_are_valid_on_any_phone(title):
    name = safe_name(title)
    assert name and len(name) <= 80 and name == name.strip() and not name.endswith(".")
    assert not set(name) & set('\\/:*?"<>|') and all(ord(ch) >= 32 and ord(ch) != 127 for ch in name)


def test_stage_files_are_numbered_and_discreet_ones_neutral():
    assert stage_file(3, "Trainer: size 1/2", "m4a", discreet=False) == "03 Trainer size 1 2.m4a"
    assert stage_file(3, "Trainer: size 1/2", "m4a", discreet=True) == "Session 03.m4a"


@pytest.mark.parametrize("title", ["3pm\u202e.exe", "a\u200bb\u2066c\u2069", "line\nbreak\ttab", "\u202e\u200f"])
def test_no_bidirectional_or_control_character_reaches_a_file_name(title):
    # Finding 9 of the second hardening round: a right-to-left override in a stage title went into '02 ‮3pm.exe.mp3'.
    name = stage_file(2, title, "mp3", discreet=False)
    assert all(unicodedata.category(ch)[0] != "C" for ch in name), ascii(name)
    entry = PlaylistEntry(name, title, 1000)
    assert all(unicodedata.category(ch)[0] != "C" or ch == "\n" for ch in m3u8([entry], title=title))


def test_stage_playlists_are_named_by_number_and_discreet_ones_neutral():
    from voicecoach.export.playlist import stage_playlist
    assert stage_playlist(2, "Trainer: size 1/2", discreet=False) == "Stage 02 Trainer size 1 2.m3u8"
    assert stage_playlist(2, "Trainer: size 1/2", discreet=True) == "Stage 02.m3u8"


SCRIPT = "voicecoach: 1\ntitle: {title}\nsteps:\n  - say: Hello.\n"
PROGRAM = """voicecoach: 1
title: Order
stages:
  - stage: One
    script: a.yaml
    alongside: [x.yaml, y.yaml]
    move_on_when: Easy.
    frequency: every day
  - stage: Two
    script: b.yaml
    move_on_when: Easy.
    frequency: every day
  - stage: Three
    script: a.yaml
    alongside: [z.yaml, y.yaml]
    move_on_when: Easy.
    frequency: every day
"""


def test_a_program_lists_each_alongside_session_after_the_first_stage_that_names_it(tmp_path):
    from voicecoach.export.program import program_layout, stage_files
    for name in "abxyz":
        (tmp_path / f"{name}.yaml").write_text(SCRIPT.format(title=name.upper()), encoding="utf-8")
    (tmp_path / "program.yaml").write_text(PROGRAM, encoding="utf-8")
    title, _, files, lists = program_layout(tmp_path / "program.yaml")
    # Program order: stage One, then X and Y, which it lists; Two; Three, then Z (Y came with One already).
    assert [(f.title, f.alongside) for f in files] == [("One", False), ("X", True), ("Y", True), ("Two", False),
                                                        ("Three", False), ("Z", True)]
    assert [f.stages for f in files] == [(1,), (1,), (1, 3), (2,), (3,), (3,)]
    # Each stage's own list: its session, then the ones it lists alongside, in the order it lists them.
    assert lists == ((0, 1, 2), (3,), (4, 5, 2))
    assert stage_files(tmp_path / "program.yaml") == (title, "", files)
    single = program_layout(tmp_path / "a.yaml")
    assert [f.title for f in single[2]] == ["A"] and single[3] == ()      # a script: no stage playlists
