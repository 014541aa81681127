"""`python -m local.serve` (`make local`): the whole system on this machine until Ctrl-C or SIGTERM.

The CDK stack deployed into moto with every Lambda handler in process, served as AWS APIs on one endpoint
(moto's server: S3, DynamoDB, SQS, Step Functions... for `aws --endpoint-url` and boto3), the HTTP API,
the media server (what CloudFront serves) and the TikTok sandbox. It prints the endpoints and example
commands on stdout, then the functions' logs go to stderr.

Time is real: a post scheduled ten minutes ahead goes out in ten minutes, the state machine's retries wait
their back-off and a failed queue message waits out its visibility timeout. `--fast-time` makes those
waits return at once, as the demo and the tests run. Start-up warnings that mean nothing to a user (the
synthesis's, Powertools' "No application metrics to publish") are shown only with `-v`.

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
import shlex
import shutil
import signal
import socket
import subprocess  # nosec B404 - synthesis in a child Python process
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from functions.settings import Env
from local.embedded import CLIENT_KEY, CLIENT_SECRET, EmbeddedSystem
from local.offline import offline_aws_environment
from local.sandbox.quirks import QUIRKS, check_quirks
from local.signals import handling, uninterruptible
from publisher_cli.endpoints import running

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
    parser.add_argument(
        "--fast-time",
        action="store_true",
        help="the state machine's waits (publish_at, a full quota) and retry back-offs return at once, and a "
        "failed queue message is retried at once (default: real time)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the start-up warnings (synthesis, Powertools) that are quiet by default",
    )
    return parser


def _stop_signal(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _table_label(logical_id: str) -> str:
    """`TablesPosts0238BDBA` -> `posts`, `TablesOAuthStateE6EDAB91` -> `oauth state`."""
    name = re.sub(r"[0-9A-F]{8}$", "", logical_id).removeprefix("Tables")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()


def _columns(rows: Sequence[tuple[str, str]], indent: str = "  ", min_width: int = 16) -> list[str]:
    """`label  value` lines, every value starting in the same column."""
    width = max(min_width, *(len(label) + 2 for label, _ in rows))
    return [f"{indent}{label:<{width}}{value}".rstrip() for label, value in rows]


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
    return running(pid)


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


TIME_NOTE = {
    False: "real: publish_at, quota waits, retry back-offs and queue visibility take as long as they say",
    True: "fast (--fast-time): the state machine's waits and retry back-offs return at once",
}


def banner(
    system: EmbeddedSystem, account: str, endpoints_file: Path | None = None, *, fast_time: bool = False
) -> str:
    rt = system.rt
    if system.media is None or rt.endpoint_url is None:
        raise RuntimeError("the system is not running in server mode")
    aws, api, bucket = rt.endpoint_url, system.api_url, rt.bucket
    tables = sorted(
        (_table_label(lid), name) for lid, name in rt.physical_ids_of("AWS::DynamoDB::Table").items()
    )
    env = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=" + rt.region
    table_lines = _columns(tables, indent="", min_width=0)
    rows = [
        ("HTTP API", api),
        ("connect link", f"{api}/connect?alias={account}"),
        ("webhook URL", f"{api}/webhooks/tiktok"),
        ("TikTok", system.sandbox_url + ("" if system.sandbox else " (external)")),
        ("client key", system.client_key),
        ("client secret", system.client_secret),
        ("media (CDN)", system.media.base_url),
        ("AWS endpoint", aws),
        ("credentials", env),
        ("bucket", bucket),
        ("state machine", rt.state_machine_arn),
        *((("tables" if i == 0 else ""), line) for i, line in enumerate(table_lines)),
        *([("endpoint file", str(endpoints_file))] if endpoints_file is not None else []),
        ("IAM", "enforced: each function calls AWS as its own role; a denied call is logged"),
        ("time", TIME_NOTE[fast_time]),
    ]
    lines = [
        "tiktok-publisher, running locally",
        "",
        *_columns(rows),
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
        *_webhook_example(api, system.client_key, system.client_secret),
        *(_cli_example(account, endpoints_file) if endpoints_file is not None else []),
        "",
        READY,
    ]
    return "\n".join(lines)


def _webhook_example(api: str, client_key: str, client_secret: str) -> list[str]:
    """A webhook signed by hand as TikTok signs it (functions/tiktok/signature.py), ready to paste."""
    content = json.dumps({"publish_id": "<publish_id>"})
    body = json.dumps(
        {
            "client_key": client_key,
            "event": "post.publish.complete",
            "user_openid": "<open_id>",
            "content": content,
        }
    )
    return [
        "",
        "Send a webhook as TikTok does: header TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256 of",
        '"<t>.<body>" keyed with the client secret>. It answers {"message": "ok"}; with a real publish_id',
        "in the body it moves that post:",
        "",
        f"  body={shlex.quote(body)}",
        "  t=$(date +%s)",
        f'  s=$(printf \'%s.%s\' "$t" "$body" | openssl dgst -sha256 -hmac {shlex.quote(client_secret)}'
        " | sed 's/^.* //')",
        f'  curl -sS -X POST {api}/webhooks/tiktok -H "TikTok-Signature: t=$t,s=$s" \\',
        "       -H 'Content-Type: application/json' --data-binary \"$body\"",
    ]


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


# Synthesis in a process of its own: CDK's node process (jsii) then ends with it instead of running as long
# as the stack (and, killed by the same Ctrl-C, printing a traceback at exit); its warnings are kept aside.
_SYNTHESIZE = "import sys; from pathlib import Path; from local.runtime import synthesize; synthesize(Path(sys.argv[1]))"


class SynthesisFailed(Exception):
    pass


@contextlib.contextmanager
def cloud_assembly(cdk_out: Path | None, *, verbose: bool) -> Iterator[Path]:
    """`cdk_out` when it holds a synthesized app; else the app synthesized into it (or into a temporary
    folder, removed at the end). What synthesis prints is shown with `verbose` or when it fails."""
    if cdk_out is not None and (cdk_out / "manifest.json").exists():
        yield cdk_out
        return
    folder = cdk_out or Path(tempfile.mkdtemp(prefix="tiktok-publisher-cdk-"))
    try:
        run = subprocess.run(  # noqa: S603  # nosec B603 - this interpreter, a fixed script
            [sys.executable, "-c", _SYNTHESIZE, str(folder)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if verbose or run.returncode:
            sys.stderr.write(run.stdout + run.stderr)
        if run.returncode:
            raise SynthesisFailed(f"cdk synth failed (exit {run.returncode})")
        yield folder
    finally:
        if cdk_out is None:
            shutil.rmtree(folder, ignore_errors=True)


def quiet_startup(verbose: bool) -> None:
    """Without -v, warnings that mean nothing to a user are not shown."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server: no line per request
    if verbose:
        return
    # Powertools, when a handler run added no metric (the deploy's custom resources, most webhooks).
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def system_for(args: argparse.Namespace, cdk_out: Path, quirks: list[str]) -> EmbeddedSystem:
    env = {Env.APP_STATUS: "unaudited" if args.unaudited else "audited"}
    if args.chunk_mib:
        env[Env.UPLOAD_CHUNK_BYTES] = str(args.chunk_mib * MIB)
    return EmbeddedSystem(
        cdk_out=cdk_out,
        env=env,
        server=True,
        api_port=args.api_port,
        sandbox_port=args.sandbox_port,
        media_port=args.media_port,
        aws_port=args.aws_port,
        tiktok_url=args.tiktok_url,
        client_key=args.client_key,
        client_secret=args.client_secret,
        sandbox_config={"quirks": quirks} if quirks else {},
        fast_time=args.fast_time,
    )


