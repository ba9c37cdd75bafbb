"""A program folder's README.txt: each file with its length and stage, nothing personal when discreet."""

from voicecoach.export.playlist import PlaylistEntry
from voicecoach.export.readme import readme

ENTRIES = [PlaylistEntry("01 Letting go.mp3", "Letting go", 353_723), PlaylistEntry("02 Second, slowly.mp3", "Second, slowly", 61_499)]


def test_readme_lists_the_files_and_says_nothing_when_discreet():
    text = readme("Step by step", ENTRIES, discreet=False, transcripts=True, about="A graded path.",
                  guidance=["Most days. Move on when: it feels familiar.", ""])
    assert text.startswith("Step by step\n\nA graded path.\n") and "01 Letting go.mp3  (about 6 minutes)" in text
    assert "      Most days. Move on when: it feels familiar." in text
    assert "playlist.m3u8" in text and ".vtt" in text
    quiet = readme("Step by step", [PlaylistEntry("Session 01.mp3", "Session 01", 60_000)], discreet=True,
                   transcripts=False, about="A graded path.", guidance=["Move on when: it feels familiar."])
    assert "Step by step" not in quiet and "voicecoach" not in quiet and ".vtt" not in quiet
    assert "graded" not in quiet and "familiar" not in quiet
    assert quiet.startswith("Relaxation\n") and "Session 01.mp3  (about 1 minute)" in quiet


def test_the_folder_note_says_when_to_stop_in_neutral_words_when_discreet():
    from voicecoach.exercise.safety import HEADING, NEUTRAL_WHEN_TO_STOP

    text = readme("Step by step", ENTRIES, discreet=False, transcripts=True)
    flat = " ".join(text.split())
    assert HEADING in text and "bleeding" in flat and "Seek medical help" in flat
    quiet = " ".join(readme("Step by step", ENTRIES, discreet=True, transcripts=False).split())
    assert NEUTRAL_WHEN_TO_STOP[0] in quiet
    assert "bleeding" not in quiet and "physiotherapist" not in quiet
