"""Signal handlers set for the length of a block, for the two command-line entry points (demo, serve)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

Handler = Callable[[int, Any], Any] | int


@contextlib.contextmanager
def handling(signals: tuple[signal.Signals, ...], handler: Handler) -> Iterator[None]:
    """`handler` for `signals` inside the block, the previous ones restored after it. Only the main thread
    may set handlers: elsewhere (a test calling `main` from a thread) they are left as they are."""
    try:
        previous = {s: signal.signal(s, handler) for s in signals}
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def uninterruptible() -> contextlib.AbstractContextManager[None]:
    """Ctrl-C and SIGTERM ignored: a second one must not leave servers half stopped."""
    return handling((signal.SIGINT, signal.SIGTERM), signal.SIG_IGN)
