"""Mastering: every distinct sound through the chain once, the mixed session on target as computed,
nothing moved in time, a sound independent of its neighbours, and the cache used the second time."""

from dataclasses import replace

import numpy as np
import pytest

from voicecoach.audio import ffmpeg, loudness
from voicecoach.audio.mix import sound_key, sounds
from voicecoach.cache import Cache
from voicecoach.export import mastering
from voicecoach.session import prepare

SCRIPT = """
voicecoach: 1
title: Mastering check
steps:
  - section: Start
  - say: Let your jaw soften, and let your breath slow down.
  - pause: 1
  - squeeze: {hold: 2, rest: 2, reps: 2, count: true}
  - breathe: {in: 3, out: 4, cycles: 1}
  - chime: {}
  - say: Well done.
"""


@pytest.fixture
def session(write_script, shared_cache):
    return prepare(write_script(SCRIPT), shared_cache)


def onset(samples, level=300):
    return int(np.flatnonzero(np.abs(samples.astype(np.int32)) >= level)[0])


@pytest.mark.slow
@pytest.mark.parametrize("volume", [0.2, 1.0], ids=["quiet", "loud"])
def test_the_mixed_session_measures_what_mastering_computed(write_script, shared_cache, volume):
    session = prepare(write_script(SCRIPT), shared_cache, volume=volume)
    done = mastering.master(session)
    measured = loudness.measure_samples(done.session.blocks(), true_peak=True)   # ffmpeg, on the whole mix
    assert measured.integrated == pytest.approx(done.loudness.integrated, abs=0.1)
    assert measured.true_peak == pytest.approx(done.loudness.true_peak, abs=0.2)
    assert done.loudness.integrated == pytest.approx(loudness.TARGET_LUFS, abs=mastering.AIM + 0.01)
    assert done.loudness.true_peak <= mastering.MAX_PCM_PEAK


@pytest.mark.slow
def test_every_sound_keeps_its_length_and_its_first_sound(session):
    done = mastering.master(session)
    before, after = sounds(session.timeline, session.clips), sounds(done.session.timeline, done.session.clips)
    assert set(after) == set(before) and any(key.startswith("(chime") for key in after)
    for key in before:
        assert len(after[key]) == len(before[key])
        # The chain's look-ahead is compensated: the first audible sample stays where it was.
        assert abs(onset(after[key], 100) - onset(before[key], 100)) <= 24, key
    assert done.session.timeline == session.timeline


