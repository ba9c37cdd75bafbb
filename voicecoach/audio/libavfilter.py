"""ffmpeg's filters run inside this process: the same libavfilter the ffmpeg program links, called through
ctypes, with the same interface as `ffmpeg.Started` and sample for sample the same result for filters that do
not depend on how their input is cut into frames (the program cuts 1024 samples, this BLOCK), as mastering's
compressor, volume, limiter and low-pass do not.

A cold export masters its sounds in four ffmpeg runs, and each run pays 80 ms of CPU before it reads a sample
(Debian's ffmpeg links 215 libraries and resolves 43,000 symbols at every start; `ffmpeg -version` alone). Here
the library is loaded once (about 70 ms). Only what the filters need is used: a graph between an `abuffer`
source and an `abuffersink`, and of the frames that cross it only the fields FFmpeg has kept in place since its
first releases (the sample pointer, the count, the timestamp), each checked against the library itself when it is
loaded. Where any check fails, or no libavfilter is found, `available()` says no and mastering runs the ffmpeg
program, as it always could. The graphs are ours (numbers we format), never text from a script."""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable

import numpy as np

from voicecoach.errors import VoicecoachError
from voicecoach.units import RATE

# (libavfilter, libavutil) majors released together: FFmpeg 8, 7, 6, 5 and 4.
_SONAMES = [("libavfilter.so.11", "libavutil.so.60"), ("libavfilter.so.10", "libavutil.so.59"),
            ("libavfilter.so.9", "libavutil.so.58"), ("libavfilter.so.8", "libavutil.so.57"),
            ("libavfilter.so.7", "libavutil.so.56")]

# AVFrame's first fields, at the same offsets from FFmpeg 4 (libavutil 56) to 8 (60): data[8] (pointers),
# linesize[8] (ints), extended_data, width, height, nb_samples, format, then pts at 136 (FFmpeg 8 dropped
# key_frame before it; alignment keeps pts in place). `_checked` reads them back from frames the library made
# before anything is written through them.
_DATA, _LINESIZE, _EXTENDED_DATA, _NB_SAMPLES, _FORMAT, _PTS = 0, 64, 96, 112, 116, 136
_S16 = 1                        # AV_SAMPLE_FMT_S16
_EAGAIN = -11                   # AVERROR(EAGAIN) on Linux
_EOF = -0x20464F45              # AVERROR_EOF: -MKTAG('E', 'O', 'F', ' ')
_QUIET = -8                     # AV_LOG_QUIET: failures come back as codes, said in our own words
BLOCK = 1 << 14                 # samples a frame: 0.37 s, so a pass over 10 minutes of sounds is ~180 frames


class _InOut(ctypes.Structure):
    pass


# AVFilterInOut: the same four fields since it was introduced (2010).
_InOut._fields_ = [("name", ctypes.c_void_p), ("filter_ctx", ctypes.c_void_p), ("pad_idx", ctypes.c_int),
                   ("next", ctypes.POINTER(_InOut))]

_P = ctypes.c_void_p
_SIGNATURES: dict[str, tuple] = {
    # name: (library, result, argument types)
    "av_frame_alloc": ("util", _P, []),
    "av_frame_free": ("util", None, [ctypes.POINTER(_P)]),
    "av_frame_clone": ("util", _P, [_P]),
    "av_frame_make_writable": ("util", ctypes.c_int, [_P]),
    "av_frame_unref": ("util", None, [_P]),
    "av_strdup": ("util", _P, [ctypes.c_char_p]),
    "av_strerror": ("util", ctypes.c_int, [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]),
    "av_log_set_level": ("util", None, [ctypes.c_int]),
    "av_opt_set_int": ("util", ctypes.c_int, [_P, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int]),
    "avfilter_graph_alloc": ("filter", _P, []),
    "avfilter_graph_free": ("filter", None, [ctypes.POINTER(_P)]),
    "avfilter_get_by_name": ("filter", _P, [ctypes.c_char_p]),
    "avfilter_graph_create_filter": ("filter", ctypes.c_int, [ctypes.POINTER(_P), _P, ctypes.c_char_p,
                                                              ctypes.c_char_p, _P, _P]),
    "avfilter_inout_alloc": ("filter", ctypes.POINTER(_InOut), []),
    "avfilter_inout_free": ("filter", None, [ctypes.POINTER(ctypes.POINTER(_InOut))]),
    "avfilter_graph_parse_ptr": ("filter", ctypes.c_int, [_P, ctypes.c_char_p, ctypes.POINTER(ctypes.POINTER(_InOut)),
                                                          ctypes.POINTER(ctypes.POINTER(_InOut)), _P]),
    "avfilter_graph_config": ("filter", ctypes.c_int, [_P, _P]),
    "av_buffersrc_add_frame_flags": ("filter", ctypes.c_int, [_P, _P, ctypes.c_int]),
    "av_buffersink_get_frame": ("filter", ctypes.c_int, [_P, _P]),
}


