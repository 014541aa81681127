"""`tiktok-publisher`: connect TikTok accounts, post, and follow and manage posts of a tiktok-publisher
stack, deployed (`--stack`, found through CloudFormation) or local (`--local`, the stack of `make local`).

Every command prints for people (rich tables and lines) or, with `--json`, the API's JSON for scripts.
A failure is one line on stderr (`error: ...`) and a non-zero exit status: 2 for bad usage or input (then
nothing was uploaded or changed), 1 for a failed post or an API or AWS error, 130 after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
import webbrowser
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import requests
import typer
from botocore.exceptions import BotoCoreError, ClientError

from publisher_cli.api_client import ApiClient, ApiError
from publisher_cli.endpoints import STACK_NAME, Stack, deployed_stack, local_stack
from publisher_cli.errors import EXIT_INTERRUPTED, BadInput, CliError, describe_aws_error
from publisher_cli.follow import Follower, outcome, public_links
from publisher_cli.post_input import (
    PostOptions,
    Status,
    check_account_id,
    check_files,
    parse_at,
    parse_privacy,
    parse_status,
)
from publisher_cli.render import (
    FollowPrinter,
    Ui,
    accounts_table,
    post_details,
    posts_table,
    quota_tables,
    size_text,
)
from publisher_cli.upload import MediaUploader, Resumed, ResumeStore, media_key, safe_name

PROG = "tiktok-publisher"
CONNECT_POLL_SECONDS = 1.0

app = typer.Typer(
    name=PROG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class Target:
    """The stack the command talks to, found on first use (so that --help needs no AWS)."""

    local: bool = False
    endpoints_file: Path | None = None
    stack_name: str = STACK_NAME
    region: str | None = None
    profile: str | None = None
    json: bool = False
    _stack: Stack | None = field(default=None, repr=False)
    _api: ApiClient | None = field(default=None, repr=False)

    def stack(self) -> Stack:
        if self._stack is None:
            if self.local or self.endpoints_file is not None:
                self._stack = local_stack(self.endpoints_file)
            else:
                self._stack = deployed_stack(self.stack_name, region=self.region, profile=self.profile)
        return self._stack

    def api(self) -> ApiClient:
        if self._api is None:
            self._api = ApiClient(self.stack())
        return self._api

    def ui(self, json_flag: bool) -> Ui:
        return Ui(json_mode=json_flag or self.json)


def _target(ctx: typer.Context) -> Target:
    target = ctx.find_object(Target)
    return target if target is not None else Target()


def _version(value: bool) -> None:
    if value:
        print(f"{PROG} {metadata.version('tiktok-publisher')}")
        raise typer.Exit()


JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON (an object, or a list) instead, for scripts.")
]


@app.callback()
def main(
    ctx: typer.Context,
    local: Annotated[
        bool,
        typer.Option("--local", help="Talk to the stack of `make local` (its .local/endpoints.json)."),
    ] = False,
    endpoints_file: Annotated[
        Path | None,
        typer.Option(
            "--endpoints-file",
            envvar="TIKTOK_PUBLISHER_ENDPOINTS",
            help="The local stack's endpoint file (implies --local); default: .local/endpoints.json here "
            "or in a folder above.",
            show_default=False,
        ),
    ] = None,
    stack: Annotated[
        str,
        typer.Option("--stack", envvar="TIKTOK_PUBLISHER_STACK", help="The deployed CloudFormation stack."),
    ] = STACK_NAME,
    region: Annotated[
        str | None, typer.Option("--region", help="Its AWS region (default: your AWS configuration's).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="The AWS profile whose credentials sign the calls.")
    ] = None,
    json_output: JsonFlag = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Post to TikTok through your tiktok-publisher stack, and follow and manage its posts.

    The stack is the deployed one (--stack, found through CloudFormation; every call is signed with your
    AWS credentials), or the local one with --local.
    """
    ctx.obj = Target(
        local=local,
        endpoints_file=endpoints_file,
        stack_name=stack,
        region=region,
        profile=profile,
        json=json_output,
    )


