"""Resilience run: many posts across many creators while the sandbox injects faults, with a daily cap
tight enough that most posts must wait for quota (virtual time lets the 24-hour waits pass at once).

Every figure is a count:
- published / waiting / failed (with reasons) / lost: for every video dropped into the bucket, its post
  record (read straight from DynamoDB); lost = no record, or a record stuck in a non-terminal,
  non-waiting status when the run ends;
- duplicated: extra posts for one object on our side, plus extra TikTok posts of the same bytes for the
  same account that TikTok published or received completely;
- cap overshoots: per account, the most Direct Post inits TikTok saw in any 24-hour window (sandbox time)
  beyond the account's daily cap, plus the inits TikTok refused because our own had already filled it;
- limiter-preventable 429s: 429 answers from TikTok (the sandbox's per-path status counts) that the
  fault injector did not produce, i.e. TikTok's own rate limits hit because ours let a call through;
- spam_risk_too_many_posts init refusals caused by posts made elsewhere: meanwhile the creators post
  public videos from "another app" (the sandbox's `POST /_sandbox/creators/<username>/videos`), which
  TikTok counts in the same daily cap as ours (each creator's cap in the sandbox is the account's). Our
  side sees them in `video.list` before a post takes its slot; TikTok must never have to refuse an init
  because of them.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import requests

from bench.cost import unique_clip
from bench.harness import (
    Meter,
    add_creator,
    log,
    quiet_stdout,
    running_system,
    sandbox_get,
    scan_table,
    synthesize,
    table_name,
    tiktok_statuses,
)
from functions.post_status import TERMINAL
from functions.posting.quota import posts_ledger
from functions.settings import Env
from local.embedded import EmbeddedSystem
from local.runtime.lambdas import between_handler_runs
from local.sandbox.errors import ApiError

DAY = 86_400
WAITING = frozenset({"WAITING_QUOTA", "SCHEDULED"})
DIRECT_INIT_PATHS = ("/v2/post/publish/video/init/", "/v2/post/publish/content/init/")
RATE_LIMITED_PATHS = (
    "/v2/post/publish/video/init/",
    "/v2/post/publish/creator_info/query/",
    "/v2/post/publish/status/fetch/",
)


def default_faults() -> dict[str, Any]:
    """5xx at random on every TikTok path; 429 bursts and connection resets (mid-chunk, and after a chunk
    was stored) re-armed every `rearm_seconds`; every webhook delivered twice."""
    return {
        "error_rate": {
            "/v2/post/publish/creator_info/query/": 0.1,
            "/v2/post/publish/video/init/": 0.1,
            "/v2/post/publish/status/fetch/": 0.1,
            "/upload/": 0.05,
            "/v2/oauth/token/": 0.05,
        },
        "error_status": 503,
        "status_429_burst": dict.fromkeys(RATE_LIMITED_PATHS, 1),
        "drop_connection_mid_put": 1,
        "drop_connection_after_put": 1,
        "duplicate_webhooks": True,
    }


@dataclass
class ResilienceConfig:
    posts: int = 200
    creators: int = 20
    daily_cap: int = 4
    seed: int = 20261125
    timeout_seconds: float = 1500.0  # a bound for a stuck run, far above the usual 10 min
    rearm_seconds: float = 2.0
    faults: dict[str, Any] = field(default_factory=default_faults)
    # Public videos each creator posts elsewhere, at seeded random times within the run's first
    # `elsewhere_within_seconds` of virtual time.
    elsewhere_per_creator: int = 2
    elsewhere_within_seconds: float = 2 * DAY
    # Also while one of the creator's posts holds a slot it has not used yet (PostsElsewhere).
    elsewhere_while_slots_held: bool = False


class _FaultCounter:
    """Counts what the sandbox's fault injector actually injected, per path."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.injected_429: Counter[str] = Counter()
        self.injected_5xx: Counter[str] = Counter()
        self.drops_mid_put = 0
        self.drops_after_put = 0

    def install(self, system: EmbeddedSystem) -> Any:
        if system.sandbox is None:
            raise RuntimeError("the sandbox is not running")
        injector = system.sandbox.app.faults
        counter = self
        take_429, take_5xx = injector.take_429, injector.take_5xx
        take_mid, take_after = injector.take_drop_mid_put, injector.take_drop_after_put

        def counted_429(path: str) -> bool:
            hit = take_429(path)
            if hit:
                with counter.lock:
                    counter.injected_429[path] += 1
            return hit

        def counted_5xx(path: str) -> int | None:
            status = take_5xx(path)
            if status is not None:
                with counter.lock:
                    counter.injected_5xx[path] += 1
            return status

        def counted_mid() -> bool:
            hit = take_mid()
            if hit:
                with counter.lock:
                    counter.drops_mid_put += 1
            return hit

        def counted_after() -> bool:
            hit = take_after()
            if hit:
                with counter.lock:
                    counter.drops_after_put += 1
            return hit

        patches: list[Any] = [
            mock.patch.object(injector, "take_429", counted_429),
            mock.patch.object(injector, "take_5xx", counted_5xx),
            mock.patch.object(injector, "take_drop_mid_put", counted_mid),
            mock.patch.object(injector, "take_drop_after_put", counted_after),
        ]
        for patch in patches:
            patch.start()
        return patches