class _Library:
    """libavfilter and libavutil with the signatures used here, and a frame to copy input frames from."""

    # Set from _SIGNATURES when loaded.
    av_frame_alloc: Any
    av_frame_free: Any
    av_frame_clone: Any
    av_frame_make_writable: Any
    av_frame_unref: Any
    av_strdup: Any
    av_strerror: Any
    av_log_set_level: Any
    av_opt_set_int: Any
    avfilter_graph_alloc: Any
    avfilter_graph_free: Any
    avfilter_get_by_name: Any
    avfilter_graph_create_filter: Any
    avfilter_inout_alloc: Any
    avfilter_inout_free: Any
    avfilter_graph_parse_ptr: Any
    avfilter_graph_config: Any
    av_buffersrc_add_frame_flags: Any
    av_buffersink_get_frame: Any

    def __init__(self, filter_name: str, util_name: str):
        # ctypes.CDLL lets go of the GIL in every call: two passes filter on two cores.
        libs = {"filter": ctypes.CDLL(filter_name), "util": ctypes.CDLL(util_name)}
        for name, (lib, restype, argtypes) in _SIGNATURES.items():
            function = getattr(libs[lib], name)
            function.restype, function.argtypes = restype, argtypes
            setattr(self, name, function)
        self.name = filter_name
        self.av_log_set_level(_QUIET)
        self.template: int = 0

    def error(self, code: int) -> str:
        """FFmpeg's words for an error code."""
        text = ctypes.create_string_buffer(256)
        self.av_strerror(code, text, len(text))
        return text.value.decode("utf-8", errors="replace")


def _int(address: int, offset: int, kind=ctypes.c_int) -> int:
    return kind.from_address(address + offset).value


