"""Where the stack is: a deployed stack's CloudFormation outputs and the AWS session that reaches it, or the
local stack of `make local`, described by the endpoint file it writes (`.local/endpoints.json`)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from publisher_cli.errors import BadInput, CliError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

STACK_NAME = "TikTokPublisher"  # infra.config.STACK_NAME (tests/cli keeps the two equal)
ENDPOINTS_FILE = Path(".local", "endpoints.json")
ENDPOINTS_FORMAT = 1
START_LOCAL = "start the local stack with `make local` in the repository (it writes .local/endpoints.json)"


@dataclass(frozen=True)
class Stack:
    """A running tiktok-publisher: its outputs (ApiUrl, ConnectUrl, MediaBucketName, ...) and how to reach
    its AWS services (`aws_endpoint_url` is moto's server for the local stack, None for AWS itself)."""

    name: str
    outputs: Mapping[str, str]
    session: boto3.Session
    region: str
    aws_endpoint_url: str | None = None
    local: bool = False

    def output(self, key: str) -> str:
        value = self.outputs.get(key)
        if not value:
            raise CliError(f"the stack {self.name} has no output {key}: is it a tiktok-publisher stack?")
        return value

    @property
    def api_url(self) -> str:
        return self.output("ApiUrl").rstrip("/")

    @property
    def connect_url(self) -> str:
        return (self.outputs.get("ConnectUrl") or f"{self.api_url}/connect").rstrip("/")

    @property
    def bucket(self) -> str:
        return self.output("MediaBucketName")

    def s3(self) -> S3Client:
        return self.session.client("s3", endpoint_url=self.aws_endpoint_url)


def deployed_stack(name: str, *, region: str | None = None, profile: str | None = None) -> Stack:
    """The stack `name` as CloudFormation describes it, reached with the caller's own AWS credentials."""
    session = boto3.Session(profile_name=profile, region_name=region)
    if not session.region_name:
        raise BadInput("no AWS region: pass --region, or set AWS_REGION or a region in your AWS profile")
    try:
        described = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise CliError(
                f"no stack {name!r} in {session.region_name}: deploy it (make deploy), or name it with "
                "--stack and --region; --local talks to the stack of `make local`"
            ) from None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described[0].get("Outputs", []) if "OutputKey" in o}
    return Stack(name=name, outputs=outputs, session=session, region=session.region_name)


def find_endpoints_file(start: Path | None = None) -> Path | None:
    """`.local/endpoints.json` in the working directory or one above it, else in the repository this
    package runs from (the `make dev` install)."""
    here = (start or Path.cwd()).resolve()
    repository = Path(__file__).resolve().parent.parent
    for folder in (here, *here.parents, repository):
        candidate = folder / ENDPOINTS_FILE
        if candidate.is_file():
            return candidate
    return None


def running(pid: int) -> bool:
    """Whether process `pid` runs (on POSIX; elsewhere the endpoint file is trusted)."""
    if os.name != "posix":  # os.kill would end the process elsewhere: trust the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_endpoints(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"no local stack: {path} is missing; {START_LOCAL}") from None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the endpoint file {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != ENDPOINTS_FORMAT:
        raise CliError(f"{path} is not an endpoint file this version understands; {START_LOCAL}")
    pid = data.get("pid")
    if isinstance(pid, int) and not running(pid):
        raise CliError(f"the local stack that wrote {path} (pid {pid}) is no longer running; {START_LOCAL}")
    return data


def _local_only_environment() -> None:
    """The local stack takes the credentials its endpoint file names: an AWS profile, endpoint or config
    file of the shell must not send these calls anywhere else (or stop boto3 before it makes them)."""
    for name in list(os.environ):
        if name.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def local_stack(path: Path | None = None) -> Stack:
    """The stack of `make local`, from its endpoint file (`path`, else the one find_endpoints_file finds)."""
    found = path or find_endpoints_file()
    if found is None:
        raise CliError(f"no local stack: no {ENDPOINTS_FILE} here or above; {START_LOCAL}")
    data = read_endpoints(found)
    try:
        credentials = data["credentials"]
        outputs = {
            **data.get("outputs", {}),
            "ApiUrl": data["api_url"],
            "ConnectUrl": data.get("connect_url") or f"{data['api_url'].rstrip('/')}/connect",
            "MediaBucketName": data["bucket"],
        }
        region, endpoint = data["region"], data["aws_endpoint_url"]
        _local_only_environment()
        session = boto3.Session(
            aws_access_key_id=credentials["aws_access_key_id"],
            aws_secret_access_key=credentials["aws_secret_access_key"],
            region_name=region,
        )
    except (KeyError, TypeError) as exc:
        raise CliError(f"the endpoint file {found} lacks {exc}; {START_LOCAL}") from None
    name = str(data.get("stack_name") or STACK_NAME)
    return Stack(
        name=name, outputs=outputs, session=session, region=region, aws_endpoint_url=endpoint, local=True
    )
