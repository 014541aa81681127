"""What people read: rich tables and lines on stdout, progress on stderr; `--json` prints the API's JSON
on stdout instead (progress and notes then stay on stderr, so scripts can read stdout alone)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from publisher_cli.follow import Change, PublicLink, ReviewLink, StatusChange, UploadProgress

MIB = 1024 * 1024
_PIPE_WIDTH = 160  # rich's 80 columns would cut post ids and notes in a pipe or a log


def local_time(epoch: object) -> str:
    """An epoch second in this machine's time zone, or a dash."""
    if not isinstance(epoch, int | float) or isinstance(epoch, bool):
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def window_text(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return "24 h" if (unit, count) == ("d", 1) else f"{count} {unit}"
    return f"{seconds} s"


def size_text(size: int) -> str:
    return f"{size / MIB:.1f} MiB" if size >= MIB / 10 else f"{size / 1024:.1f} KiB"


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    width = None if terminal or os.environ.get("COLUMNS") else _PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, width=width, soft_wrap=not terminal)


class Ui:
    def __init__(self, *, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        self.out = _console(stderr=False)
        self.err = _console(stderr=True)

    @property
    def notes(self) -> Console:
        """Where lines about what happens go: stdout, or stderr when stdout carries JSON."""
        return self.err if self.json_mode else self.out

    def say(self, text: str | Text) -> None:
        self.notes.print(text if isinstance(text, Text) else Text(text))

    def json(self, value: Any) -> None:
        sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def show(self, renderable: Any) -> None:
        self.out.print(renderable)

    @contextmanager
    def byte_progress(self, label: str, total: int) -> Iterator[Any]:
        """A bar of bytes on stderr when it is a terminal (elsewhere it would show only its end); yields
        `advance(n)`, safe to call from the transfer's threads."""
        if not self.err.is_terminal:
            yield lambda _sent: None
            return
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=False,
        )
        with progress:
            task: TaskID = progress.add_task(escape(label), total=total)
            yield lambda sent: progress.update(task, advance=sent)


# ------------------------------------------------------------------------------------------ tables


def accounts_table(accounts: list[dict[str, Any]]) -> Table:
    table = Table(title="Accounts", title_justify="left")
    for column in ("account", "creator", "status", "direct posts left", "note"):
        table.add_column(column, overflow="fold")
    for account in accounts:
        quota = account.get("quota") or {}
        left = quota.get("direct_posts_left")
        note = account.get("posting_paused") or account.get("status_reason") or ""
        if account.get("missing_scopes"):
            note = f"lacks {', '.join(account['missing_scopes'])}: connect again to add them; {note}".rstrip(
                "; "
            )
        table.add_row(
            Text(str(account.get("account_id"))),
            Text(f"{account.get('display_name') or ''} (@{account.get('username') or '?'})"),
            Text(str(account.get("status"))),
            Text(f"{left}/{account.get('daily_post_cap')}" if left is not None else "-"),
            Text(str(note)),
        )
    return table


def _post_summary(post: dict[str, Any]) -> str:
    settings = post.get("settings") or {}
    if post.get("status") == "FAILED" and post.get("fail_reason"):
        return f"{post['fail_reason']}: {post.get('fail_detail') or ''}".strip(": ")
    return str(
        settings.get("caption") or settings.get("title") or (post.get("media") or {}).get("origin_key") or ""
    )


def posts_table(posts: list[dict[str, Any]]) -> Table:
    table = Table(title="Posts", title_justify="left")
    table.add_column("post", no_wrap=True)
    for column in ("account", "kind", "status", "created"):
        table.add_column(column, no_wrap=True)
    table.add_column("caption / reason", overflow="fold")
    for post in posts:
        kind = f"{post.get('kind') or '?'} {post.get('mode') or ''}".strip()
        table.add_row(
            Text(str(post.get("post_id"))),
            Text(str(post.get("account_id"))),
            Text(kind),
            Text(str(post.get("status"))),
            Text(local_time(post.get("created_at"))),
            Text(_post_summary(post)),
        )
    return table