class _Graph:
    """One filter graph from `source` (a source filter and its arguments) through `chain` into a sink of int16."""

    def __init__(self, lib: _Library, source: tuple[str, str], chain: str):
        self.lib, self.graph = lib, _P(lib.avfilter_graph_alloc())
        if not self.graph:
            raise MemoryError("libavfilter could not allocate a graph")
        try:
            # One thread: our graphs are audio filters, which do not slice; two passes already take both cores.
            # (A library without the option runs as it is: nothing depends on it but a thread pool's start.)
            lib.av_opt_set_int(self.graph, b"threads", 1, 0)
            self.source, self.sink = _P(), _P()
            self._check(lib.avfilter_graph_create_filter(ctypes.byref(self.source), lib.avfilter_get_by_name(
                source[0].encode()), b"in", source[1].encode(), None, self.graph), "its source")
            self._check(lib.avfilter_graph_create_filter(ctypes.byref(self.sink), lib.avfilter_get_by_name(
                b"abuffersink"), b"out", None, None, self.graph), "its sink")
            # As the ffmpeg program does for a 16-bit output: the chain's last format is made int16 by the same
            # conversion it inserts there. The result is read as mono at RATE, so a chain that changed either
            # is converted back rather than misread (ours change neither).
            self._parse(f"{chain},aformat=sample_fmts=s16:sample_rates={RATE}:channel_layouts=mono")
            self._check(lib.avfilter_graph_config(self.graph, None), "its formats")
        except BaseException:
            self.close()
            raise

    def _parse(self, chain: str) -> None:
        lib = self.lib
        outputs, inputs = lib.avfilter_inout_alloc(), lib.avfilter_inout_alloc()
        try:
            if not outputs or not inputs:
                raise MemoryError("libavfilter could not allocate a graph's ends")
            # The chain's open input is fed by our source ("in"), its open output feeds our sink ("out").
            outputs.contents.name, outputs.contents.filter_ctx = lib.av_strdup(b"in"), self.source.value
            inputs.contents.name, inputs.contents.filter_ctx = lib.av_strdup(b"out"), self.sink.value
            self._check(lib.avfilter_graph_parse_ptr(self.graph, chain.encode(), ctypes.byref(inputs),
                                                     ctypes.byref(outputs), None), f"the filters {chain!r}")
        finally:
            lib.avfilter_inout_free(ctypes.byref(inputs))
            lib.avfilter_inout_free(ctypes.byref(outputs))

    def _check(self, code: int, what: str, doing: str = "could not set up") -> None:
        if code < 0:
            raise VoicecoachError(f"ffmpeg's filters {doing} {what}: {self.lib.error(code)}")

    def send(self, frame: int | None) -> None:
        """Give the source `frame` (taken from us), or the end of the input (None)."""
        self._check(self.lib.av_buffersrc_add_frame_flags(self.source, frame, 0), "the input", "failed on")

    def drain(self, into: Callable[[int, int], None]) -> int | None:
        """Hand every frame the sink has ready to `into(pointer, samples)`: how many, or None once the output
        has ended."""
        lib = self.lib
        frame = lib.av_frame_alloc()
        if not frame:
            raise MemoryError("libavfilter could not allocate a frame")
        try:
            count = 0
            while True:
                code = lib.av_buffersink_get_frame(self.sink, frame)
                if code in (_EAGAIN, _EOF):
                    return None if code == _EOF else count
                self._check(code, "the output", "failed on")
                into(_int(frame, _DATA, ctypes.c_void_p), _int(frame, _NB_SAMPLES))
                lib.av_frame_unref(frame)
                count += 1
        finally:
            lib.av_frame_free(ctypes.byref(_P(frame)))

    def close(self) -> None:
        if self.graph:
            self.lib.avfilter_graph_free(ctypes.byref(self.graph))
            self.graph = _P()


def _filter(lib: _Library, samples: np.ndarray, chain: str) -> np.ndarray:
    """int16 `samples` at RATE through `chain`, back as int16 (what `ffmpeg -af chain` gives)."""
    samples = np.ascontiguousarray(samples, dtype="<i2")
    out = [np.empty(len(samples) + BLOCK, dtype=np.int16)]
    filled = [0]
    # Our chains give as many samples as they take; one that went on giving (`apad`) would fill the memory.
    most = 2 * len(samples) + 10 * RATE

    def into(pointer: int, count: int) -> None:
        if filled[0] + count > most:
            raise VoicecoachError("ffmpeg's filters gave far more samples than they were given")
        have = out[0]
        if filled[0] + count > len(have):
            have = out[0] = np.resize(have, 2 * (filled[0] + count))
        ctypes.memmove(have.ctypes.data + 2 * filled[0], pointer, 2 * count)
        filled[0] += count

    graph = _Graph(lib, ("abuffer", f"time_base=1/{RATE}:sample_rate={RATE}:sample_fmt=s16:channel_layout=mono"),
                   chain)
    try:
        for at in range(0, len(samples), BLOCK):
            part = samples[at: at + BLOCK]
            # A copy of a frame the library made (format, rate and layout set by it), filled with our samples.
            # (From FFmpeg 6 a frame also carries a duration, the template's, which a short last frame keeps:
            # timestamps only, which none of our filters read.)
            frame = lib.av_frame_clone(lib.template)
            if not frame or lib.av_frame_make_writable(frame) < 0:
                lib.av_frame_free(ctypes.byref(_P(frame)))
                raise MemoryError("libavfilter could not allocate a frame")
            ctypes.c_int.from_address(frame + _NB_SAMPLES).value = len(part)
            ctypes.c_int64.from_address(frame + _PTS).value = at
            ctypes.memmove(_int(frame, _DATA, ctypes.c_void_p), part.ctypes.data, 2 * len(part))
            try:
                graph.send(frame)
            finally:
                lib.av_frame_free(ctypes.byref(_P(frame)))
            graph.drain(into)
        graph.send(None)
        # After the end of the input the sink gives frames until it says the output has ended too; a graph that
        # asked for more input instead, twice with nothing given between, would ask forever.
        idle = 0
        while (given := graph.drain(into)) is not None:
            idle = idle + 1 if given == 0 else 0
            if idle > 1:
                raise VoicecoachError("ffmpeg's filters did not finish after the end of their input")
    finally:
        graph.close()
    return out[0][:filled[0]]


