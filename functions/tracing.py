"""X-Ray patching of a library at its first use, by the data-access code that builds its clients.

The Tracer belongs to the handlers' Powertools wiring (functions/observability.py), which reads the
function's settings when it is first imported. Code below the handlers therefore never imports it: in
Lambda a handler has always wired it before any client is built; a process without a handler (a script,
the benchmarks, the local tools around the stores) has nothing to trace.
"""

from __future__ import annotations

import sys


def trace_calls(library: str) -> None:
    """Patch `library` ("botocore" or "requests") for X-Ray when a handler has wired tracing here."""
    observability = sys.modules.get("functions.observability")
    if observability is not None:
        observability.trace_calls(library)
