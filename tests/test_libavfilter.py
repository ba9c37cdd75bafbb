"""ffmpeg's filters in this process (audio/libavfilter.py) against the ffmpeg program: one interface, the same
samples, the same failures; and the program still used wherever the library cannot be trusted."""

from __future__ import annotations

import subprocess
import threading

import numpy as np
import pytest

from voicecoach.audio import ffmpeg, libavfilter, loudness
from voicecoach.errors import VoicecoachError
from voicecoach.export import mastering

CHAIN = loudness.chain(9.0, loudness.CEILING, -28.0)      # compressor, gain, limiter, low-pass, limiter
BACKENDS = [pytest.param(libavfilter.Run, id="in-process"), pytest.param(ffmpeg.Started, id="ffmpeg-program")]


def _speech_like(samples: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(samples)
    bursts = np.sin(t / 2900.0) ** 2 * (rng.standard_normal(samples) * 7000 + np.sin(t * 0.05) * 9000)
    return bursts.clip(-32768, 32767).astype(np.int16)


@pytest.fixture(autouse=True)
def _library_on_this_machine():
    # ffmpeg's package brings libavfilter with it; the speed of a cold export depends on using it.
    assert libavfilter.available(), "ffmpeg's filter library was not found or did not check out"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("length", [700, libavfilter.BLOCK, 3 * libavfilter.BLOCK + 17, 250_000])
def test_a_run_gives_what_ffmpeg_gives_for_the_same_filters(backend, length):
    samples = _speech_like(length)
    assert np.array_equal(backend(samples).result(CHAIN), ffmpeg.filtered(samples, CHAIN))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_fed_after_it_began_filters_what_it_is_fed(backend):
    samples = _speech_like(40_000, seed=8)
    run = backend()
    run.feed(samples)
    assert np.array_equal(run.result(loudness.compressor(-31.0)), ffmpeg.filtered(samples, loudness.compressor(-31.0)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_asked_for_its_result_unfed_or_fed_twice_says_so(backend):
    run = backend()
    with pytest.raises(ValueError, match="before it was fed"):
        run.result("anull")
    run = backend(_speech_like(100))
    try:
        with pytest.raises(ValueError, match="has its input already"):
            run.feed(_speech_like(100))
    finally:
        run.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_broken_graph_is_one_line_for_people(backend):
    with pytest.raises(VoicecoachError) as caught:
        backend(_speech_like(2000)).result("no_such_filter=1")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("ffmpeg") and len(message) < 200


def test_a_chain_that_never_ends_or_changes_the_layout_is_stopped_or_brought_back_to_mono():
    samples = _speech_like(5000)
    with pytest.raises(VoicecoachError, match="far more samples"):
        libavfilter.Run(samples).result("apad")                 # pads without end
    # The result is read as mono at RATE: a chain that made stereo comes back as mono, not as twice the samples.
    assert len(libavfilter.Run(samples).result("pan=stereo|c0=c0|c1=c0")) == len(samples)


def test_full_scale_and_silence_come_back_exactly():
    # The extremes of int16 through a chain that changes nothing, and a limited square wave at full scale.
    edges = np.tile(np.array([-32768, 32767, 0, -1, 1], dtype=np.int16), 9000)
    assert np.array_equal(libavfilter.Run(edges).result("anull"), edges)
    square = np.where(np.sin(np.arange(60_000) / 40.0) > 0, 32767, -32768).astype(np.int16)
    assert np.array_equal(libavfilter.Run(square).result(loudness.limiting(0.0, -3.0)),
                          ffmpeg.filtered(square, loudness.limiting(0.0, -3.0)))


def test_runs_on_two_threads_at_once_give_what_each_gives_alone():
    inputs = [_speech_like(300_000, seed=s) for s in (1, 2)]
    alone = [libavfilter.Run(x).result(CHAIN) for x in inputs]
    together: list = [None, None]

    def work(i):
        together[i] = libavfilter.Run(inputs[i]).result(CHAIN)
    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(a, b) for a, b in zip(alone, together))


def test_filtering_in_process_starts_no_program(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a program was started: {args[0]}")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    samples = _speech_like(50_000)
    assert len(mastering.Pass({"a": samples, "b": samples[:9000]}).result(CHAIN)["a"]) == len(samples)


def test_mastering_runs_the_ffmpeg_program_where_the_library_cannot_be_used(monkeypatch):
    monkeypatch.setattr(libavfilter, "available", lambda: False)
    run = mastering.filter_run(_speech_like(100))
    try:
        assert isinstance(run, ffmpeg.Started)
    finally:
        run.close()
    monkeypatch.undo()
    assert isinstance(mastering.filter_run(), libavfilter.Run)


def test_a_library_that_is_missing_or_does_not_check_out_is_not_used(monkeypatch):
    monkeypatch.setattr(libavfilter, "_SONAMES", [("libavfilter.so.0-none", "libavutil.so.0-none")])
    assert libavfilter._load() is None
    monkeypatch.undo()
    # Frames whose fields are not where this code reads them (a layout FFmpeg might change one day).
    monkeypatch.setattr(libavfilter, "_PTS", libavfilter._PTS + 8)
    assert libavfilter._load() is None
    monkeypatch.undo()
    # ... or whose sample pointer is not where the check finds extended_data pointing (nothing written through it).
    monkeypatch.setattr(libavfilter, "_EXTENDED_DATA", libavfilter._EXTENDED_DATA + 8)
    assert libavfilter._load() is None
    monkeypatch.undo()
    # A release that is not there is passed over for the next one.
    found = libavfilter._load()
    assert found is not None
    monkeypatch.setattr(libavfilter, "_SONAMES", [("libavfilter.so.0-none", "libavutil.so.0-none"),
                                                  *libavfilter._SONAMES])
    assert libavfilter._load().name == found.name


def test_doctor_says_where_the_filters_run(monkeypatch):
    from voicecoach import doctor
    assert doctor.ffmpeg().detail.endswith(f"its filters run in voicecoach ({libavfilter.library().name})")
    monkeypatch.setattr(libavfilter, "library", lambda: None)
    check = doctor.ffmpeg()
    assert check.ok and check.detail.endswith("its filters run as the ffmpeg program")
