"""`python -m local.demo` (`make demo`): the whole flow on this machine, in well under two minutes.

It starts the embedded system (the CDK stack deployed into moto with every Lambda handler in process, the
HTTP API, the media server and the TikTok sandbox), connects a sandbox creator through the real OAuth
redirects, drops a photo set (a manifest and three JPEGs), a 120 fps clip TikTok would refuse (repaired
into a 60 fps copy: local/demo_repair.py) and a real H.264 video into the bucket, and follows the posts: a
progress bar for the video's chunks, then every status change. It ends by printing each final post record
as one JSON line on stdout (the photo post first, the video post last) and exits 0 only when all were
published and TikTok received exactly the bytes of the files (of the repaired copy, for the clip), and the
public video's link and first snapshot of its numbers came (local/demo_links.py).

Progress goes to stderr; the functions' own logs go to a log file (`--verbose`: to stderr).
Ctrl-C (or SIGTERM) stops everything cleanly and exits 130.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, TypeVar

import requests
from botocore.exceptions import BotoCoreError, ClientError
from PIL import Image, ImageDraw

from functions.post_status import TERMINAL
from functions.settings import Env
from functions.store.posts import PostStore
from local import demo_links, demo_repair
from local.embedded import EmbeddedSystem
from local.media import video_of_size
from local.offline import offline_aws_environment
from local.progress import MIB, Progress, mib
from local.signals import handling, uninterruptible

INTERRUPTED = 130
DEFAULT_LOG = Path(tempfile.gettempdir()) / "tiktok-publisher-demo.log"


class DemoError(Exception):
    """The demo cannot go on; the message says why."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.demo",
        description="Connect a sandbox creator, post a photo set and a video through the whole local "
        "system, and follow them to PUBLISH_COMPLETE.",
    )
    parser.add_argument("--creator", default="sandbox_public", help="sandbox creator to log in as")
    parser.add_argument("--account", default="demo", help="account id (alias) to connect it as")
    parser.add_argument(
        "--video-mib", type=float, default=16.0, help="size of the generated video in MiB (default 16)"
    )
    parser.add_argument(
        "--chunk-mib", type=int, default=5, help="upload chunk size in MiB (UPLOAD_CHUNK_BYTES, default 5)"
    )
    parser.add_argument(
        "--chunk-delay",
        type=float,
        default=0.6,
        help="seconds the sandbox holds each chunk's answer, as a slow network would, so that the "
        "chunks can be watched (default 0.6; 0 for loopback speed)",
    )
    parser.add_argument(
        "--timeout", type=float, default=90.0, help="seconds to wait for the posts (default 90)"
    )
    parser.add_argument(
        "--cdk-out", type=Path, help="reuse this synthesized cloud assembly (default: synthesize afresh)"
    )
    parser.add_argument(
        "--log-file", type=Path, default=DEFAULT_LOG, help=f"the functions' logs (default {DEFAULT_LOG})"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="the functions' logs to stderr instead of the log file"
    )
    return parser


# ------------------------------------------------------------------------------------------ plumbing


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _functions_output(log_file: Path, verbose: bool) -> Iterator[None]:
    """The handlers log (Powertools) and print metrics to stdout, which is the demo's result channel:
    while the system runs, stdout goes to the log file (or stderr), as do Python warnings and logging."""
    root = logging.getLogger()
    previous_level = root.level
    with contextlib.ExitStack() as stack:
        sink: TextIO
        if verbose:
            sink = sys.stderr
        else:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            sink = stack.enter_context(log_file.open("w", encoding="utf-8"))
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
        logging.captureWarnings(True)
        stack.enter_context(contextlib.redirect_stdout(sink))
        try:
            yield
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)
            root.setLevel(previous_level)


_READ_ATTEMPTS = 5
_T = TypeVar("_T")


