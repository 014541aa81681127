"""The output streams of a video repair, each fed the source's packets one at a time: a packet copier, a
video re-encoder (decode, frame rate, scale, H.264) and an audio re-encoder. Each holds at most a few
frames at a time, whatever the length of the video."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import av
from av.video.reformatter import ColorRange

from functions.repair.results import RepairRefusedError
from functions.repair.sources import counter_clockwise

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import OutputContainer
    from av.packet import Packet
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

    from functions.repair.results import VideoRepairPlan

# libx264 first: the best software encoder; libopenh264 is what an LGPL-only FFmpeg build may carry.
H264_ENCODERS = ("libx264", "libopenh264")
# veryfast: about twice as fast as the default preset at a few percent more bits, which matters in Lambda;
# CRF 20 stays visually lossless enough for TikTok, which re-encodes what it receives.
_X264_OPTIONS = {"preset": "veryfast", "crf": "20"}
_FALLBACK_BITRATE = 8_000_000
_AAC_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_AUDIO_CODEC = {"mp4": "aac", "webm": "libopus"}


def h264_encoder() -> str:
    """The software H.264 encoder this PyAV build carries."""
    for name in H264_ENCODERS:
        if name in av.codecs_available:
            return name
    raise RuntimeError(
        f"this PyAV build has no software H.264 encoder (looked for {', '.join(H264_ENCODERS)})"
    )


class PacketCopier:
    """Packets copied as they are (a remux): the codec parameters and the rotation come with the stream."""

    def __init__(self, output: OutputContainer, source: Any) -> None:
        self._output = output
        self.stream = output.add_stream_from_template(source)

    def feed(self, packet: Packet[Any]) -> None:
        if packet.size == 0:
            return  # the empty packet that ends a stream
        packet.stream = self.stream
        self._output.mux(packet)

    def finish(self) -> None:
        return


class VideoReencoder:
    """Every frame decoded, resampled to the planned frame rate and size, and encoded as H.264 yuv420p.

    The frame rate goes through FFmpeg's fps filter: for each output time it takes the source frame shown
    then, dropping or repeating frames by presentation time, so the video keeps its timing and stays in
    sync with the audio, whose timestamps are kept."""

    def __init__(self, output: OutputContainer, source: VideoStream, plan: VideoRepairPlan) -> None:
        self._output = output
        self._source = source
        self._plan = plan
        source.thread_type = "AUTO"  # frame and slice threads: decoding is half of the work
        encoder = h264_encoder()
        options = dict(_X264_OPTIONS) if encoder == "libx264" else {}
        # VBV caps the peaks so the file stays under TikTok's 4 GB whatever the content.
        options |= {"maxrate": str(plan.max_bitrate), "bufsize": str(2 * plan.max_bitrate)}
        self.stream = cast("VideoStream", output.add_stream(encoder, rate=plan.fps, options=options))
        self.stream.width, self.stream.height, self.stream.pix_fmt = plan.width, plan.height, "yuv420p"
        if encoder != "libx264":
            self.stream.bit_rate = min(_FALLBACK_BITRATE, plan.max_bitrate)
        if plan.rotation:
            self.stream.set_display_rotation(counter_clockwise(plan.rotation))
        self._graph: av.filter.Graph | None = None
        self._colours_set = False
        rate, time_base = source.average_rate, source.time_base
        self._frame_ticks = max(1, round(1 / (rate * time_base))) if rate and time_base else 1
        self._last_pts = -self._frame_ticks

    def feed(self, packet: Packet[Any]) -> None:
        for frame in decoded(packet):
            self._filter(frame)

    def finish(self) -> None:
        if self._graph is not None:
            self._graph.push(None)
            self._encode_filtered()
        self._output.mux(self.stream.encode(None))

    def _filter(self, frame: VideoFrame) -> None:
        if frame.pts is None:  # some AVI and raw streams: number it on from the frame before
            frame.pts = self._last_pts + self._frame_ticks
        self._last_pts = frame.pts
        if self._graph is None:
            self._graph = self._build_graph(frame)
        self._graph.push(frame)
        self._encode_filtered()

    def _build_graph(self, first: VideoFrame) -> av.filter.Graph:
        plan = self._plan
        graph = av.filter.Graph()
        graph.link_nodes(
            graph.add_buffer(
                width=first.width, height=first.height, format=first.format, time_base=self._source.time_base
            ),
            graph.add("fps", f"fps={plan.fps.numerator}/{plan.fps.denominator}"),
            graph.add("scale", f"{plan.width}:{plan.height}:flags=lanczos:out_range=tv"),
            graph.add("format", "yuv420p"),
            graph.add("buffersink"),
        ).configure()
        return graph

    def _encode_filtered(self) -> None:
        if self._graph is None:
            return
        while True:
            try:
                frame = self._graph.vpull()
            except (av.BlockingIOError, av.EOFError):
                return
            self._copy_colours(frame)
            self._output.mux(self.stream.encode(frame))

    def _copy_colours(self, frame: VideoFrame) -> None:
        """Tag the output with the source's colour description, so players show the same colours; the
        range is always limited (TV), which every player reads, where full range is often ignored."""
        if self._colours_set:
            return
        context = self.stream.codec_context
        context.color_primaries, context.color_trc = frame.color_primaries, frame.color_trc
        context.colorspace = frame.colorspace
        context.color_range = ColorRange.MPEG  # what the scale filter's out_range=tv makes
        self._colours_set = True


class AudioReencoder:
    """Every audio frame decoded and encoded to the output container's codec (AAC in MP4, Opus in WebM);
    PyAV's encoder converts the sample format, rate and frame size, keeping the timestamps."""

    def __init__(self, output: OutputContainer, source: AudioStream, container: str) -> None:
        self._output = output
        codec = _AUDIO_CODEC[container]
        rate = source.rate if codec == "aac" and source.rate in _AAC_RATES else 48000
        self.stream = cast("AudioStream", output.add_stream(codec, rate=rate))
        mono = source.channels == 1
        self.stream.layout = "mono" if mono else "stereo"  # more channels are mixed down to stereo
        self.stream.bit_rate = 128_000 if mono else 192_000

    def feed(self, packet: Packet[Any]) -> None:
        for frame in decoded(packet):
            self._output.mux(self.stream.encode(frame))

    def finish(self) -> None:
        self._output.mux(self.stream.encode(None))


def decoded(packet: Packet[Any]) -> list[Any]:
    """The frames of a packet; an empty packet flushes the decoder. Undecodable data is refused."""
    try:
        return list(packet.decode())
    except av.FFmpegError as exc:
        raise RepairRefusedError(
            "media_corrupt", f"the video cannot be decoded (FFmpeg: {exc.strerror or exc})"
        ) from exc
