"""What a handler module loads when Lambda imports it, with tracing on as deployed.

The heavy libraries (boto3's clients, requests, pydantic's models) are loaded by the code path that uses
them, not by the import; X-Ray patches botocore and requests when the first client for them is built.
These are counts of modules, not timings: `make bench` measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HANDLERS = sorted(
    p.stem for p in (REPO / "functions" / "handlers").glob("*.py") if p.stem not in {"__init__", "step"}
)
# Handlers whose import builds pydantic models: they validate a manifest or a review form on every call.
# after_publish reads TikTok's video objects (Display API models) on every call.
PYDANTIC_AT_IMPORT = {
    "after_publish",
    "api",
    "init_post",
    "prepare",
    "register_review",
    "review",
    "start_post",
}
NEVER_AT_IMPORT = ("boto3", "botocore.client", "requests", "sqlite3", "functions.tiktok.client")


def _traced_lambda_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "AWS_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "LAMBDA_TASK_ROOT": str(REPO),
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
    )
    return env


def _run(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=_traced_lambda_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("handler", HANDLERS)
def test_handler_import_leaves_heavy_libraries_for_first_use(handler: str) -> None:
    loaded = _run(
        f"import json, sys, functions.handlers.{handler}\n"
        f"print(json.dumps([m for m in {[*NEVER_AT_IMPORT, 'pydantic']!r} if m in sys.modules]))"
    )
    expected = ["pydantic"] if handler in PYDANTIC_AT_IMPORT else []
    assert loaded == expected


def test_the_first_client_patches_its_library_for_xray_once() -> None:
    patched = _run(
        "import json\n"
        "from aws_xray_sdk.core import patcher\n"
        "from functions.handlers import webhook\n"
        "from functions.store.clients import aws_client\n"
        "from functions.wiring import Wiring\n"
        "from functions.settings import Settings\n"
        "before = sorted(patcher._PATCHED_MODULES)\n"
        "aws_client('dynamodb'); aws_client('sqs')\n"
        "after_aws = sorted(patcher._PATCHED_MODULES)\n"
        "Wiring(Settings.from_env_dict({})).uploader\n"
        "print(json.dumps([before, after_aws, sorted(patcher._PATCHED_MODULES)]))"
    )
    assert patched == [[], ["botocore"], ["botocore", "requests"]]


def test_only_the_libraries_this_code_calls_can_be_traced() -> None:
    from functions.observability import trace_calls

    with pytest.raises(ValueError, match="sqlite3"):
        trace_calls("sqlite3")


def test_code_below_the_handlers_leaves_powertools_to_the_first_handler_import() -> None:
    """Powertools reads a function's settings (metrics namespace, service) when functions.observability is
    first imported. The local runtime and the benchmarks use the wiring and the stores outside any
    function's environment, so building clients there must neither import it nor patch anything."""
    loaded = _run(
        "import json, sys\n"
        "from functions.settings import Settings\n"
        "from functions.store.clients import aws_client\n"
        "from functions.wiring import Wiring\n"
        "aws_client('dynamodb'); Wiring(Settings.from_env_dict({})).uploader\n"
        "print(json.dumps(['functions.observability' in sys.modules, 'aws_xray_sdk.core' in sys.modules]))"
    )
    assert loaded == [False, False]
