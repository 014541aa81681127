"""Media TikTok would reject, repaired by the workflow (the CDK-defined state machine in moto, every handler in
process under its own role, the sandbox as TikTok): each rule of a small generated corpus is repaired into a
copy under derived/ that passes the project's probe and the sandbox's media checks and is published
(PUBLISH_COMPLETE); what cannot be repaired fails with its reason; repair turned off fails as before; a post
whose media is fine passes no repair state."""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import pytest
import requests

from functions.posting.media_probe import ImageProbe, probe_image, probe_video
from functions.posting.rules import check_photo, check_video
from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.media import clip, heic, image, photo

MIB = 1024 * 1024
DIRECT = {"mode": "direct", "privacy_level": "SELF_ONLY"}
ENV = {Env.APP_STATUS: "audited", Env.UPLOAD_CHUNK_BYTES: str(5 * MIB)}
ENDS = {"PUBLISH_COMPLETE", "FAILED"}


@pytest.fixture(scope="module")
def system() -> Iterator[EmbeddedSystem]:
    with EmbeddedSystem(env=ENV, virtual_time=True) as running:
        for creator, alias in (("sandbox_public", "pub"), ("sandbox_private", "priv")):
            assert running.connect(creator, alias=alias).status_code == 200
        yield running


def _post(
    system: EmbeddedSystem, name: str, media: bytes, suffix: str = ".mp4", **settings: Any
) -> dict[str, Any]:
    account = settings.pop("account", "pub")
    system.put_object(f"posts/{account}/media/{name}{suffix}", media)
    manifest = {"video": f"media/{name}{suffix}", **DIRECT, **settings}
    system.put_object(f"posts/{account}/{name}.json", json.dumps(manifest).encode())
    return system.wait_for_post(account, f"posts/{account}/{name}.json", ENDS)


def _object(system: EmbeddedSystem, key: str, version_id: str | None) -> bytes:
    extra = {"VersionId": version_id} if version_id else {}
    answer = system.rt.client("s3").get_object(Bucket=system.rt.bucket, Key=key, **extra)
    return answer["Body"].read()  # type: ignore[no-any-return]


def _published(post: dict[str, Any]) -> None:
    assert post["status"] == "PUBLISH_COMPLETE", (post.get("fail_reason"), post.get("fail_detail"))


def _states(system: EmbeddedSystem, post: dict[str, Any]) -> list[str]:
    """The states the post's execution entered, in order."""
    arn = system.rt.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{post['post_id']}"
    history = system.rt.execution_history(arn)
    return [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]


def _preferences(system: EmbeddedSystem, account: str, preferences: dict[str, Any]) -> None:
    answer = requests.put(f"{system.api_url}/accounts/{account}/preferences", json=preferences, timeout=30)
    assert answer.status_code == 200, answer.text


def _audio_only_ogg() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as output:
        sound: Any = output.add_stream("libopus", rate=48000)
        sound.layout = "stereo"
        for index in range(25):
            frame = av.AudioFrame(format=sound.format.name, layout="stereo", samples=960)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate, frame.pts = 48000, index * 960
            output.mux(sound.encode(frame))
        output.mux(sound.encode(None))
    return buffer.getvalue()


def _noise_inside(media: bytes) -> bytes:
    """The file with its middle 80% (its pictures, not its header) overwritten by noise."""
    start, end = len(media) // 10, len(media) * 9 // 10
    noise = random.Random(20261207).randbytes(end - start)
    return media[:start] + noise + media[end:]


# name, clip settings, suffix, the changes the post must list
VIDEO_CORPUS = [
    ("fps-120", {"fps": 120, "frames": 60, "audio": "aac"}, ".mp4", ["frame rate 120 -> 60 fps"]),
    ("fps-15", {"fps": 15, "frames": 15}, ".mp4", ["frame rate 15 -> 30 fps"]),
    ("too-small", {"width": 200, "height": 356, "frames": 15}, ".mp4", ["size 200x356 -> 360x640"]),
    (
        "too-wide",
        {"width": 4352, "height": 800, "fps": 24, "frames": 12},
        ".mp4",
        ["size 4352x800 -> 4096x752"],
    ),
    (
        "prores",
        {
            "container": "mov",
            "encoder": "prores_ks",
            "width": 640,
            "height": 360,
            "frames": 15,
            "audio": "pcm_s16le",
        },
        ".mov",
        ["codec ProRes -> H.264", "container MOV -> MP4", "audio PCM -> AAC"],
    ),
    (
        "matroska",
        {"container": "matroska", "frames": 15, "audio": "aac"},
        ".mkv",
        ["container Matroska (MKV) -> MP4"],
    ),
    (
        "avi",
        {"container": "avi", "encoder": "mjpeg", "frames": 15},
        ".avi",
        ["codec Motion JPEG -> H.264", "container AVI -> MP4"],
    ),
]


