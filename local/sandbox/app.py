"""The sandbox without its HTTP front: configuration, clock, model, workers, webhooks."""

from __future__ import annotations

import contextlib
import copy
import logging
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from local.sandbox.clock import SandboxClock, Scheduler
from local.sandbox.config import SandboxConfig
from local.sandbox.creators import Creator
from local.sandbox.faults import FaultInjector
from local.sandbox.state import SandboxState, clear_state
from local.sandbox.webhooks import WebhookDispatcher

log = logging.getLogger("local.sandbox")


class SandboxApp:
    def __init__(self, config: SandboxConfig, clock: SandboxClock | None = None) -> None:
        self.config = config
        self.clock = clock or SandboxClock()
        self.state = SandboxState()
        self.faults = FaultInjector(config.faults, config.seed)
        self.quirks = list(config.quirks)  # changed at run time by POST /_sandbox/quirks, until a reset
        self.base_url = ""
        self._owns_storage = config.storage_dir is None
        self.storage = Path(config.storage_dir or tempfile.mkdtemp(prefix="tiktok-sandbox-"))
        self.storage.mkdir(parents=True, exist_ok=True)
        # Pulls can run for minutes; they get their own pool so probes and webhooks never queue
        # behind them.
        self._workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sandbox-worker")
        self._pullers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-pull")
        self.scheduler = Scheduler(self.clock, self.submit)
        self.webhooks = WebhookDispatcher(config, self.clock, self.scheduler, self.faults, self.submit)
        self._load_creators()

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.webhooks.clear()
        self._workers.shutdown(wait=False, cancel_futures=True)
        self._pullers.shutdown(wait=False, cancel_futures=True)
        if self._owns_storage:
            shutil.rmtree(self.storage, ignore_errors=True)

    def submit(self, action: Callable[[], None]) -> None:
        self._run_in(self._workers, action)

    def submit_pull(self, action: Callable[[], None]) -> None:
        self._run_in(self._pullers, action)

    @staticmethod
    def _run_in(pool: ThreadPoolExecutor, action: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                action()
            except Exception:
                log.exception("sandbox background task failed")

        with contextlib.suppress(RuntimeError):  # the pool is shut down: the sandbox is stopping
            pool.submit(guarded)

    def reset(self) -> None:
        """Back to the state right after start: no tokens, posts, calls, deliveries; faults and
        creators as configured; the clock offset back to zero."""
        self.scheduler.clear()
        self.webhooks.clear()
        clear_state(self.state)
        self.faults.restart(copy.deepcopy(self.config.faults), self.config.seed)
        self.quirks = list(self.config.quirks)
        self.clock.reset()
        for item in self.storage.iterdir():
            if item.is_file():
                item.unlink(missing_ok=True)
        self._load_creators()

    def _load_creators(self) -> None:
        now = self.clock.now()
        with self.state.lock:
            for creator in self.config.creators:
                self.put_creator(copy.deepcopy(creator), now)

    def put_creator(self, creator: Creator, now: float) -> None:
        """Add or replace a creator; `posts_today` becomes Direct Posts made just now elsewhere."""
        with self.state.lock:
            clash = self.state.creator_by_open_id(creator.open_id)
            if clash is not None and clash.username != creator.username:
                raise ValueError(f"open_id {creator.open_id} already belongs to @{clash.username}")
            self.state.creators[creator.username] = creator
            self.state.direct_posts[creator.open_id] = [now] * creator.posts_today

    def post_cap(self, creator: Creator) -> int:
        return self.config.posts_per_day if creator.post_cap is None else creator.post_cap

    def quirk(self, name: str) -> bool:
        """Whether the reported behaviour `name` (quirks.py) is switched on."""
        return name in self.quirks

    def scaled(self, seconds: float) -> float:
        return seconds / self.config.time_scale