def serve(system: EmbeddedSystem, args: argparse.Namespace, out: TextIO) -> None:
    """Start, describe, serve until a signal, stop."""
    try:
        # The functions log and print metrics to stdout: they go to stderr, stdout keeps the banner.
        with contextlib.redirect_stdout(sys.stderr):
            system.start()
            written = write_endpoints(args.endpoints_file, endpoints(system))
            shown = args.endpoints_file if written else None
            out.write(banner(system, args.account, shown, fast_time=args.fast_time) + "\n")
            out.flush()
            while True:  # until a signal; a timed sleep lets the main thread run the handler even
                time.sleep(0.5)  # when the signal was delivered to another thread
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        with uninterruptible():
            remove_endpoints(args.endpoints_file)  # first: no command line reaches a stopping stack
            system.stop()


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    offline_aws_environment()
    out = stdout if stdout is not None else sys.stdout
    busy = busy_ports(args)
    if busy:
        print(f"port in use: {', '.join(busy)}; choose another (0: a free one)", file=sys.stderr)
        return 2
    try:
        quirks = check_quirks(q.strip() for q in args.quirks.split(",") if q.strip())
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    quiet_startup(args.verbose)
    print(
        "starting: cdk synth, deploy into moto, HTTP API, media server, TikTok sandbox ...", file=sys.stderr
    )
    with handling((signal.SIGINT, signal.SIGTERM), _stop_signal):  # both stop the system
        try:
            with cloud_assembly(args.cdk_out, verbose=args.verbose) as cdk_out:
                serve(system_for(args, cdk_out, quirks), args, out)
        except KeyboardInterrupt:  # during synthesis
            print("stopping", file=sys.stderr)
        except SynthesisFailed as exc:
            print(exc, file=sys.stderr)
            return 1
    print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
