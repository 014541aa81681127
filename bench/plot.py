"""bench/results.png from bench/results.json, drawn with Pillow (no plotting library needed):
`python -m bench.plot [results.json] [results.png]`. One panel per measurement; a panel whose section
is missing from the results says so."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from bench.run import verdict

HERE = Path(__file__).resolve().parent
PANEL_W, PANEL_H = 620, 430
COLUMNS = 3
BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
GRID = (225, 225, 225)
BASELINE = (140, 140, 140)
OURS = (254, 44, 85)
OTHER = (37, 244, 238)
WARN = (230, 120, 0)
GOOD = (40, 160, 80)

Bar = tuple[str, float, tuple[int, int, int]]
Line = tuple[str, float, tuple[int, int, int]]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _bars(
    draw: ImageDraw.ImageDraw,
    origin: tuple[int, int],
    *,
    title: str,
    bars: Sequence[Bar],
    unit: str,
    lines: Sequence[Line] = (),
    note: str = "",
) -> None:
    x0, y0 = origin
    title_font, font, small = _font(17), _font(12), _font(11)
    draw.text((x0 + 16, y0 + 10), title, fill=INK, font=title_font)
    if note:
        draw.text((x0 + 16, y0 + 34), note, fill=BASELINE, font=small)
    left, right, top, bottom = x0 + 60, x0 + PANEL_W - 20, y0 + 60, y0 + PANEL_H - 90
    if not bars:
        draw.text((left, top + 40), "not measured in this run", fill=BASELINE, font=font)
        return
    peak = max([b[1] for b in bars] + [v for _l, v, _c in lines] + [1e-9]) * 1.15
    for step in range(5):
        value = peak * step / 4
        y = bottom - (bottom - top) * step / 4
        draw.line((left, y, right, y), fill=GRID)
        draw.text((x0 + 8, y - 7), _number(value), fill=BASELINE, font=small)
    draw.text((x0 + 8, top - 18), unit, fill=BASELINE, font=small)
    slot = (right - left) / len(bars)
    width = min(slot * 0.6, 60)
    for index, (label, value, colour) in enumerate(bars):
        cx = left + slot * (index + 0.5)
        y = bottom - (bottom - top) * value / peak
        draw.rectangle((cx - width / 2, y, cx + width / 2, bottom), fill=colour)
        draw.text((cx, y - 4), _number(value), fill=INK, font=small, anchor="md")
        for row, part in enumerate(_wrap(label, max(5, int(slot / 6.5)))):
            draw.text((cx, bottom + 6 + row * 13), part, fill=INK, font=small, anchor="ma")
    for label, value, colour in lines:
        y = bottom - (bottom - top) * value / peak
        for start in range(int(left), int(right), 12):
            draw.line((start, y, min(start + 6, right), y), fill=colour, width=2)
        draw.text((right - 4, y - 3), label, fill=colour, font=small, anchor="rd")


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n % 2**20 == 0 else f"{n / 1e6:.0f} MB"


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _wrap(text: str, width: int) -> list[str]:
    words, rows, current = text.replace("_", " ").split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            rows.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    rows.append(current)
    return rows[:4]


def _upload(results: dict[str, Any]) -> tuple[list[Bar], list[Line], str]:
    upload = results.get("upload") or {}
    mbps = upload.get("mb_per_s_median") or {}
    if not mbps:
        return [], [], ""
    colours = {"ours_64MB": OURS, "ours_10MiB": OURS, "plain_copy": OTHER}
    bars = [(name, float(value), colours.get(name, BASELINE)) for name, value in mbps.items()]
    limit = upload.get("limit", {}).get("mb_per_s", 0.0)
    ratios = upload.get("ratios", {})
    note = (
        f"{upload.get('bytes', 0) / 2**30:.2g} GiB; ours(64 MB) = {ratios.get('ours_64MB_vs_plain_copy', 0):.2f}x plain copy, "
        f"{ratios.get('ours_64MB_vs_limit', 0):.2f}x limit"
    )
    moving = (upload.get("after_first_byte") or {}).get("ratios") or {}
    if "ours_64MB_vs_bare_get" in moving:
        note += f"; after moto's first byte {moving['ours_64MB_vs_bare_get']:.2f}x bare GET"
    return bars, [("0.8 x limit", 0.8 * limit, WARN), ("limit", limit, INK)], note


def _memory(results: dict[str, Any]) -> tuple[list[Bar], str]:
    memory = results.get("memory") or {}
    bars = [
        (f"{c['bytes'] / 2**20:.0f} MiB, {_size(c['chunk_size'])} chunks", float(c["peak_rss_mib"]), OURS)
        for c in memory.get("cases", [])
    ]
    note = f"peak max/min {memory.get('peak_max_vs_min', 0):.3f}; growth <= {memory.get('growth_max_mib', 0)} MiB"
    return bars, note


def _coldstart(
    results: dict[str, Any],
) -> tuple[list[Bar], list[Line], str]:
    cold = results.get("coldstart") or {}
    handlers = cold.get("handlers") or {}
    bars = [(name, float(h["tracing_on"]["median_ms"]), OURS) for name, h in handlers.items()]
    boto3 = float(cold.get("import_boto3", {}).get("median_ms", 0.0))
    lines = (
        [("import boto3", boto3, BASELINE), ("300 ms bar", float(cold.get("bar_ms", 300)), WARN)]
        if bars
        else []
    )
    note = "median import, Lambda env, tracing on"
    if "no_bytecode_ms_median" in cold:
        note += f"; without bytecode {cold['no_bytecode_ms_median']:.0f} ms"
    return bars, lines, note


def _cost(results: dict[str, Any]) -> tuple[list[Bar], str]:
    kinds = (results.get("cost") or {}).get("kinds") or {}
    bars = [(name, float(k["usd_per_1000_posts"]["total"]), OTHER) for name, k in kinds.items()]
    transitions = ", ".join(f"{k['state_transitions_per_post']:.0f}" for k in kinds.values())
    return bars, f"state transitions per post: {transitions}"


def _resilience(results: dict[str, Any]) -> tuple[list[Bar], str]:
    res = results.get("resilience") or {}
    if not res:
        return [], ""
    bad = [
        name
        for name in (
            "lost",
            "duplicated",
            "cap_overshoots",
            "limiter_preventable_429",
            "spam_risk_caused_by_posts_elsewhere",
        )
        if name in res
    ]
    bars: list[Bar] = [
        ("published", float(res["published"]), GOOD),
        ("waiting", float(res["waiting"]), OTHER),
        ("failed", float(res["failed"]), WARN),
    ]
    bars += [(name, float(res[name]), OURS if res[name] else GOOD) for name in bad]
    return (
        bars,
        f"{res['dropped']} posts, {res['config']['creators']} creators, cap {res['config']['daily_cap']}/24 h",
    )


def _scale(results: dict[str, Any]) -> tuple[list[Bar], list[Line], str]:
    scale = results.get("scale") or {}
    ratios = scale.get("ratios") or {}
    if not ratios:
        return [], [], ""
    names = {
        "usd": "USD",
        "wall_seconds": "wall time",
        "cpu_seconds": "CPU time",
        "tiktok_calls": "TikTok calls",
        "dynamodb_read_units": "DynamoDB reads",
        "dynamodb_write_units": "DynamoDB writes",
    }
    target = float(scale.get("targets", {}).get("per_post_ratio_at_most", 1.1))
    bars: list[Bar] = [
        (label, float(ratios[key]), GOOD if float(ratios[key]) <= target else OURS)
        for key, label in names.items()
        if ratios.get(key) is not None
    ]
    sizes = [str(s) for s in scale.get("config", {}).get("sizes", [])]
    note = (
        f"per post, {' vs '.join(sizes)} posts, {scale.get('config', {}).get('creators', '?')} creators; "
        f"most written key {100 * float(scale.get('targets', {}).get('top_key_share') or 0):.2f}% of writes"
    )
    return bars, [("same per post", 1.0, BASELINE), (f"{target} target", target, WARN)], note


def _targets(draw: ImageDraw.ImageDraw, origin: tuple[int, int], results: dict[str, Any]) -> None:
    x0, y0 = origin
    draw.text((x0 + 16, y0 + 10), "Targets", fill=INK, font=_font(17))
    font = _font(12)
    targets = results.get("targets") or {}
    for row, (name, target) in enumerate(targets.items()):
        shown_verdict = verdict(target)
        value = target.get("value")
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        if len(shown) > 28:
            shown = shown[:27] + "..."
        draw.text(
            (x0 + 16, y0 + 44 + row * 20),
            f"{shown_verdict}  {name}: {shown}",
            fill={"met   ": GOOD, "MISSED": OURS}.get(shown_verdict, INK),
            font=font,
        )
    for row, (name, error) in enumerate((results.get("errors") or {}).items(), start=len(targets)):
        draw.text((x0 + 16, y0 + 44 + row * 20), f"ERROR   {name}: {error[:60]}", fill=WARN, font=font)


def draw(results: dict[str, Any], out: Path) -> Path:
    image = Image.new("RGB", (PANEL_W * COLUMNS, PANEL_H * 3 + 40), BACKGROUND)
    pen = ImageDraw.Draw(image)
    machine = results.get("machine") or {}
    header = (
        f"tiktok-publisher bench ({results.get('mode', '')})  {results.get('finished_at', '')}  "
        f"{machine.get('cpus', '?')} cpus, load {machine.get('load_average_at_start', '?')}"
    )
    pen.text((16, 10), header, fill=INK, font=_font(18))

    def at(index: int) -> tuple[int, int]:
        return (index % COLUMNS) * PANEL_W, 40 + (index // COLUMNS) * PANEL_H

    bars, lines, note = _upload(results)
    _bars(pen, at(0), title="Upload path, MB/s (median)", bars=bars, unit="MB/s", lines=lines, note=note)
    bars, note = _memory(results)
    _bars(pen, at(1), title="Upload step: peak RSS", bars=bars, unit="MiB", note=note)
    bars, lines, note = _coldstart(results)
    _bars(pen, at(2), title="Handler import time", bars=bars, unit="ms", lines=lines, note=note)
    bars, note = _cost(results)
    _bars(pen, at(3), title="USD per 1,000 posts (model)", bars=bars, unit="USD", note=note)
    bars, note = _resilience(results)
    _bars(pen, at(4), title="Resilience run (counts)", bars=bars, unit="posts", note=note)
    bars, lines, note = _scale(results)
    _bars(
        pen,
        at(5),
        title="Scale: larger run / smaller, per post",
        bars=bars,
        unit="ratio",
        lines=lines,
        note=note,
    )
    _targets(pen, at(6), results)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, "PNG")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else HERE / "results.json"
    target = Path(args[1]) if len(args) > 1 else source.with_suffix(".png")
    draw(json.loads(source.read_text()), target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
