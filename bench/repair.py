"""Media repair (functions/repair): throughput against a plain PyAV transcode in the same process, peak memory
against input length, and what a repaired post adds to the bill.

Each input is made here: a smooth random texture that moves every frame (so no frame repeats and the encoder
works as on camera footage) in the codec and container of a case TikTok would reject. Each measurement runs
in a process of its own (`python -m bench.repair --worker ...`), so its peak memory is its own:

- repair: read_video_facts, plan_video_repair and repair_video, as the Repair step runs them (the copy
  written to a file, as the step writes it to S3);
- baseline: what `ffmpeg -i in -vf fps,scale -c:v libx264 -preset veryfast -crf 20 -c:a copy out.mp4`
  does, with PyAV: demux, decode, the same filters and encoder settings, mux with faststart; no checks.

Throughput is seconds of source per second of wall time and per CPU-second (user + system); the target is
repair >= 0.9x the baseline's wall throughput. Memory: the repair's peak RSS for a source and for one four
times longer (flat: within 1.25x). The cost is the Lambda bill of the repair at the estimated Lambda speed
(functions/repair/budget.py), per minute of source, plus the two state transitions Repair adds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# (name, container, encoder, width, height, fps, pixel format, audio)
CASES = (
    ("h264_1080p120", "mp4", "libx264", 1920, 1080, 120, "yuv420p", "aac"),
    ("prores_1080p30", "mov", "prores_ks", 1920, 1080, 30, "yuv422p10le", "pcm_s16le"),
    ("mpeg4_1080p30", "mov", "mpeg4", 1920, 1080, 30, "yuv420p", "aac"),
    ("hevc_4k120", "mp4", "libx265", 3840, 2160, 120, "yuv420p", None),
)
_SOURCE_OPTIONS = {
    "libx264": {"preset": "veryfast", "crf": "18"},
    "libx265": {"preset": "ultrafast", "crf": "20", "x265-params": "log-level=error"},
    "mpeg4": {"qscale": "3"},
}
# Lambda arm64 price per GB-second and per state transition (eu-west-1, 2026 price lists).
LAMBDA_ARM_GB_SECOND = 0.0000133334
STATE_TRANSITION = 0.000025


def make_source(path: Path, case: tuple[Any, ...], seconds: float) -> None:
    import av

    _name, container, encoder, width, height, fps, pix_fmt, audio = case
    with av.open(str(path), "w", format=container) as output:
        video: Any = output.add_stream(encoder, rate=fps, options=_SOURCE_OPTIONS.get(encoder, {}))
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        sound: Any = output.add_stream(audio, rate=48000) if audio else None
        if sound is not None:
            sound.layout = "stereo"
        small = av.VideoFrame(max(width // 8, 16), max(height // 16, 16), "gray")
        small.planes[0].update(os.urandom(small.planes[0].buffer_size))
        texture = small.reformat(width=2 * width, height=height, format="gray", interpolation="BICUBIC")
        rows, stride = bytes(texture.planes[0]), texture.planes[0].line_size
        samples = 0
        for index in range(int(fps * seconds)):
            frame = av.VideoFrame(width, height, "yuv420p")
            luma, shift = frame.planes[0], (index * 8) % width
            luma.update(
                b"".join(
                    rows[r * stride + shift : r * stride + shift + width].ljust(luma.line_size, b"\0")
                    for r in range(height)
                )
            )
            for chroma in frame.planes[1:]:
                chroma.update(bytes([(96 + index) % 256]) * chroma.buffer_size)
            frame = frame.reformat(format=pix_fmt) if pix_fmt != "yuv420p" else frame
            frame.pts, frame.time_base = index, Fraction(1, fps)
            output.mux(video.encode(frame))
            while sound is not None and samples < (index + 1) * 48000 / fps:
                silence = av.AudioFrame(format=sound.format.name, layout="stereo", samples=1024)
                for plane in silence.planes:
                    plane.update(bytes(plane.buffer_size))
                silence.sample_rate, silence.pts = 48000, samples
                output.mux(sound.encode(silence))
                samples += 1024
        output.mux(video.encode(None))
        if sound is not None:
            output.mux(sound.encode(None))


def _repair(source: Path, target: Path) -> dict[str, Any]:
    from functions.repair.plan import plan_video_repair
    from functions.repair.sources import read_video_facts
    from functions.repair.video import repair_video

    with source.open("rb") as reader, target.open("wb") as writer:
        facts = read_video_facts(reader)
        plan = plan_video_repair(facts.probe, max_duration_seconds=3600, audio_codec=facts.audio_codec)
        outcome = repair_video(reader, writer, plan)
    return {"changes": [str(c) for c in outcome.changes], "seconds_of_source": plan.source_duration_seconds}


def _baseline(source: Path, target: Path) -> dict[str, Any]:
    """The plain transcode, planned the same way so both make the same output."""
    import av

    from functions.repair.plan import plan_video_repair
    from functions.repair.sources import read_video_facts

    with source.open("rb") as reader:
        facts = read_video_facts(reader)
    plan = plan_video_repair(facts.probe, max_duration_seconds=3600, audio_codec=facts.audio_codec)
    with av.open(str(source)) as inp, av.open(str(target), "w", options={"movflags": "+faststart"}) as out:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        options = {"preset": "veryfast", "crf": "20"}
        vout: Any = out.add_stream("libx264", rate=plan.fps, options=options)
        vout.width, vout.height, vout.pix_fmt = plan.width, plan.height, "yuv420p"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        aout: Any = None
        if ain is not None:
            aout = out.add_stream_from_template(ain) if plan.audio == "copy" else out.add_stream("aac")
        graph: Any = None
        for packet in inp.demux([s for s in (vin, ain) if s is not None]):
            if packet.stream is vin:
                for frame in packet.decode():
                    if graph is None:
                        graph = av.filter.Graph()
                        graph.link_nodes(
                            graph.add_buffer(template=vin),
                            graph.add("fps", f"fps={plan.fps.numerator}/{plan.fps.denominator}"),
                            graph.add("scale", f"{plan.width}:{plan.height}:flags=lanczos"),
                            graph.add("format", "yuv420p"),
                            graph.add("buffersink"),
                        ).configure()
                    graph.push(frame)
                    _drain(graph, vout, out)
            elif plan.audio == "copy":
                if packet.size:
                    packet.stream = aout
                    out.mux(packet)
            else:
                for frame in packet.decode():
                    out.mux(aout.encode(frame))
        if graph is not None:
            graph.push(None)
            _drain(graph, vout, out)
        out.mux(vout.encode(None))
        if aout is not None and plan.audio != "copy":
            out.mux(aout.encode(None))
    return {"seconds_of_source": plan.source_duration_seconds}


def _drain(graph: Any, stream: Any, output: Any) -> None:
    import av

    while True:
        try:
            frame = graph.vpull()
        except (av.BlockingIOError, av.EOFError):
            return
        output.mux(stream.encode(frame))


def worker(mode: str, source: Path) -> dict[str, Any]:
    """One measurement in this process: wall, CPU and peak RSS."""
    import av  # imported before the clock starts: the Lambda's cold start is not the repair's

    del av
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "out.mp4"
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        done = (_repair if mode == "repair" else _baseline)(source, target)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        done["output_bytes"] = target.stat().st_size
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**done, "wall_seconds": wall, "cpu_seconds": cpu, "peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    """This process's own peak (VmHWM): ru_maxrss would include the parent's size at fork, kept across
    exec by Linux."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_worker(mode: str, source: Path) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - this module, by the interpreter running it
        [sys.executable, "-m", "bench.repair", "--worker", mode, str(source)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(*, quick: bool, log: Any = print, rounds: int = 2) -> dict[str, Any]:
    from functions.repair import budget

    seconds = 1.0 if quick else 3.0
    cases: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-repair-") as folder:
        for case in CASES:
            name = case[0]
            source = Path(folder) / f"{name}.{case[1]}"
            make_source(source, case, seconds / 2 if name.startswith("hevc") else seconds)
            runs = {
                mode: [_run_worker(mode, source) for _ in range(rounds)] for mode in ("repair", "baseline")
            }
            best = {mode: min(r, key=lambda x: x["wall_seconds"]) for mode, r in runs.items()}
            length = best["repair"]["seconds_of_source"]
            cases[name] = {
                "changes": best["repair"]["changes"],
                "source_bytes": source.stat().st_size,
                "source_seconds": length,
                **{
                    f"{mode}_{what}": round(length / best[mode][key], 3)
                    for mode in ("repair", "baseline")
                    for what, key in (
                        ("source_s_per_wall_s", "wall_seconds"),
                        ("source_s_per_cpu_s", "cpu_seconds"),
                    )
                },
                "repair_vs_baseline": round(
                    best["baseline"]["wall_seconds"] / best["repair"]["wall_seconds"], 3
                ),
                "repair_peak_rss_mb": round(best["repair"]["peak_rss_mb"]),
                "baseline_peak_rss_mb": round(best["baseline"]["peak_rss_mb"]),
            }
            log(f"[bench] repair {name}: {json.dumps(cases[name])}")
        longer = Path(folder) / "h264_1080p120_x4.mp4"
        make_source(longer, CASES[0], 4 * seconds)
        long_rss = _run_worker("repair", longer)["peak_rss_mb"]
    short_rss = cases["h264_1080p120"]["repair_peak_rss_mb"]
    ratios = [c["repair_vs_baseline"] for c in cases.values()]
    # The bill: the repair's wall time on Lambda (budget.py's allowance for arm64 and the function's vCPUs)
    # at the function's memory, per minute of source.
    vcpus = budget.function_vcpus(3008)
    per_minute = {
        name: round(
            60
            / c["repair_source_s_per_cpu_s"]
            * budget.ARM_SLOWER
            / (vcpus * budget.THREAD_EFFICIENCY)
            * 3.008
            * LAMBDA_ARM_GB_SECOND,
            5,
        )
        for name, c in cases.items()
    }
    return {
        "cases": cases,
        "memory": {
            "source_seconds": [seconds, 4 * seconds],
            "peak_rss_mb": [short_rss, round(long_rss)],
            "long_vs_short": round(long_rss / short_rss, 3),
            "met": long_rss / short_rss <= 1.25,
        },
        "repair_vs_baseline_min": min(ratios),
        "met": min(ratios) >= 0.9,
        "lambda_usd_per_source_minute": per_minute,
        "added_state_transitions": 2,
        "added_transitions_usd": 2 * STATE_TRANSITION,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "SOURCE"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]))))
        return
    print(json.dumps(measure(quick=args.quick), indent=2))


if __name__ == "__main__":
    main()
