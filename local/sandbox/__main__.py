"""`python -m local.sandbox`: run the TikTok sandbox until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from local.sandbox.config import SandboxConfig, load_config
from local.sandbox.quirks import QUIRKS
from local.sandbox.server import SandboxServer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.sandbox",
        description="A local TikTok (Login Kit + Content Posting API) for demos and integration tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--config", metavar="FILE", help="JSON file with any SandboxConfig fields")
    parser.add_argument("--client-key", help="the app's client key")
    parser.add_argument("--client-secret", help="the app's client secret (also signs webhooks)")
    parser.add_argument(
        "--redirect-uri", action="append", default=[], help="registered redirect URI (repeatable)"
    )
    parser.add_argument(
        "--webhook-url", action="append", default=[], help="webhook callback URL (repeatable)"
    )
    parser.add_argument(
        "--verified-prefix",
        action="append",
        default=[],
        help="verified URL prefix (scheme://host/path/) or domain for PULL_FROM_URL (repeatable)",
    )
    parser.add_argument("--time-scale", type=float, help="divide processing/moderation/retry delays by this")
    audit = parser.add_mutually_exclusive_group()
    audit.add_argument(
        "--audited", dest="audited", action="store_true", default=None, help="audited client rules"
    )
    audit.add_argument("--unaudited", dest="audited", action="store_false", help="unaudited client rules")
    parser.add_argument("--access-ttl", type=int, help="access token lifetime in seconds (default 7200)")
    parser.add_argument(
        "--refresh-ttl", type=int, help="refresh token lifetime in seconds (default 180 days)"
    )
    parser.add_argument("--posts-per-day", type=int, help="Direct Posts per creator per 24 h (default 15)")
    parser.add_argument("--storage-dir", help="keep received media here instead of a temporary directory")
    parser.add_argument("--seed", type=int, help="seed for injected random faults")
    parser.add_argument(
        "--quirks",
        metavar="NAMES",
        help=f"comma-separated behaviours reported from the field: {', '.join(QUIRKS)} (docs/sandbox.md)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    config = load_config(args.config) if args.config else SandboxConfig()
    overrides: dict[str, object] = {}
    for flag, name in (
        ("client_key", "client_key"),
        ("client_secret", "client_secret"),
        ("time_scale", "time_scale"),
        ("audited", "audited"),
        ("access_ttl", "access_token_ttl"),
        ("refresh_ttl", "refresh_token_ttl"),
        ("posts_per_day", "posts_per_day"),
        ("storage_dir", "storage_dir"),
        ("seed", "seed"),
    ):
        value = getattr(args, flag)
        if value is not None:
            overrides[name] = value
    # Repeatable flags add to what the config file lists.
    for flag, name in (
        ("redirect_uri", "redirect_uris"),
        ("webhook_url", "webhook_urls"),
        ("verified_prefix", "verified_prefixes"),
    ):
        values: list[str] = getattr(args, flag)
        if values:
            overrides[name] = [*getattr(config, name), *values]
    if args.quirks:
        overrides["quirks"] = [*config.quirks, *(q.strip() for q in args.quirks.split(",") if q.strip())]
    for name, value in overrides.items():
        setattr(config, name, value)
    config.validate()
    return config


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    server = SandboxServer(config, host=args.host, port=args.port)
    try:
        server.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(server.base_url, flush=True)
    print(f"TikTok sandbox listening on {server.base_url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