class PostsWatch:
    """The posts table read through PostStore with the in-process client, for watching: the API's handler
    cannot answer while another handler runs (the embedded runtime runs one handler at a time), so
    `GET /posts/<id>` stalls for the whole upload. The final records come from the API."""

    def __init__(self, system: EmbeddedSystem) -> None:
        client = system.rt.in_process_client("dynamodb")
        self._posts = PostStore(system.rt.function_env("api")[Env.POSTS_TABLE], client=client)

    @staticmethod
    def _read(call: Callable[[], _T]) -> _T:
        # moto's in-process tables are not thread-safe: a read racing a handler's write may find a
        # dictionary changing under it. Reading again a moment later sees the write done.
        for _ in range(_READ_ATTEMPTS - 1):
            try:
                return call()
            except RuntimeError:
                time.sleep(0.01)
        return call()

    def get(self, post_id: str) -> dict[str, Any] | None:
        return self._read(lambda: self._posts.get(post_id))

    def find(self, account_id: str, origin_key: str) -> str | None:
        """The id of the post made from `origin_key`, once it exists."""
        for post in self._read(lambda: self._posts.list_by_account(account_id, limit=100)):
            if post.get("media", {}).get("origin_key") == origin_key:
                return str(post["post_id"])
        return None


# ------------------------------------------------------------------------------------------ the flow


@dataclass
class Watched:
    label: str
    origin_key: str
    files: list[bytes]
    post_id: str | None = None
    history_seen: int = 0
    uploading: bool = False
    post: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.post.get("status") in TERMINAL


