"""`python -m local.serve` (`make local`): the whole system on this machine until Ctrl-C or SIGTERM.

The CDK stack deployed into moto with every Lambda handler in process, served as AWS APIs on one endpoint
(moto's server: S3, DynamoDB, SQS, Step Functions... for `aws --endpoint-url` and boto3), the HTTP API,
the media server (what CloudFront serves) and the TikTok sandbox. It prints the endpoints and example
commands on stdout, then the functions' logs go to stderr.

While it runs, the endpoint file (`.local/endpoints.json`, or `--endpoints-file`) describes the stack for
the command line (`tiktok-publisher --local`): the HTTP API, the AWS endpoint and its credentials, the
region, the bucket and the stack's outputs. It is removed when the stack stops.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from functions.settings import Env
from local.embedded import CLIENT_KEY, CLIENT_SECRET, EmbeddedSystem
from local.offline import offline_aws_environment
from local.sandbox.quirks import QUIRKS, check_quirks
from local.signals import handling, uninterruptible

MIB = 1024 * 1024
READY = "Serving until Ctrl-C or SIGTERM."
ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS_FILE = ROOT / ".local" / "endpoints.json"
ENDPOINTS_FORMAT = 1  # publisher_cli/endpoints.py reads this format
# moto takes any credentials: these fixed ones are no secret.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # nosec B105


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.serve",
        description="Run the whole tiktok-publisher stack locally (moto, HTTP API, media server, TikTok "
        "sandbox) until Ctrl-C or SIGTERM. Port 0 picks a free port.",
    )
    parser.add_argument("--api-port", type=int, default=8000, help="HTTP API (default 8000)")
    parser.add_argument("--sandbox-port", type=int, default=8001, help="TikTok sandbox (default 8001)")
    parser.add_argument("--media-port", type=int, default=8002, help="media server, the CDN (default 8002)")
    parser.add_argument(
        "--aws-port", type=int, default=5000, help="AWS endpoint: moto's server (default 5000)"
    )
    parser.add_argument(
        "--unaudited", action="store_true", help="run as an unaudited TikTok app (APP_STATUS=unaudited)"
    )
    parser.add_argument(
        "--chunk-mib", type=int, default=0, help="upload chunk size in MiB (default: the stack's own)"
    )
    parser.add_argument(
        "--account", default="me", help="account id (alias) used in the connect link and examples"
    )
    parser.add_argument(
        "--cdk-out", type=Path, help="reuse this synthesized cloud assembly (default: synthesize afresh)"
    )
    parser.add_argument(
        "--tiktok-url",
        help="talk to this TikTok-compatible endpoint (another emulator, a recording proxy) instead of "
        "starting the built-in sandbox",
    )
    parser.add_argument("--client-key", default=CLIENT_KEY, help="the TikTok app's client key the stack uses")
    parser.add_argument("--client-secret", default=CLIENT_SECRET, help="the TikTok app's client secret")
    parser.add_argument(
        "--endpoints-file",
        type=Path,
        default=ENDPOINTS_FILE,
        help=f"where to describe the running stack for `tiktok-publisher --local` (default {ENDPOINTS_FILE})",
    )
    parser.add_argument(
        "--quirks",
        default="",
        help=f"comma-separated TikTok field behaviours for the built-in sandbox: {', '.join(QUIRKS)}",
    )
    return parser


def _stop_signal(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def start(system: EmbeddedSystem, aws_port: int) -> None:
    """EmbeddedSystem.start with moto's server on `aws_port`."""
    system.aws_port = aws_port
    system.start()


def _table_label(logical_id: str) -> str:
    """`TablesPosts0238BDBA` -> `posts table`."""
    name = re.sub(r"[0-9A-F]{8}$", "", logical_id).removeprefix("Tables")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower() + " table"


def endpoints(system: EmbeddedSystem) -> dict[str, Any]:
    """What the endpoint file says: where each part of the running stack answers."""
    rt = system.rt
    if system.media is None or rt.endpoint_url is None:
        raise RuntimeError("the system is not running in server mode")
    return {
        "format": ENDPOINTS_FORMAT,
        "pid": os.getpid(),
        "stack_name": rt.stack_name,
        "region": rt.region,
        "api_url": system.api_url,
        "connect_url": f"{system.api_url}/connect",
        "aws_endpoint_url": rt.endpoint_url,
        "credentials": LOCAL_CREDENTIALS,
        "bucket": rt.bucket,
        "media_base_url": system.media.base_url,
        "tiktok_url": system.sandbox_url,
        "outputs": rt.outputs,
    }


def _written_by_another_stack(path: Path) -> bool:
    """The file describes another local stack that still runs (a second `make local` on other ports)."""
    try:
        pid = json.loads(path.read_text(encoding="utf-8")).get("pid")
    except (OSError, ValueError, AttributeError):
        return False
    if not isinstance(pid, int) or pid == os.getpid() or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_endpoints(path: Path, content: dict[str, Any]) -> bool:
    """Write the endpoint file (whole, by a rename); False when another running stack owns it."""
    if _written_by_another_stack(path):
        print(f"{path} describes another running local stack: left as it is", file=sys.stderr)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return True


