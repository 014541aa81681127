"""The command line's parts, without a running stack: the values it shares with the server, finding a
deployed stack through CloudFormation, the endpoint file, signing, following, times."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.post_status import PostStatus
from functions.posting import intake, manifest, rules
from functions.store.accounts import ACCOUNT_ID_PATTERN
from functions.tiktok.models import PHOTO_IMAGES_MAX, PrivacyLevel
from infra.config import STACK_NAME
from publisher_cli import endpoints, post_input
from publisher_cli.api_client import ApiClient
from publisher_cli.errors import BadInput, CliError
from publisher_cli.follow import (
    PublicLink,
    ReviewLink,
    Seen,
    StatusChange,
    UploadProgress,
    outcome,
    public_links,
)
from publisher_cli.render import window_text

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_values_it_checks_with_are_the_servers() -> None:
    assert endpoints.STACK_NAME == STACK_NAME
    assert post_input.VIDEO_SUFFIXES == intake.VIDEO_SUFFIXES
    assert {
        s.removeprefix(".").replace("jpg", "jpeg") for s in post_input.PHOTO_SUFFIXES
    } == rules.PHOTO_FORMATS
    assert post_input.PHOTOS_MAX == PHOTO_IMAGES_MAX
    assert [p.value for p in post_input.Privacy] == [p.value for p in PrivacyLevel]
    assert [s.value for s in post_input.Status] == [s.value for s in PostStatus]
    assert post_input.ACCOUNT_ID.pattern == ACCOUNT_ID_PATTERN.pattern
    assert post_input.MAX_AHEAD.total_seconds() == manifest.MAX_PUBLISH_AHEAD_SECONDS


def test_the_package_imports_nothing_of_the_repository_but_itself() -> None:
    """`pip install .` installs publisher_cli alone: functions/, local/ and infra/ are not there."""
    for path in (ROOT / "publisher_cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"functions", "local", "infra", "bench", "tests"}, (
                    path,
                    name,
                )


def test_every_manifest_it_writes_is_one_the_server_accepts() -> None:
    options = post_input.PostOptions(
        privacy=post_input.Privacy.FOLLOWER_OF_CREATOR, caption="c", publish_at="2026-12-08T10:00:00Z", cover_ms=100,
        aigc=True, allow_comment=True, allow_duet=False, branded_content=True, client_token="again",
    )  # fmt: skip
    assert options.problems("video", 1) == []
    video = manifest.parse_manifest(options.manifest("video", ["media/abc/clip.mp4"]))
    assert (video.video, video.is_aigc, video.allow_comment, video.cover_timestamp_ms) == (
        "media/abc/clip.mp4",
        True,
        True,
        100,
    )
    photos = post_input.PostOptions(
        inbox=True, title="t", description="d", cover_index=1, auto_add_music=True
    )
    assert photos.problems("photo", 2) == []
    parsed = manifest.parse_manifest(photos.manifest("photo", ["media/a/1.jpg", "media/b/2.jpg"]))
    assert (parsed.mode, parsed.photos, parsed.cover_index) == (
        "inbox",
        ["media/a/1.jpg", "media/b/2.jpg"],
        1,
    )


@pytest.mark.parametrize(
    ("options", "kind", "problem"),
    [
        ({"inbox": True, "aigc": True}, "video", "--aigc cannot go with --inbox"),
        (
            {"branded_content": True, "privacy": post_input.Privacy.SELF_ONLY},
            "video",
            "--branded-content cannot be private",
        ),
        ({"caption": "c"}, "photo", "--caption is for videos"),
        ({"cover_ms": 1}, "photo", "--cover-ms is for videos"),
        ({"allow_duet": True}, "photo", "--allow-duet/--allow-stitch do not apply"),
        ({"cover_index": 3}, "photo", "--cover-index 3 is past the last photo (index 2)"),
        ({"cover_index": 0}, "video", "--cover-index is for photo posts"),
    ],
)
def test_settings_that_cannot_go_together_are_named(options: dict[str, Any], kind: Any, problem: str) -> None:
    assert any(p.startswith(problem) for p in post_input.PostOptions(**options).problems(kind, 3))


def test_at_takes_local_times_utc_times_and_offsets() -> None:
    assert post_input.parse_at("+90m", NOW) == "2026-12-07T13:30:00Z"
    assert post_input.parse_at("+1d", NOW) == "2026-12-08T12:00:00Z"
    assert post_input.parse_at("2026-12-09T08:00:00+02:00", NOW) == "2026-12-09T06:00:00Z"
    local = datetime(2026, 12, 9, 8, 0).astimezone()  # a time without a zone: the user's clock
    assert post_input.parse_at("2026-12-09T08:00", NOW) == local.astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    for wrong, message in [("soon", "not a time"), ("2026-12-01T00:00Z", "in the past"), ("+31d", "30 days")]:
        with pytest.raises(BadInput, match=message):
            post_input.parse_at(wrong, NOW)


def test_following_shows_each_status_the_chunks_in_between_the_review_link_and_the_public_link() -> None:
    seen = Seen()
    history = [
        {"at": 1, "status": "RECEIVED", "note": "from s3"},
        {"at": 2, "status": "UPLOADING", "note": ""},
    ]
    upload = {"total": 30, "offset": 0, "chunks": 3, "chunk_size": 10, "complete": False}
    post: dict[str, Any] = {"post_id": "p", "status": "UPLOADING", "history": history, "upload": upload}
    assert seen.news(post) == [StatusChange(1, "RECEIVED", "from s3"), StatusChange(2, "UPLOADING", "")]
    post["upload"] = {**upload, "offset": 10}
    assert seen.news(post) == [UploadProgress(10, 30, 3, 10, False)]
    assert seen.news(post) == []
    assert UploadProgress(10, 30, 3, 10, False).sending_chunk == 2
    post.update(
        status="PUBLISH_COMPLETE",
        upload={**upload, "offset": 30, "complete": True},
        history=[*history, {"at": 3, "status": "PROCESSING"}, {"at": 4, "status": "PUBLISH_COMPLETE"}],
        tiktok_post_ids=["7001"],
        prepared={"creator": {"username": "creator"}},
    )
    assert seen.news(post) == [  # the upload's end before the status that followed it
        UploadProgress(30, 30, 3, 10, True),
        StatusChange(3, "PROCESSING", ""),
        StatusChange(4, "PUBLISH_COMPLETE", ""),
        PublicLink("https://www.tiktok.com/@creator/video/7001"),
    ]
    waiting = {"post_id": "q", "status": "AWAITING_REVIEW", "review_url": "http://x/review/t", "history": []}
    assert Seen().news(waiting) == [ReviewLink("http://x/review/t")]
    assert public_links({"share_url": "https://www.tiktok.com/@a/video/1", "tiktok_post_ids": ["2"]}) == [
        "https://www.tiktok.com/@a/video/1"
    ]


def test_the_outcome_of_a_post() -> None:
    assert outcome({"status": "PUBLISH_COMPLETE"}).succeeded
    assert outcome({"status": "SEND_TO_USER_INBOX"}).succeeded
    failed = outcome({"status": "FAILED", "fail_reason": "spam_risk", "fail_detail": "TikTok says wait"})
    assert (failed.succeeded, failed.summary) == (False, "spam_risk: TikTok says wait")
    cancelled = outcome(
        {"status": "CANCELLED", "history": [{"status": "CANCELLED", "note": "by its author"}]}
    )
    assert (cancelled.succeeded, cancelled.summary) == (False, "cancelled: by its author")


def test_windows_read_as_people_say_them() -> None:
    assert [window_text(s) for s in (86_400, 60, 3600, 7200, 45)] == ["24 h", "1 min", "1 h", "2 h", "45 s"]


def _local_stack() -> endpoints.Stack:
    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="eu-west-1"
    )
    return endpoints.Stack(
        "s", {"ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/"}, session, "eu-west-1"
    )


def test_every_api_call_is_signed_for_execute_api() -> None:
    import requests

    client = ApiClient(_local_stack())
    request = requests.Request(
        "GET", f"{client.base_url}/posts", params={"account": "me", "status": "FAILED"}
    ).prepare()
    signed = client._signed(request)
    authorization = signed.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "X-Amz-Date" in signed.headers and signed.url.endswith("/posts?account=me&status=FAILED")


@mock_aws
def test_a_deployed_stack_is_found_by_its_cloudformation_outputs() -> None:
    outputs = {
        "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/",
        "MediaBucketName": "media-bucket",
    }
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(
        StackName="TikTokPublisher", TemplateBody=json.dumps(template)
    )
    stack = endpoints.deployed_stack("TikTokPublisher", region="eu-west-1")
    assert (stack.api_url, stack.bucket, stack.connect_url, stack.local) == (
        "https://abc.execute-api.eu-west-1.amazonaws.com",
        "media-bucket",
        "https://abc.execute-api.eu-west-1.amazonaws.com/connect",
        False,
    )
    with pytest.raises(CliError, match="no stack 'Elsewhere' in eu-west-1: deploy it"):
        endpoints.deployed_stack("Elsewhere", region="eu-west-1")


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).parent / "tiktok-publisher"
    return subprocess.run([str(cli), *args], capture_output=True, text=True, env=env, check=False, timeout=60)


def test_local_says_to_start_make_local_when_its_stack_is_not_running(tmp_path: Path) -> None:
    env = {**os.environ, "TIKTOK_PUBLISHER_ENDPOINTS": str(tmp_path / "endpoints.json")}
    missing = _run("--local", "accounts", env=env)
    assert missing.returncode == 1
    assert re.fullmatch(
        r"error: no local stack: \S+ is missing; start the local stack with `make local` .*\n", missing.stderr
    )

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    (tmp_path / "endpoints.json").write_text(json.dumps({"format": 1, "pid": int(finished.stdout)}))
    stale = _run("--local", "accounts", env=env)
    assert stale.returncode == 1 and "is no longer running" in stale.stderr and "make local" in stale.stderr


def test_help_and_usage_errors_need_no_stack(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    shown = _run("post", "--help", env=env)
    assert shown.returncode == 0
    for option in (
        "--account",
        "--inbox",
        "--privacy",
        "--at",
        "--cover-ms",
        "--client-token",
        "--no-follow",
    ):
        assert option in shown.stdout
    wrong = _run("post", "--account", "me", "--frobnicate", "x.mp4", env=env)
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: No such option: --frobnicate")
    assert len(wrong.stderr.splitlines()) == 1
