"""What Prepare decides about repair: whether media that breaks one of TikTok's rules can be made to follow
it (functions/repair), or fails as it is. Only what a probe can tell is decided here; the Repair step reads
the file itself (PyAV) and may still refuse it.

A post whose media follows the rules never reaches this module's decisions. One that breaks a rule:
- with repair turned off (the manifest's `repair: false`, or the account's saved preference), fails with
  the rule it breaks, as without repair;
- in a container our probe does not parse but FFmpeg reads (AVI, FLV, MPEG-TS/PS, Ogg), goes to Repair,
  which reads it and plans there;
- otherwise is planned from the probe: refused at once when no repair can make it follow the rules (too
  long for the creator, a frame rate or duration nobody can read, proportions no scale fits), failed with
  its rule when the broken rule is one no repair changes (a file over 4 GB whose picture follows every
  rule), else it goes to Repair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.posting.media_probe.identify import file_kind
from functions.posting.media_probe.limits import SNIFF_BYTES
from functions.repair.plan import plan_photo_repair, plan_video_repair

if TYPE_CHECKING:
    from functions.posting.errors import PostRejectedError
    from functions.posting.media_probe import ImageProbe, ReadRange, VideoProbe

# The rules (rules.py's reasons) a repair can make a video follow; the others fail as they are.
REPAIRABLE_RULES = frozenset(
    {"file_format_check_failed", "frame_rate_check_failed", "picture_size_check_failed"}
)
# Containers FFmpeg reads that our probe does not parse (identify.py's names for them).
PYAV_ONLY_CONTAINERS = frozenset({"avi", "flv", "mpeg-ts", "mpeg-ps", "ogg"})


def read_only_by_pyav(read_range: ReadRange) -> bool:
    """Whether the file is a video container the Repair step can read though our probe cannot."""
    return file_kind(read_range(0, SNIFF_BYTES - 1)) in PYAV_ONLY_CONTAINERS


def video_needs(
    broken: PostRejectedError, probe: VideoProbe | None, *, max_duration_seconds: int
) -> dict[str, Any]:
    """The repair of a video that broke `broken`'s rule (`probe` None: only PyAV can read it), as Prepare
    records it for the Repair step; raises `broken` when no repair changes that rule, RepairRefusedError
    when the video cannot be repaired."""
    if broken.reason not in REPAIRABLE_RULES:
        raise broken  # too long for the creator, or unreadable: what no repair changes
    planned: list[str] = []
    if probe is not None:
        plan = plan_video_repair(probe, max_duration_seconds=max_duration_seconds)
        if not plan.needed:
            raise broken
        planned = [str(change) for change in plan.changes]
    return {"why": f"{broken.reason}: {broken.detail}", "planned": planned}


def photo_needs(broken: PostRejectedError, probe: ImageProbe, size: int) -> dict[str, Any]:
    """The repair of a photo that broke `broken`'s rule; raises `broken` when no repair changes it."""
    plan = plan_photo_repair(probe, size)
    if not plan.needed:
        raise broken
    return {"why": f"{broken.reason}: {broken.detail}", "planned": [str(c) for c in plan.changes]}
