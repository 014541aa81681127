"""Cost per post, counted on the whole system running locally (CDK stack in moto, handlers in process,
the sandbox as TikTok), one post at a time, for each kind of post:

- direct_video_webhook           a small public direct video; TikTok's webhook reports the outcome
- direct_video_private           a small private (SELF_ONLY) direct video: TikTok sends no webhook when such
                                 a post succeeds, so CheckStatus polls from the start
- direct_video_webhook_3_chunks  the same with a 16 MiB video cut into three 5 MiB chunks (size-independence)
- direct_video_no_webhook        no webhook ever comes: AwaitOutcome times out (the stack synthesized with
                                 await_timeout_seconds=2) and CheckStatus polls
- inbox_video                    an inbox upload, then the creator posts the draft (webhook again)
- photo_set                      three photos, pulled by TikTok from the media domain (PULL_FROM_URL)

Counted per post: calls to TikTok (the sandbox's /_sandbox/calls), Step Functions state transitions
(StateEntered events of the post's execution), Lambda invocations with their duration and memory (the
runtime's handler lookup is wrapped), and the AWS API calls made inside handlers (botocore wrapped). The
dollars are those counts times public list prices (PRICES, written into results.json): a model, since
the local durations are this machine's and not Lambda's.
"""

from __future__ import annotations

import json
import math
import struct
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.harness import (
    OBSERVER_FUNCTIONS,
    AwsCall,
    Invocation,
    Meter,
    average_item_sizes,
    by_function,
    execution_status,
    log,
    post_record,
    quiet_stdout,
    request_units,
    running_system,
    settle,
    state_transitions,
    synthesize,
    tiktok_calls,
    wait_until,
)
from functions.settings import Env
from local.embedded import EmbeddedSystem

MIB = 1024 * 1024
GB = 1024**3
ACCOUNT = "cost"
# Public: TikTok announces a public direct post's success by webhook (publicly_available), a private one's
# not at all (direct_video_private).
DIRECT = {"mode": "direct", "privacy_level": "PUBLIC_TO_EVERYONE"}

# Public list prices (USD). Assumptions, not fetched at run time; each says where it comes from.
PRICES: dict[str, dict[str, Any]] = {
    "step_functions_standard_per_transition": {
        "usd": 0.025 / 1000,
        "source": "aws.amazon.com/step-functions/pricing: $0.025 per 1,000 state transitions (us-east-1, eu-west-1)",
    },
    "lambda_arm64_per_gb_second": {
        "usd": 0.0000133334,
        "source": "aws.amazon.com/lambda/pricing: Arm, first 7.5 billion GB-s/month",
    },
    "lambda_per_request": {"usd": 0.20 / 1_000_000, "source": "aws.amazon.com/lambda/pricing: $0.20 per 1M"},
    "dynamodb_on_demand_per_write_request_unit": {
        "usd": 0.625 / 1_000_000,
        "source": "aws.amazon.com/dynamodb/pricing/on-demand: $0.625 per million WRU (us-east-1, after the "
        "November 2024 reduction; eu-west-1 is about 13% higher)",
    },
    "dynamodb_on_demand_per_read_request_unit": {
        "usd": 0.125 / 1_000_000,
        "source": "aws.amazon.com/dynamodb/pricing/on-demand: $0.125 per million RRU (us-east-1)",
    },
    "s3_get_per_request": {
        "usd": 0.0004 / 1000,
        "source": "aws.amazon.com/s3/pricing: S3 Standard GET/HEAD $0.0004 per 1,000",
    },
    "s3_put_per_request": {
        "usd": 0.005 / 1000,
        "source": "aws.amazon.com/s3/pricing: S3 Standard PUT/COPY/POST/LIST $0.005 per 1,000",
    },
    "data_transfer_out_per_gb": {
        "usd": 0.09,
        "source": "aws.amazon.com/ec2/pricing/on-demand (data transfer): internet egress, first 10 TB/month",
    },
    "cloudfront_per_gb": {
        "usd": 0.085,
        "source": "aws.amazon.com/cloudfront/pricing: US/Europe, first 10 TB/month (origin fetch from S3 free)",
    },
    "cloudfront_per_https_request": {
        "usd": 0.01 / 10_000,
        "source": "aws.amazon.com/cloudfront/pricing: HTTPS requests, US/Europe",
    },
    "kms_per_request": {"usd": 0.03 / 10_000, "source": "aws.amazon.com/kms/pricing: $0.03 per 10,000"},
    "secrets_manager_per_call": {
        "usd": 0.05 / 10_000,
        "source": "aws.amazon.com/secrets-manager/pricing: $0.05 per 10,000 API calls",
    },
    "sqs_standard_per_request": {
        "usd": 0.40 / 1_000_000,
        "source": "aws.amazon.com/sqs/pricing: $0.40 per 1M",
    },
    "eventbridge_per_event": {
        "usd": 1.00 / 1_000_000,
        "source": "aws.amazon.com/eventbridge/pricing: custom events $1.00 per 1M",
    },
    "eventbridge_scheduler_per_invocation": {
        "usd": 1.00 / 1_000_000,
        "source": "aws.amazon.com/eventbridge/pricing: EventBridge Scheduler $1.00 per 1M scheduled "
        "invocations (first 14M a month free)",
    },
}
PRICES_NOTE = (
    "Public list prices written into the benchmark (not fetched at run time); free tiers ignored; "
    "not counted: CloudWatch Logs/X-Ray ingestion, KMS key and secret monthly fees, Lambda cold starts, "
    "the creator's own S3 PutObject and storage. Lambda GB-s use the durations measured here, in process "
    "against in-process moto: real Lambda durations differ (network round trips to DynamoDB and TikTok)."
)