@pytest.mark.parametrize(
    ("name", "spec", "suffix", "changes"), VIDEO_CORPUS, ids=[c[0] for c in VIDEO_CORPUS]
)
def test_a_video_breaking_a_rule_is_repaired_and_published(
    system: EmbeddedSystem, name: str, spec: dict[str, Any], suffix: str, changes: list[str]
) -> None:
    media = clip(**spec)
    post = _post(system, name, media, suffix, caption=name)
    _published(post)
    assert post["repair"]["status"] == "repaired"
    assert post["repair"]["changes"] == changes
    assert any(h["note"] == "media repaired: " + "; ".join(changes) for h in post["history"])
    (item,) = post["repair"]["items"]
    video = post["prepared"]["video"]
    assert video["key"] == item["derived"]["key"] == f"derived/pub/{post['post_id']}/video.mp4"
    assert item["source"]["key"] == f"posts/pub/media/{name}{suffix}"
    # The original is untouched; TikTok received the copy, byte for byte, and its checks passed.
    assert _object(system, item["source"]["key"], item["source"]["version_id"]) == media
    copy = _object(system, video["key"], video["version_id"])
    received = system.sandbox_post(post["publish_id"])
    assert received["source"] == "FILE_UPLOAD"
    assert received["sha256"] == hashlib.sha256(copy).hexdigest() != hashlib.sha256(media).hexdigest()
    assert received["probe"] and not received["probe"][0]["fail_reason"], received["probe"]
    probe = probe_video(lambda start, end: copy[start : end + 1], len(copy))
    check_video(probe, len(copy), None)
    assert (probe.container, probe.codec) == ("mp4", "h264")
    assert _states(system, post).count("Repair") == 1


def test_a_repaired_video_is_pulled_by_tiktok_as_its_copy(system: EmbeddedSystem) -> None:
    system.rt.update_env({Env.MEDIA_DOMAIN_VERIFIED: "true"})
    try:
        post = _post(system, "pulled-120", clip(fps=120, frames=30), caption="pulled")
    finally:
        system.rt.update_env({Env.MEDIA_DOMAIN_VERIFIED: "false"})
    _published(post)
    received = system.sandbox_post(post["publish_id"])
    assert received["source"] == "PULL_FROM_URL"
    assert f"/derived/pub/{post['post_id']}/video.mp4" in received["source_info"]["video_url"]
    video = post["prepared"]["video"]
    copy = _object(system, video["key"], video["version_id"])
    assert received["files"][0]["sha256"] == hashlib.sha256(copy).hexdigest()


def test_photos_are_repaired_in_order_and_the_fine_ones_kept(system: EmbeddedSystem) -> None:
    names = ["a.png", "b.jpg", "c.gif", "d.jpg", "e.bmp", "f.heic"]
    files = [
        image(width=1200, height=1600, fmt="PNG"),
        image(width=2400, height=3200, fmt="JPEG"),
        image(width=400, height=300, fmt="GIF"),
        photo(width=1080, height=1920),  # follows every rule: sent as it is
        image(width=800, height=600, fmt="BMP"),
        heic(width=1600, height=1200, orientation=6),  # a phone held upright: coded landscape, shown portrait
    ]
    for name, data in zip(names, files, strict=True):
        system.put_object(f"posts/pub/media/set/{name}", data)
    manifest = {"photos": [f"media/set/{n}" for n in names], **DIRECT, "title": "repaired set"}
    system.put_object("posts/pub/set.json", json.dumps(manifest).encode())
    post = system.wait_for_post("pub", "posts/pub/set.json", ENDS)
    _published(post)
    assert post["repair"]["changes"] == [
        "photo 1: PNG -> JPEG 1080x1440",
        "photo 2: size 2400x3200 -> 1080x1440",
        "photo 3: GIF -> JPEG 400x300",
        "photo 5: BMP -> JPEG 800x600",
        "photo 6: HEIC -> JPEG 1440x1080",
        "photo 6: EXIF orientation 6 applied: the picture is upright",
    ]
    photos = post["prepared"]["photos"]
    assert photos[3]["key"] == "posts/pub/media/set/d.jpg"  # unchanged, in its place
    assert [p["key"].rsplit("/", 1)[1] for i, p in enumerate(photos) if i != 3] == [
        "photo-01.jpg",
        "photo-02.jpg",
        "photo-03.jpg",
        "photo-05.jpg",
        "photo-06.jpg",
    ]
    sent = [_object(system, p["key"], p["version_id"]) for p in photos]
    probes = [probe_image(lambda s, e, d=data: d[s : e + 1], len(data)) for data in sent]
    for probe, data in zip(probes, sent, strict=True):
        check_photo("sent", probe, len(data))
    assert probes[5] == ImageProbe("jpeg", 1080, 1440)  # upright
    received = system.sandbox_post(post["publish_id"])
    assert [f["sha256"] for f in received["files"]] == [hashlib.sha256(d).hexdigest() for d in sent]
    assert all(not p["fail_reason"] for p in received["probe"]), received["probe"]


