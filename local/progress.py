"""Progress for people: timestamped lines and a byte progress bar on a terminal (stderr by default).

On a terminal the bar is redrawn in place and a line printed meanwhile clears it first; anywhere else
(a pipe, a CI log) every bar update is a line of its own, printed only when the numbers change.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

MIB = 1024 * 1024


def mib(size: float) -> str:
    return f"{size / MIB:.1f} MiB"


class Progress:
    def __init__(self, stream: TextIO | None = None, *, width: int = 28) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._bar_shown = False
        self._last_bar = ""
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        encoding = (getattr(self.stream, "encoding", None) or "").lower().replace("-", "")
        self._full, self._empty = ("█", "░") if encoding.startswith("utf") else ("#", ".")

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _stamp(self) -> str:
        return f"[{self.elapsed():6.1f}s]"

    def say(self, message: str) -> None:
        """One line, stamped with the seconds since the start."""
        with self._lock:
            self._clear_bar()
            self.stream.write(f"{self._stamp()} {message}\n")
            self.stream.flush()

    def plain(self, message: str) -> None:
        with self._lock:
            self._clear_bar()
            self.stream.write(f"{message}\n")
            self.stream.flush()

    def bar(self, label: str, done: int, total: int, detail: str = "") -> None:
        """A progress bar for `done` of `total` bytes."""
        total = max(total, 1)
        filled = min(self.width, self.width * done // total)
        text = (
            f"{label} [{self._full * filled}{self._empty * (self.width - filled)}] "
            f"{100 * done // total:3d}%  {mib(done)} / {mib(total)}"
        )
        if detail:
            text += f"  {detail}"
        with self._lock:
            if text == self._last_bar:
                return
            self._last_bar = text
            if self.tty:
                self.stream.write(f"\r\x1b[2K{self._stamp()} {text}")
                self._bar_shown = True
            else:
                self.stream.write(f"{self._stamp()} {text}\n")
            self.stream.flush()

    def end_bar(self) -> None:
        """Leave the bar as it is on its own line."""
        with self._lock:
            if self._bar_shown:
                self.stream.write("\n")
                self.stream.flush()
                self._bar_shown = False
            self._last_bar = ""

    def _clear_bar(self) -> None:
        if self._bar_shown:
            self.stream.write("\r\x1b[2K")
            self._bar_shown = False
            self._last_bar = ""
