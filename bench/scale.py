"""Scale: what a post costs, how long it takes and which TikTok calls it makes, for 100 and 1,000 posts across
100 creators with everything after publishing on, and whether that stays flat per post as the work grows.

The whole system runs locally (bench/cost.py: the CDK stack in moto, the handlers in process, the sandbox
as TikTok), on the event clock (bench/harness.py). Each size runs in a system of its own, started empty:

- the creators are added to the sandbox and connected through the OAuth flow, each with public posting
  preferences (public posts: each gets its link search and its snapshot schedules); what connecting
  costs is not counted;
- the posts arrive in waves, one post per creator per wave (100 posts: one wave; 1,000: ten), a virtual
  day and an hour apart: each creator posts once a day at both sizes;
- between waves and after the last one, virtual time moves to each next EventBridge Scheduler schedule in
  turn, so the link searches (+1 min) and the snapshots (+1 h, +24 h, +7 d) run on time.

Counted per post, from the first post dropped until nothing is left to run: the dollars of bench/cost.py
(state transitions, Lambda requests and GB-seconds, DynamoDB request units, S3, KMS, SQS, EventBridge,
Scheduler), the TikTok calls by path, the wall time and the process's CPU time. The ratio larger/smaller
of each per-post figure says whether it stays flat (target <= 1.1). Every item a handler writes is counted
by table and partition key value: the most written key's share of all writes says whether one key takes
a growing part of the load (a hot key).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.cost import ENV as COST_ENV
from bench.cost import Work, summarise_work, unique_clip
from bench.harness import (
    OBSERVER_FUNCTIONS,
    TABLES,
    Meter,
    add_creator,
    average_item_sizes,
    log,
    quiet_stdout,
    running_system,
    scan_table,
    settle,
    state_transitions,
    synthesize,
    table_contents,
    table_hash_keys,
    table_name,
    tiktok_calls,
)
from functions.post_status import TERMINAL
from functions.posting.records import post_id_for_object
from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.runtime.lambdas import between_handler_runs

HOUR, DAY = 3600, 86_400
PREFERENCES = {"mode": "direct", "privacy_level": "PUBLIC_TO_EVERYONE", "caption": "scale run"}
ENV = {Env.APP_STATUS: "audited", "POWERTOOLS_LOG_LEVEL": "WARNING"}
FLAT_TARGET = 1.1  # larger run's per-post figure over the smaller's
FLAT_FIGURES = ("usd", "wall_seconds", "tiktok_calls")  # the targets; the other ratios are reported


@dataclass
class ScaleConfig:
    sizes: tuple[int, ...] = (100, 1000)
    creators: int = 100
    # Virtual time from one wave's start to the next: a day and an hour. Each creator then posts once a
    # day at both sizes, and a wave's +1 h and +24 h snapshots have run before the next wave comes, so
    # every wave meets a quiet system, as the 100-post run's only wave does. What grows with the size is
    # the data (posts, schedules, items), not how many posts one creator makes in a day: that is bounded
    # by TikTok's daily cap, and measured apart (`--scale-wave-hours 1`, bench/README.md).
    wave_seconds: int = 25 * HOUR
    # Schedules due within this many seconds of the next one run together: one clock step, not one per
    # schedule. Far below the snapshots' five-minute batch window, so batching stays as on AWS.
    step_seconds: int = 60
    seed: int = 20261207
    timeout_seconds: float = 3600.0  # a bound for a stuck run


def _drop_wave(
    system: EmbeddedSystem, creators: list[tuple[str, str, str]], wave: int, count: int, rng: random.Random
) -> list[str]:
    """One post for each of `count` creators, in a shuffled order; their post ids."""
    chosen = list(creators[:count])
    rng.shuffle(chosen)
    found = []
    for _username, _open_id, alias in chosen:
        key = f"posts/{alias}/wave-{wave:02d}.mp4"
        version = system.put_object(key, unique_clip(f"scale-{alias}-{wave}"), "video/mp4")
        found.append(post_id_for_object(system.rt.bucket, key, version))
    return found


def _wait_ended(system: EmbeddedSystem, post_ids: list[str], deadline: float) -> None:
    """Until every post of the wave has a terminal status (read straight from DynamoDB)."""
    dynamodb = system.rt.in_process_client("dynamodb")
    table = table_name(system, Env.POSTS_TABLE)
    pending = set(post_ids)
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} posts did not end in time")
        for post_id in list(pending):
            with between_handler_runs():
                item = dynamodb.get_item(
                    TableName=table,
                    Key={"post_id": {"S": post_id}},
                    ProjectionExpression="#s",
                    ExpressionAttributeNames={"#s": "status"},
                    ConsistentRead=True,
                ).get("Item")
            if item and item["status"]["S"] in TERMINAL:
                pending.discard(post_id)
        time.sleep(0.5)


def _run_schedules(system: EmbeddedSystem, config: ScaleConfig, until: float | None, deadline: float) -> int:
    """Move the virtual clock from schedule to schedule (those due within `step_seconds` of the next run
    together), each run once the system has settled, up to `until` (None: until no schedule is left).
    The number of clock steps."""
    steps = 0
    while time.monotonic() < deadline:
        settle(system, timeout=max(deadline - time.monotonic(), 1.0))
        now = system.clock.now()
        due = system.rt.schedules_next_due()
        if due is None or (until is not None and now + due >= until):
            break
        system.clock.advance(due + config.step_seconds)
        steps += 1
    else:
        raise TimeoutError("the schedules did not run out in time")
    if until is not None:
        system.clock.advance(until - system.clock.now())
    return steps


def _partitions(meter: Meter, system: EmbeddedSystem) -> dict[str, Any]:
    """Writes per table and partition key value; the most written key's share of all writes. The posts
    table's writes are also counted by account, the partition of its `by_account` index that each
    write to a post also writes."""
    writes = meter.partition_writes
    total = sum(writes.values())
    if not total:
        return {"writes": 0}
    names = {table_name(system, env): env for env in TABLES}
    by_table: Counter[str] = Counter()
    for (table, _key), count in writes.items():
        by_table[names.get(table, table)] += count
    top = writes.most_common(5)
    accounts = {p["post_id"]: p["account_id"] for p in scan_table(system, Env.POSTS_TABLE)}
    posts_table = table_name(system, Env.POSTS_TABLE)
    by_account: Counter[str] = Counter()
    for (table, key), count in writes.items():
        if table == posts_table and key in accounts:
            by_account[accounts[key]] += count
    index_top = by_account.most_common(1)
    return {
        "writes": total,
        "partition_keys_written": len(writes),
        "writes_by_table": dict(by_table.most_common()),
        "top_keys": [
            {"table": names.get(t, t), "key": k, "writes": n, "share": round(n / total, 4)}
            for (t, k), n in top
        ],
        "top_key_share": round(top[0][1] / total, 4),
        "posts_by_account_index_top_share": round(index_top[0][1] / total, 4) if index_top else 0.0,
    }


def _after_publishing(records: list[dict[str, Any]]) -> dict[str, Any]:
    links: Counter[str] = Counter(str((r.get("public_link") or {}).get("state")) for r in records)
    snapshots: Counter[int] = Counter(len(r.get("metrics_history") or []) for r in records)
    return {
        "statuses": dict(Counter(str(r.get("status")) for r in records)),
        "links": dict(links),
        "posts_by_snapshots_taken": {str(k): v for k, v in sorted(snapshots.items())},
        "snapshots_ended": sum(1 for r in records if r.get("snapshots_ended")),
    }


def run_size(config: ScaleConfig, posts: int, cdk_out: Path | None) -> dict[str, Any]:
    """One system, `posts` posts across `config.creators` creators, followed to their last snapshot."""
    meter = Meter()
    rng = random.Random(config.seed + posts)
    creators_used = min(config.creators, posts)
    waves = math.ceil(posts / creators_used)
    started = time.monotonic()
    deadline = started + config.timeout_seconds
    with (
        quiet_stdout(),
        meter.installed(),
        running_system(cdk_out=cdk_out, env={**COST_ENV, **ENV}) as (system, _events),
    ):
        meter.hash_keys = table_hash_keys(system)
        creators = [
            add_creator(system, i, prefix="scale", alias=f"s{i:03d}", preferences=PREFERENCES)
            for i in range(creators_used)
        ]
        settle(system)
        log(f"  scale {posts}: {len(creators)} creators connected ({time.monotonic() - started:.0f} s)")
        calls_before = tiktok_calls(system)
        meter.partition_writes.clear()
        mark = meter.mark()
        load = [round(x, 2) for x in os.getloadavg()]
        wall_start, cpu_start, virtual_start = time.monotonic(), time.process_time(), system.clock.now()
        post_ids: list[str] = []
        steps = 0
        for wave in range(waves):
            wave_start = system.clock.now()
            count = min(creators_used, posts - len(post_ids))
            ids = _drop_wave(system, creators, wave, count, rng)
            _wait_ended(system, ids, deadline)
            post_ids += ids
            last = wave == waves - 1
            steps += _run_schedules(
                system, config, None if last else wave_start + config.wave_seconds, deadline
            )
            log(
                f"  scale {posts}: wave {wave + 1}/{waves} done, {len(post_ids)} posts "
                f"({time.monotonic() - wall_start:.0f} s)"
            )
        wall = time.monotonic() - wall_start
        cpu = time.process_time() - cpu_start
        virtual_days = (system.clock.now() - virtual_start) / DAY
        invocations, aws_calls = meter.since(mark)
        calls_after = tiktok_calls(system)
        tiktok = Counter(
            {p: n - calls_before.get(p, 0) for p, n in calls_after.items() if n != calls_before.get(p, 0)}
        )
        histories = [state_transitions(system, post_id) for post_id in post_ids]
        records = [r for r in scan_table(system, Env.POSTS_TABLE) if r["post_id"] in set(post_ids)]
        contents = table_contents(system)
        sizes = average_item_sizes(system, contents)
        work = Work(
            posts=len(post_ids),
            statuses=Counter(str(r.get("status")) for r in records),
            tiktok_calls=tiktok,
            transitions=[h["count"] for h in histories],
            states_entered=histories[0]["states"],
            invocations=[i for i in invocations if i.function not in OBSERVER_FUNCTIONS],
            aws_calls=[c for c in aws_calls if c.function not in OBSERVER_FUNCTIONS],
        )
        summary = summarise_work(work, sizes)
        partitions = _partitions(meter, system)
        queries = _items_per_query(work, system)
    n = len(post_ids)
    return {
        "posts": n,
        "creators": creators_used,
        "waves": waves,
        "load_average_at_start": load,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "per_post": {
            "usd_per_1000_posts": summary["usd_per_1000_posts"]["total"],
            "wall_seconds": round(wall / n, 4),
            "cpu_seconds": round(cpu / n, 4),
            "tiktok_calls": summary["tiktok_calls_total_per_post"],
            "state_transitions": summary["state_transitions_per_post"],
            "lambda_invocations": summary["lambda_invocations_per_post"],
            "lambda_gb_seconds": summary["lambda_gb_seconds_per_post"],
            "aws_calls": round(len(work.aws_calls) / n, 2),
            "dynamodb_read_units": summary["dynamodb_request_units_per_post"]["read"],
            "dynamodb_write_units": summary["dynamodb_request_units_per_post"]["write"],
        },
        "tiktok_calls_by_path_per_post": summary["tiktok_calls_per_post"],
        "dynamodb_items_read_per_query": queries,
        "after_publishing": _after_publishing(records),
        "partitions": partitions,
        "table_items": {
            env: {"items": count, "average_bytes": round(size)} for env, (count, size) in contents.items()
        },
        "virtual_days": round(virtual_days, 2),
        "clock_steps": steps,
        "setup_seconds": round(wall_start - started, 1),
        "cost": summary,
    }


def _items_per_query(work: Work, system: EmbeddedSystem) -> dict[str, float]:
    """Per table (and index), the items an average Query read: what grows with the data, if anything."""
    names = {table_name(system, env): env for env in TABLES}
    reads: dict[str, list[float]] = {}
    for call in work.aws_calls:
        if call.service == "dynamodb" and call.operation == "Query":
            where = names.get(call.table, call.table) + (f":{call.index}" if call.index else "")
            reads.setdefault(where, []).append(call.items)
    return {where: round(sum(found) / len(found), 2) for where, found in sorted(reads.items())}


def _ratio(large: float, small: float) -> float | None:
    return round(large / small, 3) if small else None


def compare(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """Larger run over smaller, per post (1.0: flat): every per-post figure, the dollars by part, each
    function's mean duration and the items a query reads."""
    ratios = {k: _ratio(v, small["per_post"][k]) for k, v in large["per_post"].items()}
    parts_small, parts_large = small["cost"]["usd_per_1000_posts"], large["cost"]["usd_per_1000_posts"]
    functions_small = small["cost"]["lambda_by_function"]
    queries_small = small["dynamodb_items_read_per_query"]
    return {
        "ratios": {"usd": ratios.pop("usd_per_1000_posts"), **ratios},
        "usd_ratio_by_part": {
            k: _ratio(v, parts_small[k]) for k, v in parts_large.items() if parts_small.get(k)
        },
        "function_mean_ms_ratio": {
            name: _ratio(f["mean_ms"], functions_small[name]["mean_ms"])
            for name, f in large["cost"]["lambda_by_function"].items()
            if name in functions_small
        },
        "items_per_query_ratio": {
            where: _ratio(v, queries_small[where])
            for where, v in large["dynamodb_items_read_per_query"].items()
            if queries_small.get(where)
        },
    }