# name, media, suffix, the reason the post fails with, a phrase of its detail
UNREPAIRABLE = [
    ("no-video", _audio_only_ogg(), ".ogg", "no_video_stream", "no video stream"),
    (
        "corrupt",
        _noise_inside(clip(container="mov", encoder="mpeg4", frames=15)),
        ".mov",
        "media_corrupt",
        "FFmpeg",
    ),
    (
        "truncated",
        clip(fps=120, frames=60, options=(("movflags", "+faststart"),))[:-6000],
        ".mp4",
        "file_format_check_failed",
        "truncated",
    ),
    (
        "longer-than-the-creator-may-post",
        clip(fps=1, frames=610, width=360, height=360),
        ".mp4",
        "duration_too_long",
        "at most 600 s",
    ),
    (
        "longer-than-the-function-can-repair",
        clip(fps=Fraction(1, 4), frames=50, width=4096, height=2304),
        ".mp4",
        "too_long_to_repair",
        "it can repair about",
    ),
]


@pytest.mark.parametrize("case", UNREPAIRABLE, ids=[u[0] for u in UNREPAIRABLE])
def test_what_cannot_be_repaired_fails_with_its_reason(
    system: EmbeddedSystem, case: tuple[str, bytes, str, str, str]
) -> None:
    name, media, suffix, reason, phrase = case
    post = _post(system, name, media, suffix)
    assert post["status"] == "FAILED"
    assert post["fail_reason"] == reason, (post["fail_reason"], post["fail_detail"])
    assert phrase in post["fail_detail"]
    assert "publish_id" not in post  # nothing was sent to TikTok
    listed = system.rt.client("s3").list_objects_v2(
        Bucket=system.rt.bucket, Prefix=f"derived/pub/{post['post_id']}/"
    )
    assert listed.get("KeyCount", 0) == 0  # no copy left behind


def test_repair_turned_off_fails_the_post_as_before(system: EmbeddedSystem) -> None:
    post = _post(system, "off-in-manifest", clip(fps=120, frames=30), repair=False)
    assert (post["status"], post["fail_reason"]) == ("FAILED", "frame_rate_check_failed")
    assert "repair" not in post and "Repair" not in _states(system, post)


def test_the_accounts_saved_preference_turns_it_off_unless_the_manifest_says(system: EmbeddedSystem) -> None:
    _preferences(system, "priv", {**DIRECT, "caption": "bare", "repair": False})
    try:
        system.put_object("posts/priv/bare-120.mp4", clip(fps=120, frames=24))
        bare = system.wait_for_post("priv", "posts/priv/bare-120.mp4", ENDS)
        assert (bare["status"], bare["fail_reason"]) == ("FAILED", "frame_rate_check_failed")
        silent = _post(system, "manifest-silent", clip(fps=120, frames=36), account="priv")
        assert (silent["status"], silent["fail_reason"]) == ("FAILED", "frame_rate_check_failed")
        asked = _post(system, "manifest-asks", clip(fps=120, frames=48), account="priv", repair=True)
        _published(asked)
        assert asked["repair"]["changes"] == ["frame rate 120 -> 60 fps"]
    finally:
        _preferences(system, "priv", {**DIRECT, "caption": "bare"})


def test_fine_media_pays_nothing_for_the_repair(system: EmbeddedSystem) -> None:
    media = clip(fps=30, frames=30)
    post = _post(system, "fine", media)
    _published(post)
    assert "repair" not in post
    assert post["prepared"]["video"]["key"] == "posts/pub/media/fine.mp4"
    assert system.sandbox_post(post["publish_id"])["sha256"] == hashlib.sha256(media).hexdigest()
    states = _states(system, post)
    assert "Repair" not in states and states.count("NeedsReview?") == 1