def remove_endpoints(path: Path) -> None:
    """Remove the endpoint file if it still describes this process's stack."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


def banner(system: EmbeddedSystem, account: str, endpoints_file: Path | None = None) -> str:
    rt = system.rt
    if system.media is None or rt.endpoint_url is None:
        raise RuntimeError("the system is not running in server mode")
    aws, api, bucket = rt.endpoint_url, system.api_url, rt.bucket
    tables = rt.physical_ids_of("AWS::DynamoDB::Table")
    env = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=" + rt.region
    lines = [
        "tiktok-publisher, running locally",
        "",
        f"  HTTP API        {api}",
        f"  connect link    {api}/connect?alias={account}",
        f"  TikTok          {system.sandbox_url}" + ("" if system.sandbox else " (external)"),
        f"  TikTok app      client key {system.client_key}, client secret {system.client_secret}",
        f"  media (CDN)     {system.media.base_url}",
        f"  AWS endpoint    {aws}",
        f"  bucket          {bucket}",
        f"  state machine   {rt.state_machine_arn}",
        *(f"  {_table_label(lid):<16}{name}" for lid, name in sorted(tables.items())),
        f"  credentials     {env}",
        *([f"  endpoint file   {endpoints_file}"] if endpoints_file is not None else []),
        "  IAM             enforced: each function calls AWS as its own role; a denied call is logged",
        "",
        "Connect a sandbox creator: open the connect link in a browser, pick a creator, Authorize.",
        "Then post (a bare video needs the account's preferences; a manifest carries its own settings):",
        "",
        f"  export {env}",
        f"  curl -X PUT {api}/accounts/{account}/preferences -H 'Content-Type: application/json' \\",
        """       -d '{"mode": "direct", "privacy_level": "SELF_ONLY", "caption": "from make local"}'""",
        "  .venv/bin/python -c \"from local.media import video; open('video.mp4', 'wb').write(video())\"",
        f"  aws --endpoint-url {aws} s3 cp video.mp4 s3://{bucket}/posts/{account}/",
        f"  curl '{api}/posts?account={account}'",
        f"  aws --endpoint-url {aws} dynamodb scan --table-name <table>",
        *(
            [f"  curl {system.sandbox_url}/_sandbox/posts   # what TikTok received (docs/sandbox.md)"]
            if system.sandbox
            else []
        ),
        *(_cli_example(account, endpoints_file) if endpoints_file is not None else []),
        "",
        READY,
    ]
    return "\n".join(lines)


def _cli_example(account: str, endpoints_file: Path) -> list[str]:
    cli = ".venv/bin/tiktok-publisher " + (
        "--local" if endpoints_file == ENDPOINTS_FILE else f"--endpoints-file {endpoints_file}"
    )
    return [
        "",
        "Or with the command line (docs/cli.md), which reads the endpoint file:",
        "",
        f"  {cli} connect {account}",
        f"  {cli} post video.mp4 --account {account} --privacy SELF_ONLY --caption 'from make local'",
    ]


def busy_ports(args: argparse.Namespace) -> list[str]:
    """The flags whose port cannot be bound on 127.0.0.1 (checked first: moto's server would wait forever
    for a port it cannot bind)."""
    busy: list[str] = []
    for flag in ("api_port", "sandbox_port", "media_port", "aws_port"):
        port = int(getattr(args, flag))
        if port == 0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                busy.append(f"--{flag.replace('_', '-')} {port}")
    return busy


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    offline_aws_environment()
    out = stdout if stdout is not None else sys.stdout
    env = {Env.APP_STATUS: "unaudited" if args.unaudited else "audited"}
    if args.chunk_mib:
        env[Env.UPLOAD_CHUNK_BYTES] = str(args.chunk_mib * MIB)
    busy = busy_ports(args)
    if busy:
        print(f"port in use: {', '.join(busy)}; choose another (0: a free one)", file=sys.stderr)
        return 2
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server: no line per request
    try:
        quirks = check_quirks(q.strip() for q in args.quirks.split(",") if q.strip())
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    system = EmbeddedSystem(
        cdk_out=args.cdk_out,
        env=env,
        server=True,
        api_port=args.api_port,
        sandbox_port=args.sandbox_port,
        media_port=args.media_port,
        tiktok_url=args.tiktok_url,
        client_key=args.client_key,
        client_secret=args.client_secret,
        sandbox_config={"quirks": quirks} if quirks else {},
    )
    print(
        "starting: cdk synth, deploy into moto, HTTP API, media server, TikTok sandbox ...", file=sys.stderr
    )
    with handling((signal.SIGINT, signal.SIGTERM), _stop_signal):  # both stop the system
        try:
            # The functions log and print metrics to stdout: they go to stderr, stdout keeps the banner.
            with contextlib.redirect_stdout(sys.stderr):
                start(system, args.aws_port)
                written = write_endpoints(args.endpoints_file, endpoints(system))
                shown = args.endpoints_file if written else None
                out.write(banner(system, args.account, shown) + "\n")
                out.flush()
                while True:  # until a signal; a timed sleep lets the main thread run the handler even
                    time.sleep(0.5)  # when the signal was delivered to another thread
        except KeyboardInterrupt:
            print("stopping", file=sys.stderr)
        finally:
            with uninterruptible():
                remove_endpoints(args.endpoints_file)  # first: no command line reaches a stopping stack
                system.stop()
    print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