def _price(name: str) -> float:
    return float(PRICES[name]["usd"])


def unique_clip(tag: str) -> bytes:
    """A small valid MP4 (360x640, 30 fps, 1 s) made unique by a trailing `free` box holding `tag`."""
    from local.media import video

    clip = video(width=360, height=640, fps=30, seconds=1.0)
    payload = tag.encode()
    return clip + struct.pack(">I4s", 8 + len(payload), b"free") + payload


def _put(system: EmbeddedSystem, key: str, body: bytes | dict[str, Any]) -> str | None:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    return system.put_object(key, data)


def _post_id(system: EmbeddedSystem, key: str, version: str | None) -> str:
    from functions.posting.records import post_id_for_object

    return post_id_for_object(system.rt.bucket, key, version)


def drop(system: EmbeddedSystem, kind: str, index: int) -> str:
    """Put one post of `kind` into the bucket; its post id."""
    tag = f"{kind}-{index}-{time.time_ns()}"
    base = f"posts/{ACCOUNT}"
    if kind == "photo_set":
        from local.media import photo

        names = []
        for n in range(3):
            name = f"media/{tag}/{n}.jpg"
            _put(
                system,
                f"{base}/{name}",
                photo(width=720, height=1280, colour=(40 * n, 90 + index % 100, 200)),
            )
            names.append(name)
        manifest: dict[str, Any] = {
            "photos": names,
            **DIRECT,
            "title": "bench photos",
            "description": "cost per post",
            "cover_index": 0,
        }
    else:
        if kind == "direct_video_webhook_3_chunks":
            from local.media import video_of_size

            clip = video_of_size(16 * MIB, label=tag)
        else:
            clip = unique_clip(tag)
        _put(system, f"{base}/media/{tag}.mp4", clip)
        manifest = {"video": f"media/{tag}.mp4", "caption": "bench", **DIRECT}
        if kind == "direct_video_private":
            manifest["privacy_level"] = "SELF_ONLY"
        if kind == "inbox_video":
            manifest = {"video": f"media/{tag}.mp4", "mode": "inbox"}
    key = f"{base}/{tag}.json"
    return _post_id(system, key, _put(system, key, manifest))


def _wait_post(system: EmbeddedSystem, post_id: str, statuses: set[str], timeout: float) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        record = post_record(system, post_id)
        return record if record and record.get("status") in statuses else None

    found: dict[str, Any] = wait_until(reached, timeout, f"post {post_id} reaching {sorted(statuses)}")
    return found


