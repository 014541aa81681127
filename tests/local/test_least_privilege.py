"""Every path of the system under IAM enforcement, and least privilege measured on them.

Two embedded systems run the paths (the `path_...` functions, one after the other, once per module): the
default stack, and one synthesized with a 2-second AwaitOutcome timeout and no webhooks from the sandbox,
so that CheckStatus polls. Each function calls AWS with its own role (local/runtime/iam/). Then:

- each path did what it should, with every function under its own role;
- no call was denied (a path that needs a grant the template lacks fails here, naming the call);
- every grant of every role was used by some path, or is listed in `infra/permissions.py` with the reason
  a local run cannot use it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import requests

from functions.settings import Env
from infra.permissions import UNUSED_LOCALLY
from local.embedded import EmbeddedSystem
from local.media import clip, image, photo, video
from local.runtime.iam import Denial, GrantReport, NamedGrant
from local.runtime.synthesis import synthesize

MIB = 1024 * 1024
DIRECT = {"mode": "direct", "privacy_level": "SELF_ONLY"}
ENV = {Env.APP_STATUS: "audited", Env.UPLOAD_CHUNK_BYTES: str(5 * MIB)}
ACCESS_TTL = 7200  # the sandbox's access token lifetime (seconds)
Path_ = Callable[[EmbeddedSystem], None]


def _drop(system: EmbeddedSystem, key: str, body: bytes | dict[str, Any]) -> None:
    system.put_object(key, json.dumps(body).encode() if isinstance(body, dict) else body)


def _final(system: EmbeddedSystem, account: str, key: str, *statuses: str) -> dict[str, Any]:
    return system.wait_for_post(account, key, set(statuses or ("PUBLISH_COMPLETE", "FAILED")))


def _published(system: EmbeddedSystem, account: str, key: str) -> dict[str, Any]:
    post = _final(system, account, key)
    assert post["status"] == "PUBLISH_COMPLETE", (post.get("fail_reason"), post.get("fail_detail"))
    return post


def _api(system: EmbeddedSystem, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{system.api_url}{path}", timeout=30, **kwargs)


def _until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise TimeoutError("the condition never held")


# --- the publishing workflow ------------------------------------------------------------------------


def path_posts_dropped_in_the_bucket(system: EmbeddedSystem) -> None:
    _drop(system, "posts/pub/media/clip.mp4", video(label="direct"))
    _drop(system, "posts/pub/clip.json", {"video": "media/clip.mp4", **DIRECT, "caption": "manifest"})
    _published(system, "pub", "posts/pub/clip.json")

    assert (
        _api(system, "PUT", "/accounts/priv/preferences", json={**DIRECT, "caption": "bare"}).status_code
        == 200
    )
    _drop(system, "posts/priv/bare.mp4", video(label="bare"))
    _published(system, "priv", "posts/priv/bare.mp4")

    for index in range(2):
        _drop(system, f"posts/pub/media/set/{index}.jpg", photo(colour=(60 * index, 90, 200)))
    photos = {"photos": ["media/set/0.jpg", "media/set/1.jpg"], **DIRECT, "title": "pulled"}
    _drop(system, "posts/pub/photos.json", photos)
    _published(system, "pub", "posts/pub/photos.json")

    _drop(system, "posts/pub/bad.json", {"video": "media/missing.mp4", **DIRECT})
    assert _final(system, "pub", "posts/pub/bad.json", "FAILED")["status"] == "FAILED"
    _drop(system, "posts/pub/broken.json", b"{not json")  # refused at intake, with its event
    assert _final(system, "pub", "posts/pub/broken.json", "FAILED")["status"] == "FAILED"


def path_media_repaired_before_it_is_sent(system: EmbeddedSystem) -> None:
    """Repair reads the original version, writes its copy under derived/ by multipart upload and probes it
    there; Upload streams the copy; a refused repair writes nothing."""
    _drop(system, "posts/pub/media/fast.mp4", clip(fps=120, frames=24))
    _drop(system, "posts/pub/fast.json", {"video": "media/fast.mp4", **DIRECT, "caption": "repaired"})
    post = _published(system, "pub", "posts/pub/fast.json")
    assert post["prepared"]["video"]["key"].startswith("derived/pub/"), post["prepared"]

    _drop(system, "posts/pub/media/set/drawing.png", image(width=1200, height=1600, fmt="PNG"))
    photos = {"photos": ["media/set/drawing.png"], **DIRECT, "title": "repaired photo"}
    _drop(system, "posts/pub/png.json", photos)
    assert _published(system, "pub", "posts/pub/png.json")["repair"]["changes"]

    _drop(system, "posts/pub/media/long.mp4", clip(fps=Fraction(1, 4), frames=50, width=4096, height=2304))
    _drop(system, "posts/pub/long.json", {"video": "media/long.mp4", **DIRECT})
    assert _final(system, "pub", "posts/pub/long.json", "FAILED")["fail_reason"] == "too_long_to_repair"


def path_an_inbox_draft_the_creator_posts(system: EmbeddedSystem) -> None:
    _drop(system, "posts/pub/media/draft.mp4", video(label="inbox"))
    _drop(system, "posts/pub/draft.json", {"video": "media/draft.mp4", "mode": "inbox"})
    post = _final(system, "pub", "posts/pub/draft.json", "SEND_TO_USER_INBOX", "FAILED")
    assert post["status"] == "SEND_TO_USER_INBOX", post
    system.sandbox_control(f"posts/{post['publish_id']}/complete", {"public": False})
    _final(system, "pub", "posts/pub/draft.json", "PUBLISH_COMPLETE")

    system.sandbox_control("faults", {"fail_next_posts": ["file_format_check_failed"]})
    _drop(system, "posts/pub/media/refused.mp4", video(label="refused"))
    _drop(system, "posts/pub/refused.json", {"video": "media/refused.mp4", "mode": "inbox"})
    refused = _final(system, "pub", "posts/pub/refused.json", "FAILED")  # its inbox slot is given back
    assert refused["fail_reason"] == "file_format_check_failed", refused


def path_a_full_daily_cap_makes_a_post_wait(system: EmbeddedSystem) -> None:
    capped = {**DIRECT, "daily_post_cap": 1}
    assert _api(system, "PUT", "/accounts/priv/preferences", json=capped).status_code == 200
    for name in ("capped-1", "capped-2"):
        _drop(system, f"posts/priv/{name}.mp4", video(label=name))
    posts = [_published(system, "priv", f"posts/priv/{name}.mp4") for name in ("capped-1", "capped-2")]
    assert any("WAITING_QUOTA" in [h["status"] for h in post["history"]] for post in posts)


def path_tiktok_says_not_now_at_init(system: EmbeddedSystem) -> None:
    """TikTok's 429 at init: the post waits, and its next init reads video.list again first (the creator
    may have posted elsewhere meanwhile), telling the videos that are ours by the posts index."""
    system.sandbox_control("faults", {"status_429_burst": {"/v2/post/publish/video/init/": 1}})
    try:
        _drop(system, "posts/pub/media/not-now.mp4", video(label="not now"))
        _drop(system, "posts/pub/not-now.json", {"video": "media/not-now.mp4", **DIRECT})
        post = _published(system, "pub", "posts/pub/not-now.json")
    finally:
        requests.delete(f"{system.sandbox_url}/_sandbox/faults", timeout=10)
    assert post.get("init_deferred_at"), post


def path_an_expired_access_token_is_refreshed(system: EmbeddedSystem) -> None:
    """Whichever step first needs the token after it expired refreshes it: Prepare (creator_info) for a
    post going out now; Init for an inbox draft that waited for its publish_at (an inbox draft's Reserve
    asks TikTok nothing). `priv` posts only private videos, so no after-publish work refreshes it first."""
    system.clock.advance(ACCESS_TTL + 60)
    _drop(system, "posts/priv/media/later.mp4", video(label="refreshed"))
    _drop(system, "posts/priv/later.json", {"video": "media/later.mp4", **DIRECT})
    _published(system, "priv", "posts/priv/later.json")

    at = datetime.fromtimestamp(system.clock.now() + ACCESS_TTL + 60, UTC).isoformat()
    _drop(system, "posts/priv/media/scheduled.mp4", video(label="scheduled draft"))
    _drop(
        system,
        "posts/priv/scheduled.json",
        {"video": "media/scheduled.mp4", "mode": "inbox", "publish_at": at},
    )
    post = _final(system, "priv", "posts/priv/scheduled.json", "SEND_TO_USER_INBOX", "FAILED")
    assert post["status"] == "SEND_TO_USER_INBOX", post


def path_a_public_post_gets_its_link_and_numbers(system: EmbeddedSystem) -> None:
    """Finish schedules the after-publish work (EventBridge Scheduler, passing its role); after_publish
    finds the link, writes the snapshots to S3 and announces both."""
    _drop(system, "posts/pub/media/public.mp4", video(label="public"))
    public = {**DIRECT, "privacy_level": "PUBLIC_TO_EVERYONE", "caption": "for everyone"}
    _drop(system, "posts/pub/public.json", {"video": "media/public.mp4", **public})
    post = _published(system, "pub", "posts/pub/public.json")
    # Finish plans the work after TikTok's status arrived: the snapshots are due from then on.
    due = _until(lambda: system.api_get(f"/posts/{post['post_id']}/metrics")["snapshots_due"])
    system.clock.advance(due[0] + 60 - system.clock.now())  # past the first snapshot: its schedule fires
    metrics = _until(lambda: _snapshotted(system, post["post_id"]))
    assert metrics["share_url"] and metrics["latest"], metrics


def _snapshotted(system: EmbeddedSystem, post_id: str) -> dict[str, Any] | None:
    metrics: dict[str, Any] = system.api_get(f"/posts/{post_id}/metrics")
    return metrics if metrics.get("latest") else None


def _initialised(system: EmbeddedSystem, title: str) -> bool:
    posts = requests.get(f"{system.sandbox_url}/_sandbox/posts", timeout=10).json()["posts"]
    return any(p["post_info"].get("title") == title for p in posts)


def path_an_unclear_end_of_the_upload(system: EmbeddedSystem) -> None:
    """The final chunk's answer is lost and the repeat gets 404: UploadChunks asks TikTok for the status,
    with a token it refreshes first (the clock moves near the token's expiry while the chunk travels)."""
    expires_at = int(system.api_get("/accounts/pub")["access_expires_at"])
    system.sandbox_control("quirks", {"quirks": ["final_chunk_repeat_404"]})
    system.sandbox_control("faults", {"drop_connection_after_put": 1, "slow_seconds": {"/upload/": 2.0}})
    try:
        _drop(system, "posts/pub/media/unclear.mp4", video(label="unclear"))
        _drop(
            system, "posts/pub/unclear.json", {"video": "media/unclear.mp4", **DIRECT, "caption": "unclear"}
        )
        _until(lambda: _initialised(system, "unclear"))  # TikTok's view: our API waits for the handler
        system.clock.advance(expires_at - 300 - system.clock.now())  # within the refresh margin, still valid
        post = _published(system, "pub", "posts/pub/unclear.json")
    finally:
        system.sandbox_control("quirks", {"quirks": []})
        requests.delete(f"{system.sandbox_url}/_sandbox/faults", timeout=10)
    assert any("TikTok holds all" in h["note"] for h in post["history"]), post["history"]


# --- the management API -----------------------------------------------------------------------------


def path_every_management_route(system: EmbeddedSystem) -> None:
    assert {a["account_id"] for a in _api(system, "GET", "/accounts").json()["accounts"]} >= {"pub", "priv"}
    assert _api(system, "GET", "/accounts/pub").json()["status"] == "connected"

    _drop(system, "posts/pub/media/api.mp4", video(label="api"))
    created = _api(system, "POST", "/posts", json={"account": "pub", "video": "media/api.mp4", **DIRECT})
    assert created.status_code == 202, created.text
    post_id = created.json()["post_id"]
    _until(lambda: _api(system, "GET", f"/posts/{post_id}").json()["status"] == "PUBLISH_COMPLETE")
    assert post_id in {
        p["post_id"] for p in _api(system, "GET", "/posts", params={"account": "pub"}).json()["posts"]
    }

    unknown = _api(system, "POST", "/posts", json={"account": "nobody", "video": "media/api.mp4", **DIRECT})
    assert unknown.status_code == 422, unknown.text  # recorded as failed, with its event


# --- the review page --------------------------------------------------------------------------------


def _awaiting_review(system: EmbeddedSystem, name: str) -> dict[str, Any]:
    _drop(system, f"posts/pub/media/{name}.mp4", video(label=name))
    _drop(system, f"posts/pub/{name}.json", {"video": f"media/{name}.mp4", "mode": "direct", "caption": name})
    post = _final(system, "pub", f"posts/pub/{name}.json", "AWAITING_REVIEW", "FAILED")
    assert post["status"] == "AWAITING_REVIEW", post
    return post


def path_review_approve_and_discard(system: EmbeddedSystem) -> None:
    approve = _awaiting_review(system, "approve")
    system.clock.advance(ACCESS_TTL + 60)  # the page asks TikTok for creator_info with a refreshed token
    assert requests.get(approve["review_url"], timeout=30).status_code == 200
    form = {"privacy_level": "SELF_ONLY", "consent": "on", "action": "post", "caption": "approved"}
    assert (
        requests.post(approve["review_url"], data=form, allow_redirects=False, timeout=30).status_code == 303
    )
    _published(system, "pub", "posts/pub/approve.json")

    discard = _awaiting_review(system, "discard")
    answer = requests.post(
        discard["review_url"], data={"action": "discard"}, allow_redirects=False, timeout=30
    )
    assert answer.status_code == 303
    _final(system, "pub", "posts/pub/discard.json", "CANCELLED")

    cancelled = _awaiting_review(system, "cancel-waiting")  # cancelled through the API while it waits
    answer = _api(system, "DELETE", f"/posts/{cancelled['post_id']}")
    assert answer.status_code == 200 and answer.json()["status"] == "CANCELLED", answer.text


# --- leaving ----------------------------------------------------------------------------------------


def path_authorization_removed_and_disconnect(system: EmbeddedSystem) -> None:
    waiting = _awaiting_review(system, "left-waiting")
    system.sandbox_control("creators/sandbox_public/deauthorize", {"reason": 1})
    _until(lambda: system.api_get("/accounts/pub")["status"] == "disconnected")
    assert (
        _final(system, "pub", "posts/pub/left-waiting.json", "FAILED", "CANCELLED")["post_id"]
        == waiting["post_id"]
    )

    system.clock.advance(ACCESS_TTL + 60)  # revoking takes a valid access token: refreshed first
    gone = _api(system, "DELETE", "/accounts/priv")
    assert gone.status_code == 200 and gone.json()["status"] == "disconnected", gone.text
    assert gone.json()["status_reason"].endswith("TikTok confirmed the revocation"), gone.text


# --- polling, when TikTok's webhook never comes -------------------------------------------------------


def path_the_polling_fallback(system: EmbeddedSystem) -> None:
    """A public post waits for TikTok's webhook, which this sandbox never sends: AwaitOutcome times out."""
    _drop(system, "posts/pub/media/polled.mp4", video(label="polled"))
    public = {**DIRECT, "privacy_level": "PUBLIC_TO_EVERYONE"}
    _drop(system, "posts/pub/polled.json", {"video": "media/polled.mp4", **public})
    _final(system, "pub", "posts/pub/polled.json", "PROCESSING", "PUBLISH_COMPLETE", "FAILED")
    system.clock.advance(ACCESS_TTL + 60)  # while it waits: the status fetch needs a refreshed token
    post = _published(system, "pub", "posts/pub/polled.json")
    assert "status fetch" in json.dumps(post["history"])


# --- the run and its checks -------------------------------------------------------------------------

DEFAULT_STACK_PATHS: tuple[Path_, ...] = (
    path_posts_dropped_in_the_bucket,
    path_media_repaired_before_it_is_sent,
    path_an_inbox_draft_the_creator_posts,
    path_a_full_daily_cap_makes_a_post_wait,
    path_tiktok_says_not_now_at_init,
    path_an_expired_access_token_is_refreshed,
    path_a_public_post_gets_its_link_and_numbers,
    path_an_unclear_end_of_the_upload,
    path_every_management_route,
    path_review_approve_and_discard,
    path_authorization_removed_and_disconnect,
)
NO_WEBHOOK_STACK_PATHS: tuple[Path_, ...] = (path_the_polling_fallback,)
PATH_NAMES = [p.__name__.removeprefix("path_") for p in DEFAULT_STACK_PATHS + NO_WEBHOOK_STACK_PATHS]


@dataclass
class Run:
    report: GrantReport | None = None
    failures: dict[str, str] = field(default_factory=dict)
    denials: list[Denial] = field(default_factory=list)


def _run_paths(system: EmbeddedSystem, paths: tuple[Path_, ...], run: Run) -> None:
    for path in paths:
        try:
            path(system)
        except Exception as exc:  # every path runs, so that one failure does not hide the others
            run.failures[path.__name__.removeprefix("path_")] = f"{type(exc).__name__}: {exc}"
    assert system.rt.iam is not None
    run.denials.extend(system.rt.iam.usage.denials)
    report = system.rt.grant_report()
    run.report = report if run.report is None else run.report.merge(report)


@pytest.fixture(scope="module")
def run(cdk_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    result = Run()
    with EmbeddedSystem(cdk_out=cdk_out, env=ENV, virtual_time=True) as system:
        for creator, alias in (("sandbox_public", "pub"), ("sandbox_private", "priv")):
            assert system.connect(creator, alias=alias).status_code == 200
        _run_paths(system, DEFAULT_STACK_PATHS, result)
    short_wait = synthesize(tmp_path_factory.mktemp("cdk-await-2s"), await_timeout_seconds=2)
    no_webhooks = {"webhook_urls": []}
    with EmbeddedSystem(cdk_out=short_wait, env=ENV, virtual_time=True, sandbox_config=no_webhooks) as system:
        assert system.connect("sandbox_public", alias="pub").status_code == 200
        _run_paths(system, NO_WEBHOOK_STACK_PATHS, result)
    return result


@pytest.mark.parametrize("name", PATH_NAMES)
def test_the_path_works_with_every_function_under_its_own_role(run: Run, name: str) -> None:
    assert name not in run.failures, run.failures[name]


def test_no_call_was_denied(run: Run) -> None:
    assert run.denials == [], "\n".join(f"{d.caller}: {d.reason}" for d in run.denials)


def _listed(grant: NamedGrant, entry: tuple[str, str, str]) -> bool:
    function, action, resource = entry
    return (
        function in ("*", grant.function) and action == grant.action and fnmatchcase(grant.resource, resource)
    )


def test_every_grant_is_used_or_listed_with_its_reason(run: Run) -> None:
    assert run.report is not None
    idle = sorted(g for g in run.report.unused if not any(_listed(g, e) for e in UNUSED_LOCALLY))
    listing = "\n".join(str(g) for g in idle)
    assert not idle, (
        f"grants no path used (narrow them, or give the reason in infra/permissions.py):\n{listing}"
    )
    stale = [e for e in UNUSED_LOCALLY if not any(_listed(g, e) for g in run.report.granted)]
    assert not stale, f"infra/permissions.py lists grants no role holds: {stale}"