def _checked(lib: _Library) -> bool:
    """Whether this library's frames have their fields where we read and write them, and a chain that changes
    nothing gives back exactly what went in."""
    frames: list[tuple[int, int, int, int, bool]] = []

    def keep(frame: int) -> None:
        # extended_data points at data[] itself for audio of up to eight channels: where both sit as read here,
        # the sample pointer is where it is written through.
        frames.append((_int(frame, _NB_SAMPLES), _int(frame, _FORMAT), _int(frame, _PTS, ctypes.c_int64),
                       _int(frame, _LINESIZE), _int(frame, _EXTENDED_DATA, ctypes.c_void_p) == frame + _DATA))
        if lib.template == 0:
            lib.template = lib.av_frame_clone(frame)

    graph = _Graph(lib, ("anullsrc", f"r={RATE}:cl=mono:n={BLOCK}"), "atrim=end_sample=" + str(2 * BLOCK))
    try:
        frame = lib.av_frame_alloc()
        try:
            while len(frames) < 2:
                code = lib.av_buffersink_get_frame(graph.sink, frame)
                if code < 0:
                    return False
                keep(frame)
                lib.av_frame_unref(frame)
        finally:
            lib.av_frame_free(ctypes.byref(_P(frame)))
    finally:
        graph.close()
    if (frames[0][:3] != (BLOCK, _S16, 0) or frames[1][:3] != (BLOCK, _S16, BLOCK) or frames[0][3] < 2 * BLOCK
            or not (frames[0][4] and frames[1][4])):
        return False
    # Every int16 value, in frames of a whole block and a part of one.
    every = np.arange(-32768, 32768, dtype=np.int16)
    probe = np.concatenate([every, every[:1000]])
    return bool(np.array_equal(_filter(lib, probe, "anull"), probe))


_lock = threading.Lock()
_loaded: list[_Library | None] = []


def library() -> _Library | None:
    """libavfilter loaded and checked (once), or None where there is none this code can trust."""
    with _lock:
        if not _loaded:
            _loaded.append(_load())
        return _loaded[0]


def _load() -> _Library | None:
    for filter_name, util_name in _SONAMES:
        try:
            lib = _Library(filter_name, util_name)
            if _checked(lib):
                return lib
        except (OSError, AttributeError, VoicecoachError, MemoryError):
            pass                # not there, or not as expected: the next release's, or the ffmpeg program
    return None


def available() -> bool:
    """Whether the filters can run in this process (else the ffmpeg program runs them)."""
    return library() is not None


class Run:
    """int16 samples at RATE on their way through a filter graph given later (`result`): `ffmpeg.Started`'s
    interface, the work done in this process when the graph is known."""

    def __init__(self, samples: np.ndarray | None = None):
        """A run whose input is `samples`, or what `feed` gives later."""
        self._samples: np.ndarray | None = None
        if samples is not None:
            self.feed(samples)

    def feed(self, samples: np.ndarray) -> None:
        """Give the run its input (once)."""
        if self._samples is not None:
            raise ValueError("this filter run has its input already")
        self._samples = np.ascontiguousarray(samples, dtype="<i2")

    def result(self, graph: str) -> np.ndarray:
        """The samples through `graph` (an ffmpeg audio filter chain)."""
        if self._samples is None:
            raise ValueError("a filter run asked for its result before it was fed")
        lib = library()
        if lib is None:
            raise VoicecoachError("ffmpeg's filter library cannot be used in this process")
        try:
            return _filter(lib, self._samples, graph)
        finally:
            self._samples = None

    def close(self) -> None:
        """Let go of the input."""
        self._samples = None
