"""creator_info answers the review tests share."""

from __future__ import annotations

from functions.tiktok.models import CreatorInfo

# A private account with every interaction turned off in the app: followers instead of everyone.
PRIVATE = CreatorInfo(
    creator_username="priv",
    creator_nickname="Priv",
    privacy_level_options=["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    comment_disabled=True,
    duet_disabled=True,
    stitch_disabled=True,
)
