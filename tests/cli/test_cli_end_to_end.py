"""`tiktok-publisher` as a user runs it against `make local`: every command in its own process, a real S3
upload, a real follow to PUBLISH_COMPLETE, TikTok (the sandbox) holding the exact bytes."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from local.media import photo, video, video_of_size
from publisher_cli.upload import MIB, MediaUploader, ResumeStore, media_key
from tests.cli.local_stack import LocalStack, connect, one_error_line

Run = subprocess.CompletedProcess[str]


def _published(run: Run) -> str:
    """The post id of a `post` run that ended published (exit 0)."""
    assert run.returncode == 0, run.stdout + run.stderr
    found = re.search(r"^published: post ([0-9a-f]{32})$", run.stdout, re.MULTILINE)
    assert found, run.stdout
    return found[1]


def _show(stack: LocalStack, post_id: str) -> dict[str, Any]:
    run = stack.cli("show", post_id, "--json")
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def test_make_local_describes_itself_for_the_command_line(stack: LocalStack) -> None:
    endpoints = stack.endpoints
    assert endpoints["format"] == 1 and endpoints["pid"] == stack.process.pid
    assert endpoints["api_url"].startswith("http://127.0.0.1:")
    assert endpoints["aws_endpoint_url"].startswith("http://127.0.0.1:")
    assert endpoints["region"] == "eu-west-1" and endpoints["stack_name"] == "TikTokPublisher"
    assert endpoints["bucket"] == endpoints["outputs"]["MediaBucketName"]
    assert endpoints["credentials"] == {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    banner = stack.banner.read_text()
    assert f"  endpoint file   {stack.endpoints_file}" in banner
    assert f".venv/bin/tiktok-publisher --endpoints-file {stack.endpoints_file} post video.mp4" in banner


def test_connect_prints_the_link_and_waits_until_the_account_is_connected(
    stack: LocalStack, account: Run
) -> None:
    assert account.returncode == 0, account.stderr
    assert f"  {stack.endpoints['api_url']}/connect?alias=me\n" in account.stdout
    assert "connected: Sandbox Public (@sandbox_public) is account 'me'" in account.stdout
    assert "waiting for the connection" in account.stderr

    listed = stack.cli("accounts", "--json")
    assert listed.returncode == 0
    (me,) = json.loads(listed.stdout)
    assert (me["account_id"], me["status"], me["username"]) == ("me", "connected", "sandbox_public")
    table = stack.cli("accounts")
    assert "Sandbox Public (@sandbox_public)" in table.stdout and "connected" in table.stdout


def test_post_uploads_a_video_and_follows_it_to_publish_complete(
    stack: LocalStack, account: Run, tmp_path: Path
) -> None:
    clip = video_of_size(16 * MIB, label="tiktok-publisher post")
    path = tmp_path / "holiday clip.mp4"
    path.write_bytes(clip)
    started = time.monotonic()
    run = stack.cli(
        "post", str(path), "--account", "me", "--privacy", "self_only", "--caption", "day one [#travel]",
        "--allow-comment", "--cover-ms", "500", "--aigc",
    )  # fmt: skip
    post_id = _published(run)
    assert time.monotonic() - started < 60
    # What the user watched: the upload to S3, each status, the chunks to TikTok, the verdict.
    assert "holiday clip.mp4 (16.0 MiB): uploaded to s3://" in run.stdout
    statuses = re.findall(r"^\S+ \S+ \S+  ([A-Z_]+)", run.stdout, re.MULTILINE)
    assert statuses[0] == "RECEIVED" and statuses[-1] == "PUBLISH_COMPLETE", run.stdout
    assert statuses.index("UPLOADING") < statuses.index("PROCESSING")
    assert "to TikTok: 100%  16.0 MiB of 16.0 MiB, all 3 chunks acknowledged" in run.stdout, run.stdout
    assert run.stderr.count("error") == 0

    post = _show(stack, post_id)
    assert post["status"] == "PUBLISH_COMPLETE" and post["kind"] == "video"
    assert post["settings"] == {
        "video": post["settings"]["video"],
        "mode": "direct",
        "privacy_level": "SELF_ONLY",
        "caption": "day one [#travel]",
        "allow_comment": True,
        "allow_duet": False,
        "allow_stitch": False,
        "brand_organic": False,
        "branded_content": False,
        "is_aigc": True,
        "auto_add_music": False,
        "cover_index": 0,
        "cover_timestamp_ms": 500,
    }
    origin = post["media"]["origin_key"]
    assert re.fullmatch(r"posts/me/holiday-clip-[0-9a-f]{16}\.json", origin), origin  # named by content
    assert post["media"]["keys"] == [media_key("me", path)]
    received = stack.sandbox_post(post["publish_id"])
    assert received["sha256"] == hashlib.sha256(clip).hexdigest()  # TikTok holds the exact bytes

    shown = stack.cli("show", post_id)
    assert f"post {post_id}" in re.sub(r" +", " ", shown.stdout) and "PUBLISH_COMPLETE" in shown.stdout


def test_post_publishes_photos_and_prints_the_record_as_json(
    stack: LocalStack, account: Run, tmp_path: Path
) -> None:
    paths = []
    for index, colour in enumerate([(254, 44, 85), (37, 244, 238), (250, 200, 40)]):
        paths.append(tmp_path / f"{index + 1}.jpg")
        paths[-1].write_bytes(photo(colour=colour))
    command = (
        "post", *map(str, paths), "--account", "me", "--privacy", "SELF_ONLY", "--title", "three colours",
        "--cover-index", "1", "--json",
    )  # fmt: skip
    run = stack.cli(*command)
    assert run.returncode == 0, run.stderr
    post = json.loads(run.stdout)  # stdout is the record alone; the notes went to stderr
    assert post["status"] == "PUBLISH_COMPLETE" and post["kind"] == "photo"
    assert len(post["settings"]["photos"]) == 3 and post["settings"]["cover_index"] == 1
    assert "PUBLISH_COMPLETE" in run.stderr and "1.jpg" in run.stderr
    received = stack.sandbox_post(post["publish_id"])
    assert [f["sha256"] for f in received["files"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in paths
    ]

    # The same command again is the same post, not a second one; --client-token posts again on purpose.
    again = stack.cli(*command)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["post_id"] == post["post_id"]
    assert "posted with these settings by an earlier run" in again.stderr and "--client-token" in again.stderr
    on_purpose = stack.cli(*command, "--client-token", "second time", "--no-follow")
    assert on_purpose.returncode == 0, on_purpose.stderr
    assert json.loads(on_purpose.stdout)["post_id"] != post["post_id"]


def test_an_interrupted_upload_resumes_where_it_stopped(
    stack: LocalStack, account: Run, tmp_path: Path
) -> None:
    """The first run is stopped after its first part (in process, with 5 MiB parts one at a time); the
    command run again sends the rest and says so."""
    clip = video_of_size(18 * MIB, label="resumed")
    path = tmp_path / "long.mp4"
    path.write_bytes(clip)
    endpoints = stack.endpoints
    uploader = MediaUploader(
        stack.s3(), endpoints["bucket"], ResumeStore(stack.cache), part_size=5 * MIB, concurrency=1
    )

    class Interrupted(Exception):
        pass

    def interrupt(_sent: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        uploader.upload(path, media_key("me", path), sent=interrupt)
    assert list((stack.cache / "uploads").glob("*.json")), "the upload's state is kept for the next run"

    run = stack.cli("post", str(path), "--account", "me", "--privacy", "SELF_ONLY", "--caption", "resumed")
    post_id = _published(run)
    found = re.search(
        r"resumed an interrupted upload: (\d) of 4 parts \(([\d.]+) MiB\) were already in S3", run.stdout
    )
    assert found, run.stdout
    assert 1 <= int(found[1]) < 4
    assert not list((stack.cache / "uploads").glob("*.json")), "a finished upload leaves no state"
    received = stack.sandbox_post(_show(stack, post_id)["publish_id"])
    assert received["sha256"] == hashlib.sha256(clip).hexdigest()

    again = stack.cli("post", str(path), "--account", "me", "--privacy", "SELF_ONLY", "--no-follow")
    assert again.returncode == 0, again.stderr
    assert "long.mp4 (18.0 MiB): already in S3 from an earlier run" in again.stdout


def test_a_post_waiting_for_review_shows_its_link_in_quota_and_posts_and_is_cancelled(
    stack: LocalStack, account: Run, tmp_path: Path
) -> None:
    """A direct post without --privacy waits for the creator on the review page (TikTok's rule): following
    it shows the link; --timeout stops following (exit 1), and the post waits on."""
    path = tmp_path / "review me.mp4"
    path.write_bytes(video(label="review"))
    run = stack.cli("post", str(path), "--account", "me", "--caption", "up to you", "--timeout", "5")
    assert run.returncode == 1
    review = re.search(
        r"^waiting for the creator's decision on the review page: (http://\S+/review/\S+)$",
        run.stdout,
        re.MULTILINE,
    )
    assert review, run.stdout
    post_id = re.findall(r"post ([0-9a-f]{32})", run.stdout)[0]
    assert one_error_line(run).startswith(
        f"error: post {post_id} is still AWAITING_REVIEW after 5 s; it goes on"
    )
    assert _show(stack, post_id)["review_url"] == review[1]

    listed = stack.cli("posts", "--account", "me", "--status", "awaiting_review", "--json")
    assert [p["post_id"] for p in json.loads(listed.stdout)] == [post_id]
    table = stack.cli("posts")
    assert (
        post_id in table.stdout and "AWAITING_REVIEW" in table.stdout and "PUBLISH_COMPLETE" in table.stdout
    )

    report = json.loads(stack.cli("quota", "me", "--json").stdout)
    limits = {limit["name"]: limit for limit in report["limits"]}
    assert limits["direct_posts"]["limit"] == 15 and limits["direct_posts"]["left"] < 15
    assert [(q["post_id"], q["status"]) for q in report["queued"]] == [(post_id, "AWAITING_REVIEW")]
    shown = stack.cli("quota", "me")
    assert shown.returncode == 0
    assert re.search(r"direct_posts +│ +\d+/15 +│ 24 h", shown.stdout), shown.stdout
    assert "requests:init" in shown.stdout and "1 min" in shown.stdout
    assert post_id in shown.stdout and "waits for the creator's decision" in shown.stdout

    cancelled = stack.cli("cancel", post_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"cancelled post {post_id}"
    assert _show(stack, post_id)["status"] == "CANCELLED"
    refused = stack.cli("cancel", post_id)
    assert refused.returncode == 1
    assert one_error_line(refused).startswith(f"error: post {post_id} was not cancelled: ")
    as_json = stack.cli("cancel", post_id, "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["post"]["status"] == "CANCELLED"


def test_disconnect_and_posting_to_a_disconnected_account(stack: LocalStack, tmp_path: Path) -> None:
    assert connect(stack, "other", creator="sandbox_private").returncode == 0
    run = stack.cli("disconnect", "other")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("disconnected 'other': disconnected through the API")
    path = tmp_path / "clip.mp4"
    path.write_bytes(video(label="nobody"))
    refused = stack.cli("post", str(path), "--account", "other", "--privacy", "SELF_ONLY")
    assert refused.returncode == 2
    assert "account 'other' is disconnected" in one_error_line(refused)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.mp4", "--account", "me"], "error: missing.mp4: no such file"),
        (
            ["notes.txt", "--account", "me"],
            "error: notes.txt: neither a video (.mp4, .mov, .webm) nor a photo",
        ),
        (
            ["clip.mp4", "--account", "nobody", "--privacy", "SELF_ONLY"],
            "error: no account 'nobody': connect it first",
        ),
        (
            ["clip.mp4", "--account", "me", "--privacy", "EVERYONE"],
            "error: --privacy 'EVERYONE': one of PUBLIC_TO_EVERYONE",
        ),
        (
            ["clip.mp4", "--account", "me", "--title", "a title"],
            "error: --title/--description are for photo posts",
        ),
        (
            ["clip.mp4", "--account", "me", "--inbox", "--privacy", "SELF_ONLY"],
            "error: --privacy is for direct posts",
        ),
        (["clip.mp4", "--account", "me", "--at", "yesterday"], "error: --at 'yesterday': not a time"),
        (["clip.mp4", "--account", "Me Too"], "error: --account 'Me Too': an account is 1-64 characters"),
        (["clip.mp4"], "error: Missing option '--account'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything_is_uploaded(
    stack: LocalStack, account: Run, tmp_path: Path, arguments: list[str], message: str
) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"not looked at before the checks pass")
    (tmp_path / "notes.txt").write_text("hello")
    run = stack.cli("post", *arguments, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert one_error_line(run).startswith(message), run.stderr
    assert run.stdout == ""
    listed = stack.s3().list_objects_v2(Bucket=stack.endpoints["bucket"], Prefix="posts/nobody/")
    assert listed.get("KeyCount", 0) == 0


def test_too_many_photos_are_refused(stack: LocalStack, tmp_path: Path) -> None:
    names = []
    for index in range(36):
        (tmp_path / f"{index}.jpg").write_bytes(b"x")
        names.append(str(tmp_path / f"{index}.jpg"))
    run = stack.cli("post", *names, "--account", "me")
    assert run.returncode == 2
    assert one_error_line(run) == "error: a photo post holds 1 to 35 photos, not 36"


def test_api_errors_are_one_line_with_the_apis_message(stack: LocalStack) -> None:
    run = stack.cli("show", "0" * 32)
    assert run.returncode == 1
    assert one_error_line(run) == f"error: no post '{'0' * 32}' (HTTP 404 from GET /posts/{'0' * 32})"
    run = stack.cli("quota", "nobody")
    assert run.returncode == 1 and "no account 'nobody'" in one_error_line(run)
    run = stack.cli("posts", "--status", "DONE")
    assert run.returncode == 2 and "--status 'DONE': one of RECEIVED" in one_error_line(run)