def post_details(post: dict[str, Any], links: list[str]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    settings = post.get("settings") or {}

    def row(name: str, value: object) -> None:
        if value not in (None, "", [], {}):
            grid.add_row(name, Text(str(value)))

    row("post", post.get("post_id"))
    row("account", post.get("account_id"))
    row("status", post.get("status"))
    row(
        "kind",
        " ".join(str(v) for v in (post.get("kind"), post.get("mode"), settings.get("privacy_level")) if v),
    )
    row("created", local_time(post.get("created_at")))
    row("updated", local_time(post.get("updated_at")))
    row("from", (post.get("media") or {}).get("origin_key") or post.get("source"))
    row("caption", settings.get("caption") or settings.get("title"))
    row("publish at", settings.get("publish_at"))
    upload = post.get("upload") or {}
    if upload.get("total"):
        state = "complete" if upload.get("complete") else f"{size_text(int(upload.get('offset') or 0))} sent"
        chunks = int(upload.get("chunks") or 1)
        row(
            "upload",
            f"{size_text(int(upload['total']))} in {chunks} chunk{'s' if chunks > 1 else ''}, {state}",
        )
    row("review", post.get("review_url"))
    row("publish id", post.get("publish_id"))
    for link in links:
        row("on TikTok", link)
    search = post.get("public_link") or {}
    if not links and search.get("state"):
        row("on TikTok", f"{search['state']}: {search.get('why') or ''}".rstrip(": "))
    if post.get("fail_reason"):
        row("failed", f"{post['fail_reason']}: {post.get('fail_detail') or ''}")
    history = post.get("history") or []
    if history:
        grid.add_row("history", "")
        for entry in history:
            grid.add_row(
                Text(local_time(entry.get("at")), style="dim"),
                Text(f"{entry.get('status')}  {entry.get('note') or ''}".rstrip()),
            )
    return grid


def quota_tables(report: dict[str, Any]) -> list[Table]:
    limits = Table(
        title=f"Limits of {report.get('account_id')} at {local_time(report.get('at'))}", title_justify="left"
    )
    for column in ("limit", "left", "window", "next free", "what"):
        limits.add_column(column, overflow="fold", no_wrap=column != "what")
    for limit in report.get("limits") or []:
        limits.add_row(
            Text(str(limit.get("name"))),
            Text(f"{limit.get('left')}/{limit.get('limit')}"),
            Text(window_text(int(limit.get("window_seconds") or 0))),
            Text(local_time(limit.get("next_free_at"))),
            Text(str(limit.get("what") or "")),
        )
    queued = Table(title="Waiting posts", title_justify="left")
    for column in ("post", "status", "expected", "why"):
        queued.add_column(column, overflow="fold", no_wrap=column != "why")
    for post in report.get("queued") or []:
        expected = post.get("expected_at")
        queued.add_row(
            Text(str(post.get("post_id"))),
            Text(str(post.get("status"))),
            Text(local_time(expected) if expected is not None else "-"),
            Text(str(post.get("why") or "")),
        )
    return [limits, queued] if report.get("queued") else [limits]


# ------------------------------------------------------------------------------------------ following


class FollowPrinter:
    """Shows a post's changes as they come: a line per status, the TikTok upload as a bar on a terminal
    (a line per chunk elsewhere), the review link, the public link."""

    def __init__(self, ui: Ui, label: str = "") -> None:
        self.ui = ui
        self.label = label
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, change: Change) -> None:
        if isinstance(change, UploadProgress):
            self._upload(change)
            return
        self.close()
        if isinstance(change, StatusChange):
            text = Text(f"{local_time(change.at)}  ", style="dim")
            text.append(change.status, style="bold")
            if change.note:
                text.append(f"  {change.note}")
            self.ui.say(text)
        elif isinstance(change, ReviewLink):
            self.ui.say(f"waiting for the creator's decision on the review page: {change.url}")
        elif isinstance(change, PublicLink):
            self.ui.say(f"on TikTok: {change.url}")

    def _upload(self, change: UploadProgress) -> None:
        if self.ui.err.is_terminal:
            if self._bar is None:
                self._bar = Progress(
                    TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=True),
                    TextColumn("{task.fields[chunk]}"), console=self.ui.err,
                )  # fmt: skip
                self._bar.start()
                self._task = self._bar.add_task("to TikTok", total=change.total, chunk="")
            if self._task is not None:
                chunk = "done" if change.complete else f"chunk {change.sending_chunk} of {change.chunks}"
                self._bar.update(self._task, completed=change.sent, chunk=chunk)
            if change.complete:
                self.close()
            return
        percent = 100 * change.sent // max(change.total, 1)
        if change.complete:
            where = (
                "its one chunk acknowledged"
                if change.chunks == 1
                else f"all {change.chunks} chunks acknowledged"
            )
        else:
            where = f"sending chunk {change.sending_chunk} of {change.chunks}"
        self.ui.say(
            f"to TikTok: {percent:3d}%  {size_text(change.sent)} of {size_text(change.total)}, {where}"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = self._task = None