def _photo(index: int, count: int) -> bytes:
    colours = [(254, 44, 85), (37, 244, 238), (250, 200, 40)]
    image = Image.new("RGB", (1080, 1920), colours[index % len(colours)])
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 760, 1000, 1160), fill=(22, 24, 35))
    draw.text((120, 900), f"make demo - photo {index + 1} of {count}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _connect(system: EmbeddedSystem, progress: Progress, creator: str, account: str) -> None:
    progress.say(
        f"connecting @{creator} as '{account}': GET /connect -> TikTok consent form -> /oauth/callback"
    )
    answer = system.connect(creator, alias=account)
    if answer.status_code != 200 or "Connected" not in answer.text:
        raise DemoError(f"connecting failed: HTTP {answer.status_code}: {answer.text[:300]}")
    view = system.api_get(f"/accounts/{account}")
    progress.say(
        f"connected: {view['display_name']} (@{view['username']}) is account '{view['account_id']}', "
        f"{view['status']}, scopes {', '.join(view['scopes'])}"
    )


def _drop_photos(system: EmbeddedSystem, progress: Progress, account: str) -> tuple[str, list[bytes]]:
    images = [_photo(i, 3) for i in range(3)]
    names = [f"media/demo-set/{i + 1}.jpg" for i in range(3)]
    for name, image in zip(names, images, strict=True):
        system.put_object(f"posts/{account}/{name}", image, "image/jpeg")
    manifest = {
        "photos": names,
        "mode": "direct",
        "privacy_level": "SELF_ONLY",
        "title": "make demo",
        "description": "three photos TikTok pulls from the media domain #sandbox",
        "cover_index": 0,
    }
    key = f"posts/{account}/demo-photos.json"
    system.put_object(key, json.dumps(manifest).encode(), "application/json")
    sizes = ", ".join(f"{len(i) // 1024} KiB" for i in images)
    progress.say(f"photo set: 3 JPEGs ({sizes}) under posts/{account}/media/demo-set/, manifest {key}")
    return key, images


def _drop_video(
    system: EmbeddedSystem, progress: Progress, account: str, size: int, chunk_delay: float
) -> tuple[str, bytes]:
    preferences = {"mode": "direct", "privacy_level": demo_links.PRIVACY, "caption": "make demo #sandbox"}
    answer = requests.put(f"{system.api_url}/accounts/{account}/preferences", json=preferences, timeout=30)
    if answer.status_code != 200:
        raise DemoError(f"saving preferences failed: HTTP {answer.status_code}: {answer.text[:300]}")
    progress.say(
        f"preferences for bare videos saved: PUT /accounts/{account}/preferences {json.dumps(preferences)}"
    )
    if chunk_delay > 0:
        system.sandbox_control("faults", {"slow_seconds": {"/upload/": chunk_delay}})
    clip = video_of_size(size, label="make demo")
    key = f"posts/{account}/demo.mp4"
    system.put_object(key, clip, "video/mp4")
    progress.say(
        f"video: {mib(len(clip))} H.264 MP4 (sha256 {hashlib.sha256(clip).hexdigest()[:16]}...) as bare "
        f"video {key}"
    )
    return key, clip


def _upload_bar(progress: Progress, w: Watched, label: str) -> None:
    """The video's chunks as TikTok acknowledged them (`upload.offset` of `upload.total`)."""
    upload = w.post.get("upload")
    if not isinstance(upload, dict) or not upload.get("total"):
        return
    total, chunks = int(upload["total"]), int(upload.get("chunks") or 1)
    if upload.get("complete"):
        progress.bar(label, total, total, f"{chunks} chunks acknowledged")
        return
    done = int(upload.get("offset", 0))
    sending = min(done // max(int(upload.get("chunk_size") or 1), 1) + 1, chunks)
    progress.bar(label, done, total, f"sending chunk {sending} of {chunks}")


def _show(progress: Progress, w: Watched, width: int) -> None:
    """Every status change not shown yet, with the upload bar between UPLOADING and the next status."""
    label = f"{w.label:<{width}}"
    for entry in w.post.get("history", [])[w.history_seen :]:
        if w.uploading:
            _upload_bar(progress, w, f"{label}  upload")
            progress.end_bar()
            w.uploading = False
        note = f"  {entry['note']}" if entry.get("note") else ""
        progress.say(f"{label}  {entry['status']}{note}")
        w.history_seen += 1
        w.uploading = entry["status"] == "UPLOADING"
    if w.uploading:
        _upload_bar(progress, w, f"{label}  upload")


def _follow(
    system: EmbeddedSystem, progress: Progress, account: str, watched: list[Watched], timeout: float
) -> None:
    table = PostsWatch(system)
    deadline = time.monotonic() + timeout
    width = max(len(w.label) for w in watched)
    while not all(w.done for w in watched):
        if time.monotonic() > deadline:
            states = ", ".join(f"{w.label} {w.post.get('status', 'not created')}" for w in watched)
            raise DemoError(f"the posts did not finish within {timeout:.0f} s ({states})")
        for w in watched:
            if w.done:
                continue
            try:
                if w.post_id is None:
                    w.post_id = table.find(account, w.origin_key)
                post = table.get(w.post_id) if w.post_id is not None else None
            except (RuntimeError, BotoCoreError, ClientError) as exc:
                # moto's DynamoDB is not made for concurrent threads: a read racing a handler's write may
                # fail; the next poll reads again. Only the log hears of it.
                logging.getLogger(__name__).warning("reading the posts table: %s", exc)
                continue
            if post is not None:
                w.post = post
                _show(progress, w, width)
        time.sleep(0.05)


def _verify(system: EmbeddedSystem, progress: Progress, watched: Watched) -> bool:
    """Published, and TikTok holds exactly the bytes of the files."""
    post = watched.post
    if post.get("status") != "PUBLISH_COMPLETE":
        detail = f": {post['fail_reason']}: {post.get('fail_detail', '')}" if post.get("fail_reason") else ""
        progress.say(f"{watched.label}: {post.get('status', 'no post')}{detail}")
        return False
    if watched.label == demo_repair.LABEL:  # TikTok must hold the repaired copy, not the file dropped
        progress.say(demo_repair.what_changed(post))
        watched.files = [demo_repair.sent_copy(system, post)]
    received = system.sandbox_post(post["publish_id"])
    expected = [hashlib.sha256(f).hexdigest() for f in watched.files]
    if watched.label in ("video", demo_repair.LABEL):
        got, sizes = [received.get("sha256")], [received.get("bytes_received")]
    else:
        got = [f.get("sha256") for f in received.get("files", [])]
        sizes = [f.get("bytes") for f in received.get("files", [])]
    if got != expected or sizes != [len(f) for f in watched.files]:
        progress.say(
            f"{watched.label}: PUBLISH_COMPLETE, but TikTok holds other bytes: {sizes} bytes with sha256 "
            f"{got}; the files are {[len(f) for f in watched.files]} bytes with sha256 {expected}"
        )
        return False
    what = f"{sizes[0]} bytes" if len(sizes) == 1 else f"{len(sizes)} files ({sum(sizes)} bytes)"
    progress.say(
        f"{watched.label}: PUBLISH_COMPLETE; TikTok received {what}, sha256 identical to the local "
        f"{'file' if len(sizes) == 1 else 'files'} ({', '.join(d[:12] + '...' for d in expected)})"
    )
    return True


def run(system: EmbeddedSystem, progress: Progress, args: argparse.Namespace, watched: list[Watched]) -> bool:
    """The flow on a started system; `watched` receives the photo post, the repaired clip's, then the
    video post."""
    progress.say(
        f"stack up: HTTP API {system.api_url}, TikTok sandbox {system.sandbox_url}, bucket {system.rt.bucket}"
    )
    _connect(system, progress, args.creator, args.account)
    photo_key, images = _drop_photos(system, progress, args.account)
    watched.append(Watched("photos", photo_key, images))
    repair_key, original = demo_repair.drop_repair_clip(system, progress, args.account)
    watched.append(Watched(demo_repair.LABEL, repair_key, [original]))
    video_key, clip = _drop_video(system, progress, args.account, int(args.video_mib * MIB), args.chunk_delay)
    watched.append(Watched("video", video_key, [clip]))
    try:
        _follow(system, progress, args.account, watched, args.timeout)
    finally:
        progress.end_bar()
    verdicts = [_verify(system, progress, w) for w in watched]  # every post reported
    video = watched[-1]
    if video.post_id is not None and video.post.get("status") == "PUBLISH_COMPLETE":
        verdicts.append(demo_links.link_and_first_snapshot(system, progress, video.post_id))
    return all(verdicts) and _no_access_denied(system, progress)


def _no_access_denied(system: EmbeddedSystem, progress: Progress) -> bool:
    """Every function ran under its own role (local/runtime/iam/): a denied call would fail in AWS too."""
    iam = system.rt.iam
    if iam is None:
        return True
    for denial in iam.usage.denials:
        progress.say(f"IAM denied {denial.caller}: {denial.reason}")
    if not iam.usage.denials:
        progress.say(f"IAM: {len(iam.callers)} roles enforced, no call denied")
    return not iam.usage.denials


def _final_records(system: EmbeddedSystem, watched: list[Watched]) -> list[dict[str, Any]]:
    """Each post as the API returns it (GET /posts/<id>), in the order they were made."""
    records: list[dict[str, Any]] = []
    for w in watched:
        if w.post_id is not None:
            answer = requests.get(f"{system.api_url}/posts/{w.post_id}", timeout=30)
            if answer.status_code == 200:
                records.append(answer.json())
    return records


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    offline_aws_environment()
    out = sys.stdout
    progress = Progress(sys.stderr)
    env = {Env.APP_STATUS: "audited", Env.UPLOAD_CHUNK_BYTES: str(args.chunk_mib * MIB)}
    # Virtual time: the demo moves the clock an hour ahead to show the video's first snapshot.
    system = EmbeddedSystem(cdk_out=args.cdk_out, env=env, virtual_time=True)
    watched: list[Watched] = []
    records: list[dict[str, Any]] = []
    code = 1
    progress.plain(
        "make demo: the CDK stack in moto with every Lambda handler in process, its HTTP API, the media "
        "server and the TikTok sandbox, all on this machine"
    )
    progress.plain(f"  the functions' logs: {'stderr' if args.verbose else args.log_file}")
    # SIGTERM behaves as Ctrl-C. SIGINT is handled explicitly too: a process started in the background by a
    # non-interactive shell (nohup, `make ... &`, a CI runner) inherits it ignored.
    with (
        _functions_output(args.log_file, args.verbose),
        handling((signal.SIGINT, signal.SIGTERM), _interrupt),
    ):
        try:
            progress.say("starting: cdk synth, deploy into moto, HTTP API, media server, TikTok sandbox ...")
            system.start()
            ok = run(system, progress, args, watched)
            code = 0 if ok else 1
            records = _final_records(system, watched)
        except KeyboardInterrupt:
            progress.plain("")
            progress.say("interrupted: stopping")
            code, records = INTERRUPTED, []
        except (DemoError, requests.RequestException) as exc:
            progress.say(f"FAILED: {exc}")
            with contextlib.suppress(requests.RequestException, RuntimeError):
                records = _final_records(system, watched)
        finally:
            with uninterruptible():
                system.stop()
    for record in records:
        out.write(json.dumps(record, sort_keys=True) + "\n")
    out.flush()
    verdict = {0: "done", INTERRUPTED: "interrupted"}.get(code, "FAILED")
    progress.say(f"{verdict} (exit {code})")
    return code


if __name__ == "__main__":
    sys.exit(main())