def one_post(system: EmbeddedSystem, meter: Meter, kind: str, index: int, timeout: float) -> dict[str, Any]:
    calls_before = tiktok_calls(system)
    mark = meter.mark()
    post_id = drop(system, kind, index)
    wait_until(
        lambda: execution_status(system, post_id) not in (None, "RUNNING"), timeout, f"execution of {kind}"
    )
    if kind == "inbox_video":
        record = _wait_post(system, post_id, {"SEND_TO_USER_INBOX", "FAILED"}, timeout)
        if record["status"] == "SEND_TO_USER_INBOX":
            system.sandbox_control(f"posts/{record['publish_id']}/complete", {"public": False})
    record = _wait_post(system, post_id, {"PUBLISH_COMPLETE", "FAILED"}, timeout)
    settle(system)
    invocations, aws_calls = meter.since(mark)
    calls_after = tiktok_calls(system)
    tiktok = {
        p: calls_after[p] - calls_before.get(p, 0)
        for p in calls_after
        if calls_after[p] != calls_before.get(p, 0)
    }
    sandbox_post = system.sandbox_post(record["publish_id"]) if record.get("publish_id") else {}
    source = sandbox_post.get("source")
    received = int(sandbox_post.get("bytes_received", 0))
    return {
        "post_id": post_id,
        "status": record["status"],
        "fail_reason": record.get("fail_reason"),
        "tiktok_calls": tiktok,
        "transitions": state_transitions(system, post_id),
        "invocations": [i for i in invocations if i.function not in OBSERVER_FUNCTIONS],
        "aws_calls": [c for c in aws_calls if c.function not in OBSERVER_FUNCTIONS],
        "upload_bytes": received if source == "FILE_UPLOAD" else 0,
        "pulled_bytes": received if source == "PULL_FROM_URL" else 0,
        "pulled_files": len(sandbox_post.get("files", [])) if source == "PULL_FROM_URL" else 0,
    }


@dataclass
class Work:
    """What a number of posts made the system do, summed over the posts."""

    posts: int
    statuses: Counter[str]
    tiktok_calls: Counter[str]
    transitions: list[int]  # per post
    states_entered: list[str]  # of the first post
    invocations: list[Invocation]
    aws_calls: list[AwsCall]
    upload_bytes: int = 0
    pulled_bytes: int = 0
    pulled_files: int = 0


def summarise(kind: str, posts: list[dict[str, Any]], item_sizes: dict[str, float]) -> dict[str, Any]:
    tiktok: Counter[str] = Counter()
    for post in posts:
        tiktok.update(post["tiktok_calls"])
    work = Work(
        posts=len(posts),
        statuses=Counter(p["status"] for p in posts),
        tiktok_calls=tiktok,
        transitions=[p["transitions"]["count"] for p in posts],
        states_entered=posts[0]["transitions"]["states"],
        invocations=[i for post in posts for i in post["invocations"]],
        aws_calls=[c for post in posts for c in post["aws_calls"]],
        upload_bytes=sum(p["upload_bytes"] for p in posts),
        pulled_bytes=sum(p["pulled_bytes"] for p in posts),
        pulled_files=sum(p["pulled_files"] for p in posts),
    )
    return summarise_work(work, item_sizes)