# ------------------------------------------------------------------------------------------ accounts


def _account_or_none(api: ApiClient, account: str) -> dict[str, Any] | None:
    try:
        return dict(api.get(f"/accounts/{account}"))
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def _browser_available() -> bool:
    """Opening a link is worth trying only where a graphical browser can show it; elsewhere Python's
    webbrowser may start a text browser in this very terminal."""
    if os.environ.get("BROWSER") or sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _newly_connected(account: dict[str, Any] | None, before: dict[str, Any] | None) -> bool:
    if account is None or account.get("status") != "connected":
        return False
    if before is None or before.get("status") != "connected":
        return True
    return int(account.get("updated_at") or 0) > int(before.get("updated_at") or 0)  # connected again


@app.command()
def connect(
    ctx: typer.Context,
    alias: Annotated[str, typer.Argument(help="The account id to connect a TikTok account as.")],
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Only print the link; do not open a browser.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for the connection.")
    ] = 600,
    json_output: JsonFlag = False,
) -> None:
    """Print (and open) the link that connects a TikTok account as ALIAS, then wait until it is connected."""
    target = _target(ctx)
    ui = target.ui(json_output)
    check_account_id(alias, "ALIAS")
    api = target.api()
    before = _account_or_none(api, alias)
    link = f"{target.stack().connect_url}?{urlencode({'alias': alias})}"
    ui.say(f"Open this link, log in to TikTok and authorize, to connect the account as {alias!r}:")
    ui.say(f"  {link}")
    if not no_browser and _browser_available():
        with contextlib.suppress(webbrowser.Error):  # the link is printed: the user opens it
            webbrowser.open(link)
    ui.err.print("waiting for the connection (Ctrl-C to stop) ...", highlight=False)
    deadline = time.monotonic() + timeout
    while True:
        account = _account_or_none(api, alias)
        if _newly_connected(account, before) and account is not None:
            break
        if time.monotonic() > deadline:
            raise CliError(
                f"{alias!r} was not connected within {timeout:.0f} s; open the link again (a TikTok account "
                f"connected already keeps its first name: `{PROG} accounts` lists them)"
            )
        time.sleep(CONNECT_POLL_SECONDS)
    if ui.json_mode:
        ui.json(account)
        return
    ui.say(
        f"connected: {account.get('display_name')} (@{account.get('username')}) is account {alias!r}, "
        f"scopes {', '.join(account.get('scopes') or [])}"
    )


@app.command("accounts")
def list_accounts(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """List the connected accounts: who they are, their status, their direct posts left today."""
    target = _target(ctx)
    ui = target.ui(json_output)
    accounts = list(target.api().get("/accounts").get("accounts", []))
    if ui.json_mode:
        ui.json(accounts)
    elif accounts:
        ui.show(accounts_table(accounts))
    else:
        ui.say(f"No accounts yet: connect one with `{PROG} connect ALIAS`.")


@app.command()
def disconnect(
    ctx: typer.Context,
    alias: Annotated[str, typer.Argument(help="The account to disconnect.")],
    json_output: JsonFlag = False,
) -> None:
    """Disconnect an account: its tokens are revoked at TikTok and deleted; it posts nothing more."""
    target = _target(ctx)
    ui = target.ui(json_output)
    check_account_id(alias, "ALIAS")
    account = target.api().call("DELETE", f"/accounts/{alias}")[1]
    if ui.json_mode:
        ui.json(account)
    else:
        ui.say(f"disconnected {alias!r}: {account.get('status_reason') or account.get('status')}")


@app.command()
def quota(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="The account whose limits to show.")],
    json_output: JsonFlag = False,
) -> None:
    """Show an account's limits (left, next free slot) and when each waiting post is expected to go out."""
    target = _target(ctx)
    ui = target.ui(json_output)
    check_account_id(account, "ACCOUNT")
    report = target.api().get(f"/accounts/{account}/quota")
    if ui.json_mode:
        ui.json(report)
        return
    for table in quota_tables(report):
        ui.show(table)
    if not report.get("queued"):
        ui.say("No post is waiting.")