def _rearm_loop(system: EmbeddedSystem, faults: dict[str, Any], every: float, stop: threading.Event) -> None:
    url = f"{system.sandbox_url}/_sandbox/faults"
    requests.post(url, json=faults, timeout=10).raise_for_status()
    counters = {
        k: v
        for k, v in faults.items()
        if k in ("status_429_burst", "drop_connection_mid_put", "drop_connection_after_put")
    }
    while not stop.wait(every):
        try:
            requests.post(url, json=counters, timeout=10)
        except requests.RequestException:
            continue


def _add_creators(system: EmbeddedSystem, config: ResilienceConfig) -> list[tuple[str, str, str]]:
    """(username, open_id, account alias) for each new creator, connected through the OAuth flow. TikTok's
    cap for the creator is the account's, so that what the creator posts elsewhere fills the same cap."""
    preferences = {
        "mode": "direct",
        "privacy_level": "SELF_ONLY",
        "caption": "resilience run",
        "daily_post_cap": config.daily_cap,
    }
    return [
        add_creator(
            system,
            index,
            prefix="bench_creator",
            alias=f"r{index:02d}",
            preferences=preferences,
            creator_fields={"post_cap": config.daily_cap},
        )
        for index in range(config.creators)
    ]


@dataclass
class _Planned:
    at: float  # virtual time
    username: str
    open_id: str
    account: str
    title: str


