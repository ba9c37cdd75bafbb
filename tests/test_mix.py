"""Mixing: the streamed blocks are exactly the assembled session."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicecoach.audio.mix import assemble, blocks
from voicecoach.exercise.timeline import Cue, Timeline
from voicecoach.units import SAMPLES_PER_MS


def _timeline(starts_lengths, length_ms):
    cues = tuple(Cue(start, 0, "speech", "say", f"c{i}", None, 1) for i, (start, _) in enumerate(starts_lengths))
    return Timeline("t", cues, (), length_ms)


def _clips(starts_lengths):
    rng = np.random.default_rng(1)
    return {f"c{i}": rng.integers(-30000, 30000, n, dtype=np.int16) for i, (_, n) in enumerate(starts_lengths)}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 8000)), max_size=12),
       st.integers(1, 500), st.integers(1, 120))
def test_blocks_join_to_the_assembled_session(placed, length_ms, block_ms):
    # Overlapping, unordered cues and clips running past the end or across blocks included.
    placed = [(min(start, length_ms - 1), n) for start, n in placed]
    timeline, clips = _timeline(placed, length_ms), _clips(placed)
    streamed = list(blocks(timeline, clips, block_ms))
    assert all(len(b) <= block_ms * SAMPLES_PER_MS for b in streamed)
    assert np.array_equal(np.concatenate(streamed) if streamed else np.zeros(0, np.int16), assemble(timeline, clips))


def test_blocks_are_new_arrays_a_consumer_may_keep():
    placed = [(0, 30_000), (900, 50)]
    timeline, clips = _timeline(placed, 2000), _clips(placed)
    kept = list(blocks(timeline, clips, 300))
    assert len({id(b) for b in kept}) == len(kept)
    assert np.array_equal(np.concatenate(kept), assemble(timeline, clips))


@pytest.mark.slow
def test_a_real_session_streams_to_the_same_samples(shared_cache):
    from conftest import SCRIPTS

    from voicecoach.session import prepare
    session = prepare(SCRIPTS / "pelvic-floor-release.yaml", shared_cache)
    assert np.array_equal(np.concatenate(list(session.blocks())), session.audio())