def measure(
    workdir: Path, quick: bool = False, sizes: tuple[int, ...] | None = None, wave_hours: float | None = None
) -> dict[str, Any]:
    config = ScaleConfig(sizes=(20, 100), creators=20) if quick else ScaleConfig()
    if sizes:
        config.sizes = tuple(sorted(sizes))
    if wave_hours:
        config.wave_seconds = round(wave_hours * HOUR)
    cdk_out = synthesize(workdir / "cdk-default")
    runs = {str(size): run_size(config, size, cdk_out) for size in config.sizes}
    small, large = runs[str(config.sizes[0])], runs[str(config.sizes[-1])]
    comparison = compare(small, large)
    ratios = comparison["ratios"]
    top_share = float(large["partitions"].get("top_key_share") or 0.0)
    hot_key_bound = 1 / config.creators
    met = {name: ratios[name] is not None and ratios[name] <= FLAT_TARGET for name in FLAT_FIGURES}
    return {
        "config": asdict(config),
        "runs": runs,
        **comparison,
        "targets": {
            "per_post_ratio_at_most": FLAT_TARGET,
            "flat": met,
            "met_flat": all(met.values()),
            "top_key_share": top_share,
            "top_key_share_at_most": round(hot_key_bound, 4),
            "met_no_hot_key": top_share <= hot_key_bound,
        },
    }
