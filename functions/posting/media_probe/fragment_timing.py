"""Duration and frame rate of a fragmented MP4/MOV (moov with mvex, then moof/mdat pairs), from its
video samples only: those in the moov's sample tables, the first video fragments and the last ones.

The duration comes from, in order: the mehd; a sidx indexing the whole file; the decode time (tfdt)
at the end of the last video fragment, counted from the start of the first (from 0 when the moov
holds samples); the sum of every fragment's sample durations when all were seen. The last video
fragment is looked for in the tail of the file, then at the last key-frame fragment the mfra lists,
then by walking box headers from the first fragment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.posting.media_probe.fragment_search import _mfra_fragments, _scan_tail, _Tail, _walk
from functions.posting.media_probe.fragmented import _Context, _Defaults, _Fragment
from functions.posting.media_probe.limits import _FULL_WALK_READS, _HEAD_WALK_READS
from functions.posting.media_probe.results import MediaProbeError

if TYPE_CHECKING:
    from functions.posting.media_probe.fragment_index import _Sidx
    from functions.posting.media_probe.mp4 import _Movie, _Track
    from functions.posting.media_probe.reader import _Reader


def _fragmented_timing(
    reader: _Reader, movie: _Movie, track: _Track, after_moov: int
) -> tuple[float | None, float | None]:
    """(duration in seconds, frames per second) of the video track; None when the bounded reads could
    not tell."""
    context = _Context(
        track.track_id,
        frozenset(other.track_id for other in movie.tracks),
        {track_id: _Defaults(*defaults) for track_id, defaults in movie.trex.items()},
    )
    head = _walk(reader, after_moov, context, reads=_HEAD_WALK_READS, until_video=True)
    tail = _Tail(context, reader.size) if head.complete else _scan_tail(reader, context, head.stop)
    # Runs of video fragments with none missing between them; the first starts the video.
    first = [_Fragment(-1, 0, track.samples, track.ticks, track.first_delta)] if track.samples else []
    first += [fragment for fragment in head.fragments if fragment.samples]
    later = [fragment for fragment in tail.fragments if fragment.samples]
    complete = head.complete or head.stop in tail.starts
    if not complete and not later:
        located = _mfra_fragments(reader, tail, head.stop)
        if located is not None and located.complete:
            later = [fragment for fragment in located.fragments if fragment.samples]
    if not complete and (not later or later[-1].base_time is None):
        walk = _walk(reader, head.stop, context, reads=_FULL_WALK_READS, until_video=False)
        if walk.complete:
            complete = True
            later = [fragment for fragment in walk.fragments if fragment.samples]
    if complete and not first and not later:
        raise MediaProbeError("the video track has no frames: no fragment of the file holds a video sample")
    runs = [first + later] if complete else [first, later]
    sidx = _whole_file_sidx(head.indexes, track, reader.size, tail)
    return _duration(movie, track, runs, complete, sidx), _fps(
        runs, track.timescale, starts_video=bool(first)
    )


def _whole_file_sidx(indexes: list[_Sidx], track: _Track, size: int, tail: _Tail) -> _Sidx | None:
    """The video track's sidx if it indexes every fragment: its media ends where the file (or the
    mfra ending the file) does."""
    ends = {size} | ({size - tail.mfra_size} if tail.mfra_size else set())
    return next(
        (
            sidx
            for sidx in indexes
            if sidx.reference_id == track.track_id and sidx.timescale and sidx.end in ends
        ),
        None,
    )


def _duration(
    movie: _Movie, track: _Track, runs: list[list[_Fragment]], complete: bool, sidx: _Sidx | None
) -> float | None:
    if movie.fragment_duration and movie.timescale:
        return movie.fragment_duration / movie.timescale
    if sidx is not None:
        return sidx.duration / sidx.timescale
    if not track.timescale:
        return None
    first = runs[0][0] if runs[0] else None
    last = runs[-1][-1] if runs[-1] else None
    # Decode times first: some writers leave sample durations at 0 and rely on the next tfdt.
    if first is not None and last is not None and first.base_time is not None and last.base_time is not None:
        end = last.base_time + last.ticks
        return (end - first.base_time) / track.timescale if end > first.base_time else None
    if complete:
        return sum(fragment.ticks for fragment in runs[0]) / track.timescale
    return None  # where the video starts or ends is unknown


def _fps(runs: list[list[_Fragment]], timescale: int, *, starts_video: bool) -> float | None:
    """Frames per second over the video samples seen, but the first one: writers often give the first
    sample of a recording an odd duration (the audio started first, or the clock did)."""
    if timescale <= 0:
        return None
    samples = span = 0
    for index, run in enumerate(runs):
        counted = _timed_span(run, drop_first=starts_video and index == 0)
        if counted is not None:
            samples, span = samples + counted[0], span + counted[1]
    if samples > 0 and span > 0:
        return round(samples * timescale / span, 3)
    # No decode times to measure between: the sample durations of the fragments seen.
    parts = [fragment for run in runs for fragment in run]
    samples = sum(fragment.samples for fragment in parts)
    ticks = sum(fragment.ticks for fragment in parts)
    if starts_video and samples >= 2 and ticks > parts[0].first_duration:
        samples, ticks = samples - 1, ticks - parts[0].first_duration
    return round(samples * timescale / ticks, 3) if samples > 0 and ticks > 0 else None


def _timed_span(run: list[_Fragment], *, drop_first: bool) -> tuple[int, int] | None:
    """(samples, ticks from the first counted sample to the last fragment's decode time) of a run of
    consecutive video fragments that all have a decode time."""
    if len(run) < 2 or any(fragment.base_time is None for fragment in run):
        return None
    start, samples = run[0].base_time or 0, 0
    if drop_first and run[0].samples == 1:
        run = run[1:]
        start = run[0].base_time or 0
    elif drop_first:
        start, samples = start + run[0].first_duration, -1
    samples += sum(fragment.samples for fragment in run[:-1])
    span = (run[-1].base_time or 0) - start
    return (samples, span) if samples > 0 and span > 0 else None
