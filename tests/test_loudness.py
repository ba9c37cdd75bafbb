"""Loudness: exported files land at -16 LUFS ± 1 with true peak at most -1 dBTP, checked by pyloudnorm
(an independent BS.1770 implementation) and by a separate ffmpeg ebur128 run on the decoded file."""

import subprocess

import numpy as np
import pyloudnorm
import pytest
import soxr

from voicecoach.audio import ffmpeg, loudness
from voicecoach.export.file import export_script
from voicecoach.units import RATE

SCRIPT = """
voicecoach: 1
title: Level check
steps:
  - section: Start
  - say: Let your shoulders drop, and breathe out slowly.
  - pause: 1
  - squeeze: {hold: 3, rest: 3, reps: 2}
  - section: End
  - breathe: {in: 3, out: 4, cycles: 1}
  - say: That is enough for today. Well done.
  - chime: {}
"""


def decode(path, rate=48_000) -> np.ndarray:
    """The file as float samples in [-1, 1], decoded by ffmpeg as a player would."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(rate), "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def true_peak_db(samples, rate=48_000) -> float:
    """BS.1770 true peak: the largest magnitude after 4x oversampling, in dB."""
    up = soxr.resample(samples, rate, rate * 4, quality="VHQ")
    return 20 * np.log10(np.max(np.abs(up)))


def sine(amplitude, seconds=6, hz=997):
    t = np.arange(seconds * RATE) / RATE
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_parse_reads_ebur128s_summary():
    log = """[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -20.2 LUFS
    Threshold: -30.8 LUFS

  True peak:
    Peak:       -1.3 dBFS
"""
    assert loudness.parse(log) == loudness.Loudness(-20.2, -1.3)
    assert loudness.parse(log.replace("-20.2", "-inf").split("True")[0]) == loudness.Loudness(float("-inf"), None)
    with pytest.raises(Exception, match="did not report a loudness"):
        loudness.parse("nothing here")


def test_a_reference_sine_measures_as_bs1770_says():
    # BS.1770: a 997 Hz sine at full scale in one channel reads -3.01 LKFS.
    measured = loudness.measure_samples([sine(0.1)], true_peak=True)
    assert measured.integrated == pytest.approx(-23.0, abs=0.15)
    assert measured.true_peak == pytest.approx(-20.0, abs=0.2)


def test_k_weighting_at_48k_is_bs1770s_published_filter():
    # ITU-R BS.1770-4, tables 1 and 2 (the coefficients for 48 kHz).
    sos = loudness.k_weighting(48_000)
    assert sos[0] == pytest.approx([1.53512485958697, -2.69169618940638, 1.19839281085285,
                                    1.0, -1.69065929318241, 0.73248077421585], abs=1e-9)
    assert sos[1] == pytest.approx([1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621], abs=1e-9)


def test_the_k_weighted_energy_is_the_recursive_filters():
    # scipy (installed with pyloudnorm) runs the two biquads recursively; our FFT convolution with the
    # impulse response must give the same energy, sample by sample, including the ringing after the end:
    # to single precision (the FFT's; 2-3e-7 measured, 1e-6 is 4e-6 dB), summed in double.
    from scipy.signal import sosfilt
    rng = np.random.default_rng(3)
    sound = np.round(rng.normal(0, 4000, 3 * RATE + 17)).clip(-32768, 32767).astype(np.int16)
    padded = np.concatenate([sound, np.zeros(loudness.TAIL)]) / 32768.0
    expected = np.concatenate([[0.0], np.cumsum(sosfilt(loudness.k_weighting(), padded) ** 2)])
    assert np.allclose(loudness.energy(sound), expected, rtol=1e-6, atol=1e-12)
    # In pieces (overlap-add) the total is the same.
    assert loudness.total_energy(np.tile(sound, 5)) == pytest.approx(
        float(np.sum(sosfilt(loudness.k_weighting(), np.tile(sound, 5) / 32768.0) ** 2)), rel=1e-6)


def test_energies_are_summed_in_double_whatever_the_signals_precision():
    # A K-weighted signal is float32; two minutes of its squares summed in float32 drift by about 1e-3.
    steady = np.full(RATE * 120, 0.1, dtype=np.float32)
    assert loudness.cumulative(steady)[-1] == pytest.approx(RATE * 120 * float(np.float32(0.1)) ** 2, rel=1e-9)


def placed_loudness(sounds, starts, total):
    energies = [loudness.energy(s) for s in sounds]
    parts = (loudness.contribution(start, energy, total) for start, energy in zip(starts, energies))
    return loudness.gated(loudness.sub_blocks(parts, total), total)


def test_the_k_weighting_response_is_the_filters_own():
    # The filter's impulse response, transformed, at the frequencies of a 2-second loop.
    n = 2 * RATE
    response = np.fft.rfft(loudness.impulse_response(length=n))
    assert np.allclose(loudness.k_response(np.fft.rfftfreq(n, 1 / RATE)), response, atol=1e-6)
    # At 1 kHz the filter is flat to within a dB (BS.1770), and at 20 Hz it cuts deep.
    gain = np.abs(loudness.k_response(np.array([20.0, 1000.0])))
    assert 20 * np.log10(gain[1]) == pytest.approx(0.0, abs=1.0) and 20 * np.log10(gain[0]) < -10


def test_loudness_from_placed_sounds_matches_measuring_the_mix():
    # Sounds of different levels at uneven places, some straddling sub-blocks, one cut by the end:
    # computed from each sound once, the result must equal measuring the mixed samples.
    rng = np.random.default_rng(7)
    sounds = [np.round(rng.normal(0, a, int(RATE * d))).clip(-32768, 32767).astype(np.int16)
              for a, d in ((3000, 1.3), (800, 0.55), (9000, 2.1))]
    starts, total = [1234, 60_001, 130_777, 470_000], 20 * RATE
    mixed = np.zeros(total, dtype=np.int16)
    for start, sound in zip(starts, sounds + sounds[:1]):
        mixed[start: start + len(sound)] = sound[: total - start]
    computed = placed_loudness(sounds + sounds[:1], starts, total)
    assert computed == pytest.approx(loudness.measure_samples([mixed]).integrated, abs=0.06)  # prints 0.1 steps
    # pyloudnorm designs its K-filter from rounded prototypes (1500 Hz, 4 dB): it reads about 0.08 LU lower.
    assert computed == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(mixed / 32768.0), abs=0.15)


def test_gating_leaves_out_silence_and_the_quiet():
    tone = sine(0.1, 2)
    # A 2-s tone (-23 LUFS) in a minute of silence: the silent blocks fall under the absolute gate; 17 blocks
    # lie wholly in the tone, and on each side three overlap it by 3/4, 1/2 and 1/4 (all within 10 LU).
    expected = -23.0 + 10 * np.log10((17 + 2 * 1.5) / 23)
    assert placed_loudness([tone], [RATE], 60 * RATE) == pytest.approx(expected, abs=0.02)
    # A tone 30 dB quieter elsewhere falls under the relative gate and changes nothing.
    quiet = sine(0.1 * 10 ** (-30 / 20), 2)
    assert placed_loudness([tone, quiet], [RATE, 10 * RATE], 60 * RATE) == pytest.approx(expected, abs=0.02)
    assert placed_loudness([], [], 60 * RATE) == float("-inf")
    assert placed_loudness([tone[: RATE // 5]], [0], RATE // 5) == pytest.approx(-23.0, abs=0.3)  # under 400 ms


def test_true_peak_finds_the_peak_between_samples():
    # A sine at a quarter of the rate, sampled 45 degrees off its crests: the samples reach 0.5 of
    # full scale, the wave itself 0.5 * sqrt(2), which is what a DAC plays.
    n = np.arange(4800)
    samples = np.round(0.5 * np.sqrt(2) * 32767 * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.int16)
    assert 20 * np.log10(np.abs(samples).max() / 32768) == pytest.approx(-6.02, abs=0.05)
    assert loudness.true_peak(samples) == pytest.approx(-3.01, abs=0.1)


def test_the_chain_moves_nothing_in_time():
    # A burst at exactly 1.000 s, loud enough to be limited, must still start at sample 24000.
    burst = np.zeros(3 * RATE, dtype=np.int16)
    burst[RATE: RATE + RATE // 2] = sine(0.9, 1)[: RATE // 2]
    tmp = subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0",
                          "-af", loudness.chain(6.0, -3.0, -20.0), "-f", "s16le", "pipe:1"],
                         input=burst.tobytes(), capture_output=True, check=True).stdout
    got = np.frombuffer(tmp, dtype="<i2")
    assert len(got) == len(burst)
    first = np.flatnonzero(np.abs(got.astype(np.int32)) > 300)[0]
    assert abs(int(first) - RATE) <= 2
    assert np.max(np.abs(got)) <= 10 ** (-3.0 / 20) * 32767 * 1.01


def test_the_next_gain_follows_the_measured_slope():
    assert loudness.next_gain([(4.0, -20.0)]) == pytest.approx(8.0)                 # one point: 1 dB per dB
    assert loudness.next_gain([(4.0, -22.0), (10.0, -17.0)]) == pytest.approx(11.2)  # slope 5/6
    assert loudness.next_gain([(0.0, -70.0), (1.0, -16.5)]) == pytest.approx(1.5)    # slope capped at 1
    assert loudness.first_gain(loudness.Loudness(-70.0, None)) == 0.0                  # silence stays silent
    assert loudness.lower_ceiling(-3.0, -1.1, -1.0) == pytest.approx(-3.0 - 0.2 - 0.3)
    assert loudness.lower_ceiling(-3.0, 2.0, -1.0) == -4.0       # one dB at a time
    assert loudness.lower_ceiling(-3.0, -2.0, -1.0) == -3.0


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mp3", "m4a", "opus", "wav"])
@pytest.mark.parametrize("volume", [0.3, 1.0], ids=["quiet", "loud"])
def test_exports_land_on_target_for_quiet_and_loud_voices(write_script, shared_cache, tmp_path, fmt, volume):
    done = export_script(write_script(SCRIPT), tmp_path / f"level.{fmt}", shared_cache, volume=volume)
    samples = decode(done.path)
    integrated = pyloudnorm.Meter(48_000).integrated_loudness(samples)
    assert integrated == pytest.approx(loudness.TARGET_LUFS, abs=loudness.TOLERANCE)
    assert true_peak_db(samples) <= loudness.MAX_TRUE_PEAK
    again = loudness.measure_file(done.path)      # a second, separate ffmpeg run on the finished file
    assert again.within()
    # What export computed without decoding anything is what the file measures.
    assert done.loudness.integrated == pytest.approx(again.integrated, abs=0.25)


@pytest.mark.slow
def test_quiet_and_loud_sound_equally_loud(write_script, shared_cache, tmp_path):
    path = write_script(SCRIPT)
    levels = [pyloudnorm.Meter(48_000).integrated_loudness(
        decode(export_script(path, tmp_path / f"v{v}.mp3", shared_cache, volume=v).path)) for v in (0.3, 1.0)]
    assert abs(levels[0] - levels[1]) <= 1.0


def test_the_compressor_threshold_stays_within_what_ffmpeg_takes():
    # A voice under -56 LUFS put the threshold under acompressor's lowest (2^-10) and failed the export.
    samples = np.round(np.sin(np.arange(24_000) / 7) * 20).astype(np.int16)       # about -64 dBFS
    out = ffmpeg.filtered(samples, loudness.compressor(-70.0))
    assert len(out) == len(samples)
    assert loudness.compressor(-70.0) == loudness.compressor(-61.0) != loudness.compressor(-20.0)


def test_energies_a_millisecond_at_a_time_place_a_sound_as_every_samples_do():
    # The same to float32's squares (a step's squares are summed in double, but squared in the signal's type).
    rng = np.random.default_rng(11)
    for n in (0, 1, 23, 24, 25, 4_801, 50_000):
        signal = rng.normal(0, 0.1, n).astype(np.float32)
        every, steps = loudness.cumulative(signal), loudness.cumulative(signal, 24)
        assert len(steps) == -(-n // 24) + 1 and steps[0] == 0.0
        assert np.allclose(steps[:-1], every[:len(every) - 1:24][: len(steps) - 1], rtol=1e-6, atol=0)
        assert steps[-1] == pytest.approx(every[-1], rel=1e-6, abs=1e-300)
        total = 24 * 5_000
        for start in (0, 24, 2_400 - 24, 2_400, 24 * 4_997, total):     # cues fall on milliseconds
            a_first, a = loudness.contribution(start, every, total)
            b_first, b = loudness.contribution(start, steps, total, 24)
            assert a_first == b_first and np.allclose(a, b, rtol=1e-6, atol=1e-300)
    with pytest.raises(ValueError):
        loudness.contribution(12, loudness.cumulative(np.ones(48, np.float32), 24), 2_400, 24)