# ------------------------------------------------------------------------------------------ posting


def _check_account_can_post(api: ApiClient, account: str) -> None:
    found = _account_or_none(api, account)
    if found is None:
        raise BadInput(f"no account {account!r}: connect it first with `{PROG} connect {account}`")
    if found.get("status") != "connected":
        reason = f" ({found['status_reason']})" if found.get("status_reason") else ""
        raise BadInput(
            f"account {account!r} is {found.get('status')}{reason}: connect it again with "
            f"`{PROG} connect {account}`"
        )


def _upload_all(ui: Ui, stack: Stack, account: str, files: list[Path]) -> list[str]:
    """Each file to the account's media folder; their keys, relative to the manifest's folder."""
    uploader = MediaUploader(stack.s3(), stack.bucket, ResumeStore())
    names: list[str] = []
    for path in files:
        key = media_key(account, path)
        resumed: list[Resumed] = []
        with ui.byte_progress(path.name, path.stat().st_size) as advance:
            try:
                done = uploader.upload(path, key, sent=advance, resuming=resumed.append)
            except KeyboardInterrupt:
                raise CliError(
                    f"interrupted while uploading {path.name}: run the same command again to resume the upload",
                    exit_code=EXIT_INTERRUPTED,
                ) from None
        if done.already_there:
            how = "already in S3 from an earlier run"
        elif resumed:
            r = resumed[0]
            how = (
                f"resumed an interrupted upload: {r.parts_done} of {r.parts_total} parts "
                f"({size_text(r.bytes_done)}) were already in S3; uploaded the rest to"
            )
        else:
            how = "uploaded to"
        ui.say(f"{path.name} ({size_text(done.size)}): {how} s3://{stack.bucket}/{key}")
        names.append(key.removeprefix(f"posts/{account}/"))
    return names


def _manifest_key(account: str, first: Path, manifest: dict[str, Any]) -> str:
    """Named after what it posts: the same files (by fingerprint, in their keys) with the same settings name
    the same manifest, so running a command again follows the post it made instead of posting twice.
    `publish_at` stays out: `--at +1h` again is the same post, not a second one an hour later."""
    same = {k: v for k, v in manifest.items() if k != "publish_at"}
    digest = hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()[:16]
    return f"posts/{account}/{safe_name(first.stem)}-{digest}.json"