def summarise_work(work: Work, item_sizes: dict[str, float]) -> dict[str, Any]:
    """Per post: the counts, and the dollars they cost at PRICES."""
    n = work.posts

    def per_post(total: float) -> float:
        return round(total / n, 4)

    invocations = work.invocations
    functions: dict[str, Any] = {}
    gb_seconds = 0.0
    for name, runs in sorted(by_function(invocations).items()):
        billed = sum(r.memory_mb / 1024 * math.ceil(r.seconds * 1000) / 1000 for r in runs)
        gb_seconds += billed
        functions[name] = {
            "invocations": per_post(len(runs)),
            "memory_mb": runs[0].memory_mb,
            "mean_ms": round(1000 * sum(r.seconds for r in runs) / len(runs), 1),
            "gb_seconds": round(billed / n, 6),
        }
    calls = work.aws_calls
    by_api = Counter(f"{c.service}:{c.operation}" for c in calls)
    read_units, write_units = request_units(calls, item_sizes)
    sqs_records = sum(i.sqs_records for i in invocations)
    transitions = work.transitions
    counts = {
        "transitions": sum(transitions) / n,
        "lambda_requests": len(invocations) / n,
        "gb_seconds": gb_seconds / n,
        "dynamodb_read_units": read_units / n,
        "dynamodb_write_units": write_units / n,
        "s3_get": sum(
            v
            for k, v in by_api.items()
            if k.startswith("s3:") and k.split(":")[1] in ("GetObject", "HeadObject")
        )
        / n,
        "s3_put": sum(
            v
            for k, v in by_api.items()
            if k.startswith("s3:") and k.split(":")[1] not in ("GetObject", "HeadObject")
        )
        / n,
        "kms": sum(v for k, v in by_api.items() if k.startswith("kms:")) / n,
        "secrets_manager": sum(v for k, v in by_api.items() if k.startswith("secretsmanager:")) / n,
        "sqs_requests": 3 * sqs_records / n,  # send (S3 or webhook), receive, delete per message
        "eventbridge_events": sum(v for k, v in by_api.items() if k == "events:PutEvents") / n,
        # A one-off schedule runs once: each one made is one scheduled invocation.
        "scheduler_invocations": by_api.get("scheduler:CreateSchedule", 0) / n,
        "upload_gb": work.upload_bytes / n / GB,
        "pulled_gb": work.pulled_bytes / n / GB,
        "pulled_files": work.pulled_files / n,
    }
    dollars = {
        "step_functions": counts["transitions"] * _price("step_functions_standard_per_transition"),
        "lambda_requests": counts["lambda_requests"] * _price("lambda_per_request"),
        "lambda_compute": counts["gb_seconds"] * _price("lambda_arm64_per_gb_second"),
        "dynamodb": counts["dynamodb_read_units"] * _price("dynamodb_on_demand_per_read_request_unit")
        + counts["dynamodb_write_units"] * _price("dynamodb_on_demand_per_write_request_unit"),
        "s3_requests": counts["s3_get"] * _price("s3_get_per_request")
        + counts["s3_put"] * _price("s3_put_per_request"),
        "kms": counts["kms"] * _price("kms_per_request"),
        "secrets_manager": counts["secrets_manager"] * _price("secrets_manager_per_call"),
        "sqs": counts["sqs_requests"] * _price("sqs_standard_per_request"),
        "eventbridge": counts["eventbridge_events"] * _price("eventbridge_per_event"),
        "scheduler": counts["scheduler_invocations"] * _price("eventbridge_scheduler_per_invocation"),
        "data_transfer_out": counts["upload_gb"] * _price("data_transfer_out_per_gb"),
        "cloudfront": counts["pulled_gb"] * _price("cloudfront_per_gb")
        + counts["pulled_files"] * _price("cloudfront_per_https_request"),
    }
    per_thousand = {k: round(v * 1000, 5) for k, v in dollars.items()}
    per_thousand["total"] = round(sum(dollars.values()) * 1000, 4)
    per_thousand["total_without_data_transfer"] = round(
        (sum(dollars.values()) - dollars["data_transfer_out"] - dollars["cloudfront"]) * 1000, 4
    )
    tiktok = work.tiktok_calls
    return {
        "posts": n,
        "statuses": dict(work.statuses),
        "tiktok_calls_per_post": {k: per_post(v) for k, v in sorted(tiktok.items())},
        "tiktok_calls_total_per_post": per_post(sum(tiktok.values())),
        "state_transitions_per_post": per_post(sum(transitions)),
        "state_transitions_max": max(transitions),
        "states_entered": work.states_entered,
        "lambda_invocations_per_post": per_post(len(invocations)),
        "lambda_gb_seconds_per_post": round(gb_seconds / n, 6),
        "lambda_by_function": functions,
        "aws_calls_per_post": {k: per_post(v) for k, v in sorted(by_api.items())},
        "dynamodb_request_units_per_post": {
            "read": round(read_units / n, 2),
            "write": round(write_units / n, 2),
        },
        "bytes_to_tiktok_per_post": {"file_upload": work.upload_bytes // n, "pulled": work.pulled_bytes // n},
        "usd_per_1000_posts": per_thousand,
    }


def _file_upload_extrapolation(direct: dict[str, Any]) -> dict[str, Any]:
    """What a 100 MB direct video adds: egress for its bytes and the upload step's time, at an ASSUMED 50 MB/s
    from Lambda to TikTok; every other count is size-independent (see the 3-chunk kind)."""
    size_gb = 100e6 / GB
    seconds = 100e6 / 50e6
    upload_memory_gb = direct["lambda_by_function"].get("upload_chunks", {}).get("memory_mb", 1024) / 1024
    extra = size_gb * _price("data_transfer_out_per_gb") + seconds * upload_memory_gb * _price(
        "lambda_arm64_per_gb_second"
    )
    return {
        "assumption": "100 MB video, 50 MB/s from the upload Lambda to TikTok (not measured)",
        "usd_per_1000_posts": round(
            direct["usd_per_1000_posts"]["total_without_data_transfer"] + 1000 * extra, 3
        ),
        "of_which_data_transfer": round(1000 * size_gb * _price("data_transfer_out_per_gb"), 3),
    }


def _run_kinds(
    system: EmbeddedSystem, meter: Meter, kinds: list[str], per_kind: int, timeout: float
) -> dict[str, Any]:
    posts: dict[str, list[dict[str, Any]]] = {}
    for kind in kinds:
        posts[kind] = []
        for index in range(per_kind):
            started = time.monotonic()
            post = one_post(system, meter, kind, index, timeout)
            posts[kind].append(post)
            log(
                f"  cost {kind} #{index + 1}: {post['status']}, {post['transitions']['count']} transitions, "
                f"{len(post['invocations'])} invocations, {sum(post['tiktok_calls'].values())} TikTok calls "
                f"({time.monotonic() - started:.1f} s)"
            )
    sizes = average_item_sizes(system)
    return {kind: summarise(kind, found, sizes) for kind, found in posts.items()}


def _connect(system: EmbeddedSystem) -> None:
    answer = system.connect("sandbox_public", alias=ACCOUNT)
    if answer.status_code != 200:
        raise RuntimeError(f"connecting the cost account failed: {answer.status_code} {answer.text[:300]}")
    requests.put(
        f"{system.api_url}/accounts/{ACCOUNT}/preferences", json={**DIRECT, "caption": "bench"}, timeout=30
    ).raise_for_status()


ENV = {Env.APP_STATUS: "audited", Env.UPLOAD_CHUNK_BYTES: str(5 * MIB), "POWERTOOLS_LOG_LEVEL": "WARNING"}


def measure(workdir: Path, per_kind: int = 2, timeout: float = 90.0) -> dict[str, Any]:
    default_out = synthesize(workdir / "cdk-default")
    short_out = synthesize(workdir / "cdk-await-2s", await_timeout_seconds=2)
    meter = Meter()
    results: dict[str, Any] = {}
    with quiet_stdout(), meter.installed():
        with running_system(cdk_out=default_out, env=ENV) as (system, _):
            _connect(system)
            results.update(
                _run_kinds(
                    system,
                    meter,
                    [
                        "direct_video_webhook",
                        "direct_video_webhook_3_chunks",
                        "direct_video_private",
                        "inbox_video",
                        "photo_set",
                    ],
                    per_kind,
                    timeout,
                )
            )
        with running_system(cdk_out=short_out, env=ENV, sandbox_config={"webhook_urls": []}) as (system, _):
            _connect(system)
            results.update(_run_kinds(system, meter, ["direct_video_no_webhook"], per_kind, timeout))
    direct = results["direct_video_webhook"]
    calls = direct["tiktok_calls_per_post"]
    status_fetches = calls.get("/v2/post/publish/status/fetch/", 0)
    return {
        "kinds": results,
        "prices": PRICES,
        "prices_note": PRICES_NOTE,
        "prices_written": "2026-11-25",
        "direct_video_100MB_estimate": _file_upload_extrapolation(direct),
        "targets": {
            "transitions_direct_with_webhook_at_most": 12,
            "met_transitions": max(
                results["direct_video_webhook"]["state_transitions_max"],
                results["direct_video_webhook_3_chunks"]["state_transitions_max"],
            )
            <= 12,
            "tiktok_calls_direct_with_webhook": "creator_info 1 + init 1 + chunk PUTs + at most 1 status fetch",
            "met_tiktok_calls": calls.get("/v2/post/publish/creator_info/query/", 0) == 1
            and calls.get("/v2/post/publish/video/init/", 0) == 1
            and status_fetches <= 1,
        },
    }