class PostsElsewhere:
    """The creators' public videos made elsewhere during the run, and TikTok's init refusals for the daily
    cap (`refusals`: sandbox time, open_id; seen by wrapping the sandbox's Direct Post rules).

    Each video is made when the virtual clock first moves past its planned time by a jump of the event
    clock (every handler idle, no wait woken yet), for a creator none of whose posts holds a daily-cap slot
    it has not used for an init yet: what the system promises is to count every post made elsewhere before
    one of its posts takes (or renews) its slot. With `while_slots_held`, videos are also made while a post
    holds such a slot, e.g. one that TikTok's rate limit sent to wait between its slot and its init."""

    def __init__(self, system: EmbeddedSystem, planned: list[_Planned], *, while_slots_held: bool) -> None:
        self.system = system
        self.planned = sorted(planned, key=lambda p: p.at)
        self.while_slots_held = while_slots_held
        self.posted: dict[str, list[float]] = defaultdict(list)
        self.postponed = 0  # jumps at which a due video waited for its creator's slots
        self.refusals: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self._patch: Any = None

    @classmethod
    def plan(
        cls, system: EmbeddedSystem, config: ResilienceConfig, creators: list[tuple[str, str, str]]
    ) -> PostsElsewhere:
        rng = random.Random(config.seed + 1)
        start = system.clock.now()
        planned = [
            _Planned(
                start + rng.uniform(0, config.elsewhere_within_seconds), username, open_id, alias, f"app {n}"
            )
            for username, open_id, alias in creators
            for n in range(config.elsewhere_per_creator)
        ]
        return cls(system, planned, while_slots_held=config.elsewhere_while_slots_held)

    def _slot_held_unused(self, account: str, now: float) -> bool:
        """Whether one of the account's posts holds a live daily-cap slot without a publish_id: it took
        its slot (after reading video.list) and has not been created at TikTok yet."""
        dynamodb = self.system.rt.in_process_client("dynamodb")
        quota, posts = table_name(self.system, Env.QUOTA_TABLE), table_name(self.system, Env.POSTS_TABLE)
        slots = dynamodb.query(
            TableName=quota,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": posts_ledger(account)}},
            ConsistentRead=True,
        )["Items"]
        for slot in slots:
            holder = slot.get("holder", {}).get("S", "")
            if float(slot.get("free_at", {}).get("N", "0")) <= now or holder.startswith("elsewhere:"):
                continue
            post = dynamodb.get_item(
                TableName=posts, Key={"post_id": {"S": holder.split("#", 1)[0]}}, ConsistentRead=True
            ).get("Item", {})
            if post and "publish_id" not in post and post["status"]["S"] not in TERMINAL:
                return True
        return False

    def on_advance(self, _seconds: float) -> None:
        """A follower of the virtual clock: called as it moves, before any wait wakes."""
        if not self.planned or not self.system.rt.activity.quiet_for(0.0):
            return  # a handler's own sleep moved it: that post is in the middle of a step
        with between_handler_runs():
            now = self.system.clock.now()
            with self.lock:
                due = [p for p in self.planned if p.at <= now]
            for video in due:
                if not self.while_slots_held and self._slot_held_unused(video.account, now):
                    self.postponed += 1
                    continue
                answer = requests.post(
                    f"{self.system.sandbox_url}/_sandbox/creators/{video.username}/videos",
                    json={"title": f"posted elsewhere: {video.title}", "privacy": "PUBLIC_TO_EVERYONE"},
                    timeout=10,
                )
                answer.raise_for_status()
                with self.lock:
                    self.planned.remove(video)
                    self.posted[video.open_id].append(float(answer.json()["create_time"]))

    def install(self) -> None:
        from local.sandbox import posting

        if self.system.sandbox is None:
            raise RuntimeError("the sandbox is not running")
        rules = posting._direct_post_rules  # counted, not changed
        clock = self.system.sandbox.clock
        tracker = self

        def counted(app: Any, creator: Any, *args: Any, **kwargs: Any) -> None:
            try:
                rules(app, creator, *args, **kwargs)
            except ApiError as exc:
                if exc.code == "spam_risk_too_many_posts":
                    with tracker.lock:
                        tracker.refusals.append((clock.now(), str(creator.open_id)))
                raise

        self._patch = mock.patch.object(posting, "_direct_post_rules", counted)
        self._patch.start()
        self.system.clock.on_advance.append(self.on_advance)

    def uninstall(self) -> None:
        if self.on_advance in self.system.clock.on_advance:
            self.system.clock.on_advance.remove(self.on_advance)
        if self._patch is not None:
            self._patch.stop()
            self._patch = None


@dataclass
class Dropped:
    key: str
    alias: str
    open_id: str
    sha256: str


def _drop_all(
    system: EmbeddedSystem, config: ResilienceConfig, creators: list[tuple[str, str, str]]
) -> list[Dropped]:
    rng = random.Random(config.seed)
    order = list(range(config.posts))
    rng.shuffle(order)  # creators interleaved, not one after the other
    dropped = []
    for number in order:
        _username, open_id, alias = creators[number % len(creators)]
        clip = unique_clip(f"resilience-{config.seed}-{number}")
        key = f"posts/{alias}/clip-{number:04d}.mp4"
        system.put_object(key, clip, "video/mp4")
        dropped.append(Dropped(key, alias, open_id, hashlib.sha256(clip).hexdigest()))
    return dropped


def _records_by_key(system: EmbeddedSystem) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in scan_table(system, Env.POSTS_TABLE):
        origin = (record.get("media") or {}).get("origin_key")
        if origin:
            found[origin].append(record)
    return found