@pytest.mark.slow
def test_a_sound_masters_the_same_whatever_sits_beside_it(session):
    clips = sounds(session.timeline, session.clips)
    keys = sorted(clips, key=lambda k: len(clips[k]))
    target, loud = keys[len(keys) // 2], keys[-1]
    graph = loudness.chain(12.0, loudness.CEILING, -30.0)
    alone = mastering.process({target: clips[target]}, graph)[target]
    # A long, heavily compressed neighbour just before it in the batch changes nothing.
    beside = mastering.process({target: clips[target], "\0" + loud: clips[loud]}, graph)[target]
    assert np.max(np.abs(alone.astype(np.int32) - beside)) <= 2


@pytest.mark.slow
def test_a_second_master_comes_from_the_cache_without_ffmpeg(session, tmp_path, monkeypatch):
    cache = Cache(tmp_path / "cache")
    first = mastering.master(session, cache)
    assert not first.reused and first.key
    calls = []
    monkeypatch.setattr(ffmpeg, "run", lambda *a, **k: calls.append(a) or pytest.fail("ffmpeg was run"))
    again = mastering.master(session, cache)
    assert again.reused and not calls
    assert again.loudness == first.loudness
    for key, samples in first.session.clips.items():
        assert np.array_equal(again.session.clips[key], samples)


@pytest.mark.slow
def test_a_damaged_mastered_sound_is_made_again(session, tmp_path):
    cache = Cache(tmp_path / "cache")
    first = mastering.master(session, cache)
    note = cache.get_note(first.key)
    victim = cache.path(next(iter(note["sounds"].values())))
    victim.write_bytes(victim.read_bytes()[:-10])
    again = mastering.master(session, cache)
    assert not again.reused
    for key, samples in first.session.clips.items():
        assert np.array_equal(again.session.clips[key], samples)
    assert mastering.master(session, cache).reused


def test_silence_is_left_as_it_is(session):
    quiet = replace(session, clips={k: np.zeros_like(v) for k, v in session.clips.items()},
                    timeline=replace(session.timeline, cues=tuple(c for c in session.timeline.cues
                                                                   if c.kind != "chime")))
    done = mastering.master(quiet)
    assert done.threshold is None and done.gain == 0.0
    assert done.loudness.integrated == float("-inf")
    assert all(not np.any(done.session.clips[sound_key(c)]) for c in quiet.timeline.cues)


def test_the_batch_puts_silence_around_every_sound():
    a, b = np.full(10, 5, dtype=np.int16), np.full(3, -7, dtype=np.int16)
    joined = mastering.batch({"b": b, "a": a})
    assert len(joined) == 3 * mastering.GAP + 13
    assert np.array_equal(joined[mastering.GAP: mastering.GAP + 10], a)             # in name order
    assert np.array_equal(joined[2 * mastering.GAP + 10: 2 * mastering.GAP + 13], b)
    assert np.count_nonzero(joined) == 13


def test_the_sliding_minimum_is_the_minimum_of_each_window():
    rng = np.random.default_rng(5)
    for n, width in ((1, 1), (10, 3), (1000, 37), (999, 1000)):
        x = rng.normal(size=n)
        expected = np.array([x[i: i + width].min() for i in range(n)])
        assert np.array_equal(mastering._sliding_min(x, width), expected)


def test_the_limiter_model_holds_the_ceiling_and_leaves_quiet_sound_alone():
    rng = np.random.default_rng(9)
    quiet = np.round(rng.normal(0, 500, 24_000)).astype(np.int16)
    assert np.array_equal(mastering.limiter_model(quiet, 6.0, -3.0), np.round(quiet * 10 ** (6 / 20)).astype(np.int16))
    loud = quiet.copy()
    loud[12_000] = 30_000                                   # one peak, far over the ceiling after the gain
    out = mastering.limiter_model(loud, 6.0, -3.0)
    ceiling = 32767 * 10 ** (-3 / 20)
    assert np.max(np.abs(out.astype(np.int32))) <= ceiling + 1
    # The gain comes down a little before the peak (attack) and stays down for a while after it (release).
    reduced = np.flatnonzero(np.abs(out.astype(np.float64)) < np.abs(loud * 10 ** (6 / 20)) - 1)
    assert reduced.min() >= 12_000 - mastering.MODEL_ATTACK_MS * 24
    assert reduced.max() <= 12_000 + mastering.MODEL_RELEASE_MS * 24
    assert reduced.max() - reduced.min() > mastering.MODEL_RELEASE_MS * 24 // 2


BED_SCRIPT = """
voicecoach: 1
title: Mastering over a bed
steps:
  - say: Let your jaw soften, and let your breath slow down.
  - pause: 8
  - squeeze: {hold: 3, rest: 4, reps: 2, count: true}
  - pause: 8
  - say: Well done.
  - pause: 4
"""


@pytest.mark.slow
@pytest.mark.parametrize("bed, level", [("waves", -20.0), ("rain", -6.0), ("brown", -6.0)])
def test_a_session_over_a_bed_lands_on_target_under_its_peak_limit(write_script, shared_cache, bed, level):
    from voicecoach.session import with_background
    session = with_background(prepare(write_script(BED_SCRIPT), shared_cache), bed, level)
    done = mastering.master(session)
    measured = loudness.measure_samples(done.session.blocks(), true_peak=True)   # ffmpeg, on the whole mix
    assert measured.integrated == pytest.approx(done.loudness.integrated, abs=0.1)
    assert abs(done.loudness.integrated - loudness.TARGET_LUFS) <= loudness.TOLERANCE / 2, done.loudness
    # The peak mastering works with bounds the mix's own: close above it, never under it.
    assert measured.true_peak - 0.05 <= done.loudness.true_peak <= measured.true_peak + 1.5
    assert done.loudness.true_peak <= mastering.MAX_PCM_PEAK + 0.05


@pytest.mark.slow
def test_a_bed_lowered_to_fit_is_lowered_again_when_the_mastering_comes_from_the_cache(write_script, shared_cache,
                                                                                       tmp_path):
    from voicecoach.session import with_background
    session = with_background(prepare(write_script(BED_SCRIPT), shared_cache), "rain", -6.0)
    cache = Cache(tmp_path / "cache")
    first, again = mastering.master(session, cache), mastering.master(session, cache)
    assert again.reused and not first.reused
    assert first.session.background.gain_db < session.background.under(loudness.TARGET_LUFS).gain_db
    assert again.session.background.gain_db == first.session.background.gain_db
    assert np.array_equal(np.concatenate(list(again.session.blocks())), np.concatenate(list(first.session.blocks())))


def test_the_limiter_models_energy_is_the_modelled_sounds_own():
    t = np.arange(2 * 24_000) / 24_000
    sound = (np.sin(2 * np.pi * 220 * t) * np.abs(np.sin(2 * np.pi * 1.5 * t)) * 30_000).astype(np.int16)
    signals = mastering.weighted({"s": sound})
    for gain in (0.0, 3.0, 6.0, 12.0):
        got = mastering.modelled_energies({"s": sound}, signals, gain, -3.0)["s"]
        exact = loudness.energy(mastering.limiter_model(sound, gain, -3.0))
        assert len(got) == -(-(len(exact) - 1) // 24) + 1            # a millisecond at a time
        assert abs(10 * np.log10(got[-1] / exact[-1])) < 0.01, gain


def test_mastering_takes_the_energies_measured_while_the_phrases_rendered(write_script, tmp_path, monkeypatch):
    filtered: list[int] = []
    real = loudness.weighted_signal
    monkeypatch.setattr(loudness, "weighted_signal", lambda samples: filtered.append(len(samples)) or real(samples))
    weighed: list[np.ndarray] = []          # the sounds mastering weighted whole, for its own use
    real_weighted = mastering.weighted
    monkeypatch.setattr(mastering, "weighted", lambda d: weighed.extend(d.values()) or real_weighted(d))
    head = mastering.HeadStart()
    try:
        session = prepare(write_script(SCRIPT), Cache(tmp_path / "cache"), on_rendered=head.add)
        spoken = {key: s for key, s in sounds(session.timeline, session.clips).items() if not key.startswith("(")}
        assert set(head.energies(spoken)) == set(spoken)
        filtered.clear()
        alone = mastering.master(session)
        by_itself = len(filtered)
        filtered.clear()
        ahead = mastering.master(session, None, head)
    finally:
        head.close()
    # The same mastering, sample for sample, whether the phrases were measured as they rendered or not (a
    # session must not master differently from a warm cache).
    assert ahead.gain == alone.gain and ahead.loudness == alone.loudness
    assert all(np.array_equal(ahead.session.clips[key], alone.session.clips[key]) for key in alone.session.clips)
    # The voice was not filtered again for mastering's first look at it: one filtering a phrase fewer.
    assert len(filtered) == by_itself - len(spoken)
    # Only the raw voice is weighted whole (once, when nothing was measured ahead), never the compressed one.
    assert len(weighed) == len(spoken) and all(any(x is y for y in spoken.values()) for x in weighed)


def test_the_compressors_gain_is_read_off_its_output():
    # The compressor multiplies each sample by a gain that moves over milliseconds; near-silent samples
    # (whose rounding hides it) take the gain of the loud stretch before them.
    rng = np.random.default_rng(5)
    raw = np.round(rng.normal(0, 6000, 48_000)).clip(-32768, 32767).astype(np.int16)
    raw[24_000: 24_480] = 0                                      # 20 ms of silence
    ramp = np.linspace(1.0, 0.25, len(raw))                      # a gain falling from 0 to -12 dB
    compressed = np.round(raw * ramp).astype(np.int16)
    gain = mastering.compressor_gain(raw, compressed)
    assert gain.dtype == np.float32 and len(gain) == len(raw)
    loud = np.abs(raw) > 2000
    assert np.max(np.abs(gain[loud] - ramp[loud])) < 0.005    # within the millisecond it is read over
    assert np.all(gain[24_000: 24_480] == gain[23_999])         # held over the silence
    assert np.all(mastering.compressor_gain(np.zeros(100, np.int16), np.zeros(100, np.int16)) == 1.0)


def test_the_compressors_gain_needs_the_sound_it_was_read_against():
    with pytest.raises(ValueError):
        mastering.compressor_gain(np.ones(48, np.int16), np.ones(47, np.int16))