def _write_manifest(ui: Ui, stack: Stack, key: str, manifest: dict[str, Any]) -> str | None:
    """Write the manifest unless an earlier run wrote it; the version of the object that is the post."""
    s3 = stack.s3()
    try:
        earlier = s3.head_object(Bucket=stack.bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    else:
        ui.say(
            f"these files were posted with these settings by an earlier run (s3://{stack.bucket}/{key}): "
            "following that post; to post them again on purpose, add --client-token with any new text"
        )
        return earlier.get("VersionId")
    body = json.dumps(manifest, indent=2).encode()
    written = s3.put_object(Bucket=stack.bucket, Key=key, Body=body, ContentType="application/json")
    ui.say(f"manifest: s3://{stack.bucket}/{key}")
    return written.get("VersionId")


@app.command()
def post(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="One video (.mp4, .mov, .webm), or 1-35 photos (.jpg, .jpeg, .webp).")
    ],
    account: Annotated[
        str,
        typer.Option(
            "--account", "-a", envvar="TIKTOK_PUBLISHER_ACCOUNT", help="The connected account to post to."
        ),
    ],
    inbox: Annotated[
        bool,
        typer.Option(
            "--inbox", help="Send it to the creator's TikTok inbox as a draft (default: post directly)."
        ),
    ] = False,
    privacy: Annotated[
        str | None,
        typer.Option(
            "--privacy",
            help="Who may see it (direct posts): PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR "
            "or SELF_ONLY. Left out, the creator chooses on the review page.",
            show_default=False,
        ),
    ] = None,
    caption: Annotated[str | None, typer.Option("--caption", help="The video's caption.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="The photo post's title.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="The photo post's description.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Publish later: 2026-12-01T18:00 (local time), 2026-12-01T18:00:00Z, +30m, +2h, +1d."
        ),
    ] = None,
    cover_ms: Annotated[
        int | None,
        typer.Option("--cover-ms", min=0, help="The video frame (milliseconds in) used as its cover."),
    ] = None,
    cover_index: Annotated[
        int | None, typer.Option("--cover-index", min=0, help="The photo used as cover (0: the first).")
    ] = None,
    aigc: Annotated[bool, typer.Option("--aigc", help="Label it as AI-generated content.")] = False,
    allow_comment: Annotated[
        bool | None, typer.Option("--allow-comment/--no-allow-comment", help="Comments (default: off).")
    ] = None,
    allow_duet: Annotated[
        bool | None, typer.Option("--allow-duet/--no-allow-duet", help="Duets, videos only (default: off).")
    ] = None,
    allow_stitch: Annotated[
        bool | None,
        typer.Option("--allow-stitch/--no-allow-stitch", help="Stitches, videos only (default: off)."),
    ] = None,
    branded_content: Annotated[
        bool, typer.Option("--branded-content", help="Disclose a paid partnership (Branded content).")
    ] = False,
    brand_organic: Annotated[
        bool, typer.Option("--brand-organic", help="Disclose that it promotes your own brand (Your brand).")
    ] = False,
    auto_add_music: Annotated[
        bool, typer.Option("--auto-add-music", help="Let TikTok add music (photo posts).")
    ] = False,
    client_token: Annotated[
        str | None,
        typer.Option("--client-token", help="Post the same media again on purpose (any new text)."),
    ] = None,
    no_follow: Annotated[
        bool, typer.Option("--no-follow", help="Return once the post has started, with its id.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=1,
            help="Stop following after this many seconds (the post goes on).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Upload a video or photos, post them to ACCOUNT, and follow the post live to its end.

    Exit 0 once it is published (or in the creator's inbox, with --inbox); 1 with TikTok's or the stack's
    reason when it fails.
    """
    target = _target(ctx)
    ui = target.ui(json_output)
    kind = check_files(files)
    check_account_id(account)
    options = PostOptions(
        inbox=inbox,
        privacy=parse_privacy(privacy) if privacy is not None else None,
        caption=caption,
        title=title,
        description=description,
        publish_at=parse_at(at) if at is not None else None,
        cover_ms=cover_ms,
        cover_index=cover_index,
        aigc=aigc,
        allow_comment=allow_comment,
        allow_duet=allow_duet,
        allow_stitch=allow_stitch,
        branded_content=branded_content,
        brand_organic=brand_organic,
        auto_add_music=auto_add_music,
        client_token=client_token,
    )
    problems = options.problems(kind, len(files))
    if problems:
        raise BadInput("; ".join(problems))
    api = target.api()
    _check_account_can_post(api, account)

    stack = target.stack()
    media = _upload_all(ui, stack, account, files)
    manifest = options.manifest(kind, media)
    key = _manifest_key(account, files[0], manifest)
    version_id = _write_manifest(ui, stack, key, manifest)
    follower = Follower(api)
    found = follower.find(account, key, version_id)
    post_id = str(found["post_id"])
    if no_follow:
        if ui.json_mode:
            ui.json(found)
        else:
            ui.say(f"post {post_id} {found.get('status')}: follow it with `{PROG} show {post_id}`")
        return
    ui.say(f"post {post_id}: following it (Ctrl-C stops following; the post goes on)")
    printer = FollowPrinter(ui)
    try:
        final = follower.follow(found, printer, timeout=timeout)
    except KeyboardInterrupt:
        raise CliError(
            f"stopped following; post {post_id} goes on: `{PROG} show {post_id}`", exit_code=EXIT_INTERRUPTED
        ) from None
    finally:
        printer.close()
    result = outcome(final)
    if ui.json_mode:
        ui.json(final)
    if not result.succeeded:
        raise CliError(
            f"post {post_id} {'failed: ' if final.get('status') == 'FAILED' else ''}{result.summary}"
        )
    if not ui.json_mode:
        ui.say(f"{result.summary}: post {post_id}")


# ------------------------------------------------------------------------------------------ posts


@app.command("posts")
def list_posts(
    ctx: typer.Context,
    account: Annotated[
        str | None,
        typer.Option("--account", "-a", help="Only this account's posts (default: every account's)."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help=f"Only posts in this status: {', '.join(Status)}.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """List posts, newest first."""
    target = _target(ctx)
    ui = target.ui(json_output)
    wanted = parse_status(status) if status is not None else None
    if account is not None:
        check_account_id(account)
    api = target.api()
    if account is not None:
        accounts = [account]
    else:
        accounts = [str(a["account_id"]) for a in api.get("/accounts").get("accounts", [])]
    found: list[dict[str, Any]] = []
    for name in accounts:
        params = {"account": name, **({"status": wanted.value} if wanted is not None else {})}
        found += api.get("/posts", **params).get("posts", [])
    found.sort(key=lambda p: int(p.get("created_at") or 0), reverse=True)
    if ui.json_mode:
        ui.json(found)
    elif found:
        ui.show(posts_table(found))
    else:
        ui.say("No posts.")


@app.command()
def show(
    ctx: typer.Context,
    post_id: Annotated[str, typer.Argument(metavar="ID", help="The post's id.")],
    json_output: JsonFlag = False,
) -> None:
    """Show one post: its settings, its history, its upload, its links, why it failed."""
    target = _target(ctx)
    ui = target.ui(json_output)
    found = target.api().get(f"/posts/{post_id}")
    if ui.json_mode:
        ui.json(found)
    else:
        ui.show(post_details(found, public_links(found)))


@app.command()
def cancel(
    ctx: typer.Context,
    post_id: Annotated[str, typer.Argument(metavar="ID", help="The post's id.")],
    json_output: JsonFlag = False,
) -> None:
    """Cancel a post that has not reached TikTok yet (exit 1, with the reason, when it cannot be)."""
    target = _target(ctx)
    ui = target.ui(json_output)
    status, body = target.api().call("DELETE", f"/posts/{post_id}", accept=(200, 409))
    if ui.json_mode:
        ui.json(body)
    if status == 409:
        raise CliError(f"post {post_id} was not cancelled: {body.get('message')}")
    if not ui.json_mode:
        ui.say(f"cancelled post {post_id}")


# ------------------------------------------------------------------------------------------ entry point


def _one_line(message: str) -> str:
    return " ".join(message.split())


def main_entry(argv: Sequence[str] | None = None) -> int:
    """Run a command; the exit status. Every failure ends here as one line on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name=PROG, standalone_mode=False)
    except CliError as exc:
        message, code = exc.message, exc.exit_code
    except typer.TyperException as exc:  # bad usage, found while reading the command line
        if type(exc).__name__ == "NoArgsIsHelpError":
            return exc.exit_code  # the help is printed already
        context = getattr(exc, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        message, code = exc.format_message() + hint, exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        message, code = "interrupted", EXIT_INTERRUPTED
    except (BotoCoreError, ClientError) as exc:
        message, code = describe_aws_error(exc), 1
    except requests.RequestException as exc:
        message, code = f"HTTP: {exc}", 1
    except OSError as exc:
        message, code = str(exc), 1
    else:
        return result if isinstance(result, int) else 0
    sys.stdout.flush()
    sys.stderr.write(f"error: {_one_line(message)}\n")
    return code


def run() -> None:
    """The console script `tiktok-publisher`."""
    sys.exit(main_entry())