def _status_counts(dropped: list[Dropped], records: dict[str, list[dict[str, Any]]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in dropped:
        mine = records.get(item.key, [])
        counts[mine[0]["status"] if mine else "NO_RECORD"] += 1
    return counts


def _wait_for_outcomes(
    system: EmbeddedSystem, dropped: list[Dropped], deadline: float
) -> dict[str, list[dict[str, Any]]]:
    last_log = 0.0
    while True:
        records = _records_by_key(system)
        counts = _status_counts(dropped, records)
        finished = sum(n for status, n in counts.items() if status in TERMINAL)
        now = time.monotonic()
        if now - last_log > 10:
            log(f"  resilience: {dict(sorted(counts.items()))}")
            last_log = now
        if finished == len(dropped) or now > deadline:
            return records
        time.sleep(1.0)


def _window_overshoot(times: list[float], cap: int) -> tuple[int, int]:
    """(most inits in any [t, t + 24 h) window, how far beyond `cap`)."""
    times = sorted(times)
    most = 0
    start = 0
    for end, at in enumerate(times):
        while at - times[start] >= DAY:
            start += 1
        most = max(most, end - start + 1)
    return most, max(0, most - cap)


def _our_side(dropped: list[Dropped], records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What our post records say about every dropped object."""
    statuses: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    failed_examples: dict[str, str] = {}
    stuck: Counter[str] = Counter()
    no_record = duplicates = waited = 0
    for item in dropped:
        mine = records.get(item.key, [])
        if not mine:
            no_record += 1
            continue
        duplicates += len(mine) - 1
        record = mine[0]
        status = record["status"]
        statuses[status] += 1
        waited += any(h.get("status") == "WAITING_QUOTA" for h in record.get("history", []))
        if status == "FAILED":
            reason = str(record.get("fail_reason", "?"))
            failed[reason] += 1
            failed_examples.setdefault(reason, str(record.get("fail_detail", ""))[:300])
        elif status not in TERMINAL and status not in WAITING:
            stuck[status] += 1
    return {
        "statuses": statuses,
        "failed": failed,
        "failed_examples": failed_examples,
        "stuck": stuck,
        "no_record": no_record,
        "duplicates": duplicates,
        "waited": waited,
    }


def _tiktok_side(
    sandbox_posts: list[dict[str, Any]], dropped: list[Dropped]
) -> tuple[int, int, dict[str, list[float]]]:
    """(extra published, extra received whole) per account and content, and the Direct Post init times
    TikTok saw per open_id (sandbox time)."""
    ours = {(d.open_id, d.sha256) for d in dropped}
    published: Counter[tuple[str, str]] = Counter()
    received_whole: Counter[tuple[str, str]] = Counter()
    inits: dict[str, list[float]] = defaultdict(list)
    for post in sandbox_posts:
        identity = (post["open_id"], post.get("sha256") or "")
        if post.get("mode") == "direct":
            inits[post["open_id"]].append(float(post["created_at"]))
        if identity not in ours:
            continue
        upload = post.get("upload") or {}
        if upload and upload.get("uploaded_bytes") == upload.get("video_size"):
            received_whole[identity] += 1
        if post.get("status") in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
            published[identity] += 1
    return (
        sum(n - 1 for n in published.values() if n > 1),
        sum(n - 1 for n in received_whole.values() if n > 1),
        inits,
    )


def _caps(
    config: ResilienceConfig,
    dropped: list[Dropped],
    records: dict[str, list[dict[str, Any]]],
    inits: dict[str, list[float]],
) -> tuple[dict[str, dict[str, int]], dict[str, Any]]:
    """Per account: inits, most in any 24 h, beyond the cap; and the timeline of the worst account."""
    by_account: dict[str, dict[str, int]] = {}
    open_ids = {d.open_id: d.alias for d in dropped}
    for open_id, alias in sorted(open_ids.items(), key=lambda kv: kv[1]):
        most, beyond = _window_overshoot(inits.get(open_id, []), config.daily_cap)
        by_account[alias] = {"inits": len(inits.get(open_id, [])), "most_in_24h": most, "beyond_cap": beyond}
    worst = max(by_account, key=lambda a: by_account[a]["beyond_cap"], default=None)
    if worst is None or not by_account[worst]["beyond_cap"]:
        return by_account, {}
    open_id = next(o for o, a in open_ids.items() if a == worst)
    times = sorted(inits[open_id])
    ours_init = sorted(
        float(h["at"])
        for item in dropped
        if item.alias == worst
        for record in records.get(item.key, [])[:1]
        for h in record.get("history", [])
        if h.get("status") == "INITIALIZING"
    )
    return by_account, {
        "account": worst,
        "tiktok_init_seconds_after_first": [round(t - times[0], 1) for t in times],
        "our_initializing_seconds_after_first": [round(t - times[0], 1) for t in ours_init],
    }


def _in_day_before(times: list[float], at: float) -> int:
    return sum(1 for t in times if at - DAY < t <= at)


def _cap_refusals(
    config: ResilienceConfig, elsewhere: PostsElsewhere, inits: dict[str, list[float]]
) -> dict[str, Any]:
    """Each spam_risk_too_many_posts init refusal, by what filled TikTok's cap in the 24 hours before
    it: our own accepted inits alone (our ledger let one post too many go), or with posts made elsewhere
    (a post made elsewhere that our side did not count)."""
    ours = caused_elsewhere = 0
    examples: list[dict[str, Any]] = []
    for at, open_id in elsewhere.refusals:
        mine = _in_day_before(inits.get(open_id, []), at)
        theirs = _in_day_before(elsewhere.posted.get(open_id, []), at)
        if mine >= config.daily_cap:
            ours += 1
        else:
            caused_elsewhere += 1
        if len(examples) < 5:
            examples.append({"open_id": open_id, "our_inits_in_24h": mine, "elsewhere_in_24h": theirs})
    return {"ours": ours, "elsewhere": caused_elsewhere, "examples": examples}


def analyse(
    system: EmbeddedSystem,
    config: ResilienceConfig,
    dropped: list[Dropped],
    records: dict[str, list[dict[str, Any]]],
    faults: _FaultCounter,
    *,
    elsewhere: PostsElsewhere,
) -> dict[str, Any]:
    mine = _our_side(dropped, records)
    statuses: Counter[str] = mine["statuses"]
    sandbox_posts = sandbox_get(system, "posts")["posts"]
    tiktok_duplicates, whole_duplicates, inits = _tiktok_side(sandbox_posts, dropped)
    by_account, timeline = _caps(config, dropped, records, inits)
    answered = tiktok_statuses(system)
    refusals = _cap_refusals(config, elsewhere, inits)
    init_403 = {
        path: int(answered.get(path, Counter()).get("403", 0))
        for path in DIRECT_INIT_PATHS
        if answered.get(path, Counter()).get("403")
    }
    limiter_429 = {
        path: by_status["429"] - faults.injected_429.get(path, 0)
        for path, by_status in sorted(answered.items())
        if by_status.get("429")
    }
    return {
        "config": {k: v for k, v in asdict(config).items() if k != "faults"},
        "faults_armed": config.faults,
        "dropped": len(dropped),
        "published": statuses.get("PUBLISH_COMPLETE", 0),
        "waiting": sum(statuses.get(s, 0) for s in WAITING),
        "failed": sum(mine["failed"].values()),
        "failed_by_reason": dict(mine["failed"]),
        "failed_examples": mine["failed_examples"],
        "lost": mine["no_record"] + sum(mine["stuck"].values()),
        "lost_detail": {"no_record": mine["no_record"], "stuck_in": dict(mine["stuck"])},
        "duplicated": mine["duplicates"] + max(tiktok_duplicates, whole_duplicates),
        "duplicated_detail": {
            "extra_post_records_for_one_object": mine["duplicates"],
            "extra_tiktok_posts_published_same_bytes_same_account": tiktok_duplicates,
            "extra_tiktok_posts_received_whole_same_bytes_same_account": whole_duplicates,
        },
        # Beyond the cap in TikTok's view, plus the inits TikTok refused because our own posts had already
        # filled the cap: TikTok's cap here is the account's, so it stops what it would otherwise count.
        "cap_overshoots": sum(v["beyond_cap"] for v in by_account.values()) + refusals["ours"],
        "cap_by_account": by_account,
        "cap_worst_account_timeline": timeline,
        "limiter_preventable_429": sum(max(0, v) for v in limiter_429.values()),
        "limiter_preventable_429_by_path": limiter_429,
        "tiktok_answers_by_path": {p: dict(s) for p, s in sorted(answered.items())},
        "tiktok_cap_refusals_403": sum(
            1 for p in sandbox_posts if p.get("fail_reason") == "spam_risk_too_many_posts"
        ),
        "posts_made_elsewhere": sum(len(v) for v in elsewhere.posted.values()),
        "posts_made_elsewhere_not_made": len(elsewhere.planned),
        "posts_made_elsewhere_postponed": elsewhere.postponed,
        "init_refusals_403_by_path": init_403,
        "spam_risk_init_refusals": len(elsewhere.refusals),
        "spam_risk_init_refusals_caused_by_ours": refusals["ours"],
        "spam_risk_caused_by_posts_elsewhere": refusals["elsewhere"],
        "spam_risk_init_refusal_examples": refusals["examples"],
        "injected": {
            "429": dict(faults.injected_429),
            "5xx": dict(faults.injected_5xx),
            "drop_connection_mid_put": faults.drops_mid_put,
            "drop_connection_after_put": faults.drops_after_put,
        },
        "posts_that_waited_for_quota": mine["waited"],
        "tiktok_posts_created": len(sandbox_posts),
        "virtual_days_elapsed": round((system.clock.now() - time.time()) / DAY, 2),
        "all_statuses": dict(statuses),
    }


def run(config: ResilienceConfig, cdk_out: Path | None = None) -> dict[str, Any]:
    """Start the whole system, run the batch under faults, and count what happened."""
    env = {Env.APP_STATUS: "audited", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    faults = _FaultCounter()
    stop = threading.Event()
    meter = Meter()
    with (
        quiet_stdout(),
        meter.installed(),
        running_system(cdk_out=cdk_out, env=env, sandbox_config={"seed": config.seed}) as (system, events),
    ):
        patches = faults.install(system)
        elsewhere: PostsElsewhere | None = None
        try:
            creators = _add_creators(system, config)
            log(f"  resilience: {len(creators)} creators connected ({time.monotonic() - started:.0f} s)")
            elsewhere = PostsElsewhere.plan(system, config, creators)
            elsewhere.install()
            rearm = threading.Thread(
                target=_rearm_loop, args=(system, config.faults, config.rearm_seconds, stop), daemon=True
            )
            rearm.start()
            dropped = _drop_all(system, config, creators)
            log(f"  resilience: {len(dropped)} videos dropped ({time.monotonic() - started:.0f} s)")
            records = _wait_for_outcomes(system, dropped, started + config.timeout_seconds)
            stop.set()
            rearm.join(timeout=10)
            requests.delete(f"{system.sandbox_url}/_sandbox/faults", timeout=10)
            result = analyse(system, config, dropped, records, faults, elsewhere=elsewhere)
            result["virtual_clock_jumps"] = events.jumps
        finally:
            stop.set()
            if elsewhere is not None:
                elsewhere.uninstall()
            for patch in patches:
                patch.stop()
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    targets = (
        "lost",
        "duplicated",
        "cap_overshoots",
        "limiter_preventable_429",
        "spam_risk_caused_by_posts_elsewhere",
    )
    result["targets"] = dict.fromkeys(targets, 0) | {"met": all(result[name] == 0 for name in targets)}
    return result


def measure(workdir: Path, quick: bool = False) -> dict[str, Any]:
    config = (
        ResilienceConfig(posts=40, creators=5, daily_cap=3, timeout_seconds=300)
        if quick
        else ResilienceConfig()
    )
    return run(config, synthesize(workdir / "cdk-default"))
