"""The demo's repaired clip: a phone's 120 fps recording, which TikTok would reject (23-60 fps), posted as
it is; the workflow repairs it into a 60 fps copy under derived/ and sends that. Once published, TikTok
must hold exactly the copy's bytes, and the demo says what changed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local.media import clip

if TYPE_CHECKING:
    from local.embedded import EmbeddedSystem
    from local.progress import Progress

LABEL = "repaired"


def drop_repair_clip(system: EmbeddedSystem, progress: Progress, account: str) -> tuple[str, bytes]:
    """A 120 fps H.264 clip with AAC audio and its manifest; (the manifest's key, the clip)."""
    media = clip(fps=120, frames=120, width=720, height=1280, audio="aac")
    system.put_object(f"posts/{account}/media/demo-120fps.mp4", media, "video/mp4")
    manifest = {
        "video": "media/demo-120fps.mp4",
        "mode": "direct",
        "privacy_level": "SELF_ONLY",
        "caption": "make demo: shot at 120 fps #sandbox",
    }
    key = f"posts/{account}/demo-120fps.json"
    system.put_object(key, json.dumps(manifest).encode(), "application/json")
    progress.say(
        f"repair: a 1 s 720x1280 clip at 120 fps ({len(media) // 1024} KiB), which TikTok would refuse, "
        f"manifest {key}"
    )
    return key, media


def sent_copy(system: EmbeddedSystem, post: dict[str, Any]) -> bytes:
    """The bytes the post sends: its repaired copy (the original when nothing was repaired)."""
    video = post["prepared"]["video"]
    extra = {"VersionId": video["version_id"]} if video.get("version_id") else {}
    answer = system.rt.client("s3").get_object(Bucket=system.rt.bucket, Key=video["key"], **extra)
    return answer["Body"].read()  # type: ignore[no-any-return]


def what_changed(post: dict[str, Any]) -> str:
    repair = post.get("repair") or {}
    changes = "; ".join(repair.get("changes") or []) or "nothing"
    items = repair.get("items") or [{}]
    where = (items[0].get("derived") or {}).get("key", "?")
    seconds = repair.get("seconds")
    took = f" in {seconds:.1f} s" if isinstance(seconds, int | float) else ""
    return f"{LABEL}: {changes}{took}; TikTok was sent the copy {where}, the original is unchanged"
