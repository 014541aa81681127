"""LocalAws: the synthesized CDK stack deployed into moto, with every Lambda handler run in process.

What CloudFormation cannot create in moto is provided by the runtime itself (see `_plan_removals`):
the Secrets Manager secret (created directly, with the values given to the runtime), the HTTP API (served
by `HttpApiServer` from the template's routes), CDK's custom resources (the S3 bucket notification is
applied with the S3 API, auto-delete is moot), alarms and resource policies (not emulated).
SQS event source mappings are delivered by `pump_queues` rather than by moto, so that batch item
failures, visibility and redrive behave as on AWS.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import logging
import os
import re
import secrets as pysecrets
import shutil
import string
import sys
import tempfile
import threading
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from local.runtime.lambdas import Activity, InProcessLambdas, LocalFunction, clear_left_environment
from local.runtime.moto_patches import (
    copy_to_executing_backend,
    fast_time_patches,
    json_template_patches,
    jsonata_patches,
    quiet_interpreter_patches,
    s3_event_key_patches,
)
from local.runtime.template import (
    HANDLER_PREFIX,
    CloudAssembly,
    EventSourceDef,
    Substitute,
    deployable_template,
)

LOG = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
_CDK_HASH = re.compile(r"[0-9A-F]{8}$")
_SECRET_ALPHABET = string.ascii_letters + string.digits
# moto accepts any credentials; these keep boto3 from looking for real ones.
_FAKE_CREDENTIALS = dict.fromkeys(
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"), "testing"
)
_active_lock = threading.Lock()
_active: list[LocalAws] = []  # at most one: moto's state is process-wide


def _without_hash(logical_id: str) -> str:
    return _CDK_HASH.sub("", logical_id)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@functools.cache
def _session() -> Any:
    """One boto3 session for every runtime of the process: a new session reloads botocore's endpoint and
    service data (about 0.1 s per client)."""
    import boto3

    return boto3.session.Session()


def _importable_repo() -> None:
    """`infra` and `functions` import from the repository, as the handlers' code assets come from it."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))


def synthesize(outdir: Path) -> Path:
    """`cdk synth` of the project's app into `outdir`, bundling skipped (the code runs from the repo)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    _importable_repo()
    from infra.app import build_app

    build_app(outdir=str(outdir), context={"aws:cdk:bundling-stacks": []}).synth()
    return outdir


class LocalAws:
    """The CDK template deployed into moto, with every Lambda handler run in process."""

    def __init__(
        self,
        *,
        cdk_out: Path | None = None,
        region: str = "eu-west-1",
        account: str = "123456789012",
        env_overrides: Mapping[str, str] | None = None,
        handler_overrides: Mapping[str, Callable[[Any, Any], Any]] | None = None,
        secrets: Mapping[str, str] | None = None,
        fast_time: bool = True,
        server: bool = False,
        server_port: int = 0,
        stack_name: str | None = None,
    ) -> None:
        self.cdk_out = Path(cdk_out) if cdk_out is not None else None
        self.region = region
        self.account = account
        self.fast_time = fast_time
        self.server = server
        self.server_port = server_port
        self._stack_name = stack_name
        self._env_overrides: dict[str, str] = dict(env_overrides or {})
        self._handler_overrides = dict(handler_overrides or {})
        self._secret_values = dict(secrets or {})
        self._lambdas = InProcessLambdas(env_provider=self._environment_of)
        self._patches: list[Any] = []
        self._mock: Any = None
        self._moto_server: Any = None
        self._tmpdir: Path | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._pump_thread: threading.Thread | None = None
        self._pump_stop = threading.Event()
        self._pump_lock = threading.Lock()
        self._started = False
        self.assembly: CloudAssembly | None = None
        self.endpoint_url: str | None = None
        self.stack_outputs: dict[str, str] = {}
        self.physical_ids: dict[str, str] = {}  # logical id -> physical id (deployed and runtime-provided)
        self.skipped_resources: dict[str, str] = {}  # logical id -> type, not created in moto
        self._functions_by_logical: dict[str, LocalFunction] = {}
        self._api_endpoints: list[str] = []  # https://<id>.execute-api.<region>.amazonaws.com
        self._api_base_url: str | None = None
        self._queue_urls_by_logical: dict[str, str] = {}
        self._queue_arns_by_logical: dict[str, str] = {}

    # --- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalAws:
        with _active_lock:
            if _active:
                raise RuntimeError("another LocalAws is running in this process (moto's state is global)")
            _active.append(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from moto import mock_aws
        from moto.core.models import DEFAULT_ACCOUNT_ID

        if self.account != DEFAULT_ACCOUNT_ID:
            raise ValueError(
                f"moto's account is {DEFAULT_ACCOUNT_ID}: set MOTO_ACCOUNT_ID={self.account} "
                "before moto is imported to use another account"
            )
        _importable_repo()
        self.assembly = CloudAssembly.load(self._cloud_assembly_dir(), self._stack_name)
        self._validate_overrides(self.assembly)

        self._patches = [
            *jsonata_patches(),
            *(fast_time_patches() if self.fast_time else []),
            *quiet_interpreter_patches(),
            *s3_event_key_patches(),
            *json_template_patches(),
        ]
        for patch in self._patches:
            patch.start()
        self._lambdas.start()
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        if self.server:
            from moto.server import ThreadedMotoServer

            self._moto_server = ThreadedMotoServer(
                ip_address="127.0.0.1", port=self.server_port, verbose=False
            )
            self._moto_server.start()
            host, port = self._moto_server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
        self._deploy(self.assembly)
        self._started = True

    def stop(self) -> None:
        self.stop_pump_thread()
        if self._moto_server is not None:
            self._moto_server.stop()
            self._moto_server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._lambdas.stop()
        clear_left_environment()
        while self._patches:
            self._patches.pop().stop()
        self._clients.clear()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        self._started = False
        with _active_lock:
            if self in _active:
                _active.remove(self)

    def _cloud_assembly_dir(self) -> Path:
        if self.cdk_out is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="tiktok-publisher-cdk-"))
            return synthesize(self._tmpdir)
        if not (self.cdk_out / "manifest.json").exists():
            self.cdk_out.mkdir(parents=True, exist_ok=True)
            synthesize(self.cdk_out)
        return self.cdk_out

    def _validate_overrides(self, assembly: CloudAssembly) -> None:
        known: set[str] = set()
        for fn in assembly.functions().values():
            known |= {fn.logical_id, _without_hash(fn.logical_id)}
            if fn.spec_name:
                known.add(fn.spec_name)
        unknown = sorted(set(self._handler_overrides) - known)
        if unknown:
            raise ValueError(f"handler_overrides name no function of the template: {unknown}")

    # --- deployment --------------------------------------------------------------------------------

    def _deploy(self, assembly: CloudAssembly) -> None:
        self._seed_bootstrap(assembly)
        removals = self._plan_removals(assembly)
        template = deployable_template(assembly.template, removals)
        cfn = self.in_process_client("cloudformation")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cfn.create_stack(
                StackName=assembly.stack_name,
                TemplateBody=json.dumps(template),
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            )
        stack = cfn.describe_stacks(StackName=assembly.stack_name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"stack {assembly.stack_name} is {stack['StackStatus']}")
        self.stack_outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        for resource in cfn.describe_stack_resources(StackName=assembly.stack_name)["StackResources"]:
            if "PhysicalResourceId" in resource:
                self.physical_ids[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
            else:
                LOG.debug("no physical id for %s", resource["LogicalResourceId"])

        sfn = self.in_process_client("stepfunctions")
        for logical_id in assembly.of_type("AWS::StepFunctions::StateMachine"):
            copy_to_executing_backend(sfn, self.account, self.region, self.physical_ids[logical_id])
        self._map_queues(assembly)
        self._disable_moto_event_source_mappings()
        self._apply_custom_resources(assembly)
        self._register_functions(assembly)

    def _seed_bootstrap(self, assembly: CloudAssembly) -> None:
        """What `cdk bootstrap` and asset publishing would have left in the account."""
        self.in_process_client("ssm").put_parameter(
            Name=BOOTSTRAP_VERSION_PARAMETER, Value="30", Type="String", Overwrite=True
        )
        s3 = self.in_process_client("s3")
        empty_zip = io.BytesIO()
        zipfile.ZipFile(empty_zip, "w").close()
        created: set[str] = set()
        for bucket, key in assembly.asset_objects(self.account, self.region):
            if bucket not in created:
                self._create_bucket(bucket)
                created.add(bucket)
            s3.put_object(Bucket=bucket, Key=key, Body=empty_zip.getvalue())

    def _create_bucket(self, bucket: str) -> None:
        s3 = self.in_process_client("s3")
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})

    def _plan_removals(self, assembly: CloudAssembly) -> dict[str, Substitute]:
        """Resources moto's CloudFormation cannot create -> the value their references take instead."""
        from moto.cloudformation.parsing import NULL_MODELS, get_model_map

        supported = set(get_model_map()) | set(NULL_MODELS)
        removals: dict[str, Substitute] = {}
        for logical_id, resource in assembly.resources.items():
            kind = str(resource.get("Type", ""))
            if kind == "AWS::SecretsManager::Secret":
                arn = self._create_secret(logical_id, resource.get("Properties", {}))
                removals[logical_id] = self._constant(logical_id, arn)
            elif kind == "AWS::ApiGatewayV2::Api":
                api_id = hashlib.sha256(logical_id.encode()).hexdigest()[:10]
                endpoint = f"https://{api_id}.execute-api.{self.region}.amazonaws.com"
                self._api_endpoints.append(endpoint)
                self.physical_ids[logical_id] = api_id
                removals[logical_id] = self._api_substitute(api_id, endpoint)
            elif kind == "AWS::ApiGatewayV2::Stage":
                stage = str(resource.get("Properties", {}).get("StageName", "$default"))
                removals[logical_id] = self._constant(logical_id, stage)
            elif kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
                removals[logical_id] = self._constant(logical_id, logical_id)
            elif kind not in supported:
                removals[logical_id] = self._generic_substitute(kind)
            else:
                continue
            self.skipped_resources[logical_id] = kind
        return removals

    def _constant(self, logical_id: str, value: str) -> Substitute:
        self.physical_ids[logical_id] = value
        return lambda _name, _attr: value

    def _api_substitute(self, api_id: str, endpoint: str) -> Substitute:
        def substitute(_name: str, attr: str | None) -> str:
            return endpoint if attr == "ApiEndpoint" else api_id

        return substitute

    def _generic_substitute(self, kind: str) -> Substitute:
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "local"

        def substitute(name: str, attr: str | None) -> str:
            if attr == "Arn":
                return f"arn:aws:{service}:{self.region}:{self.account}:{name}"
            return name

        return substitute

    def _create_secret(self, logical_id: str, properties: Mapping[str, Any]) -> str:
        value = self._secret_value_for(logical_id)
        if value is None:
            if "SecretString" in properties:
                value = str(properties["SecretString"])
            else:
                generate = properties.get("GenerateSecretString", {})
                generated = "".join(
                    pysecrets.choice(_SECRET_ALPHABET) for _ in range(int(generate.get("PasswordLength", 32)))
                )
                if "SecretStringTemplate" in generate and "GenerateStringKey" in generate:
                    document = json.loads(generate["SecretStringTemplate"])
                    document[generate["GenerateStringKey"]] = generated
                    value = json.dumps(document)
                else:
                    value = generated
        created = self.in_process_client("secretsmanager").create_secret(
            Name=str(properties.get("Name", logical_id)),
            Description=str(properties.get("Description", "")),
            SecretString=value,
        )
        return str(created["ARN"])

    def _secret_value_for(self, logical_id: str) -> str | None:
        for key, value in self._secret_values.items():
            if key in (logical_id, _without_hash(logical_id)):
                return value
        return None

    def set_secret(self, name: str, value: str) -> None:
        """Store a new value in one of the template's secrets (logical id, with or without its hash)."""
        self.in_process_client("secretsmanager").put_secret_value(
            SecretId=self.physical_name(name), SecretString=value
        )

    def _map_queues(self, assembly: CloudAssembly) -> None:
        sqs = self.in_process_client("sqs")
        for logical_id in assembly.of_type("AWS::SQS::Queue"):
            url = self.physical_ids[logical_id]
            if not url.startswith("http"):
                url = sqs.get_queue_url(QueueName=url)["QueueUrl"]
            self._queue_urls_by_logical[logical_id] = url
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            self._queue_arns_by_logical[logical_id] = attributes["Attributes"]["QueueArn"]

    def _disable_moto_event_source_mappings(self) -> None:
        """moto would invoke the function inside SendMessage, on the sender's thread, and delete the whole
        batch on success; `pump_queues` delivers instead."""
        from moto.sqs.models import sqs_backends

        for queue in sqs_backends[self.account][self.region].queues.values():
            queue.lambda_event_source_mappings.clear()

    def _apply_custom_resources(self, assembly: CloudAssembly) -> None:
        from moto.cloudformation.models import cloudformation_backends
        from moto.cloudformation.parsing import clean_json

        stack = cloudformation_backends[self.account][self.region].get_stack(assembly.stack_name)
        for custom in assembly.custom_resources():
            if custom.type == "Custom::S3BucketNotifications":
                properties = clean_json(custom.properties, stack.resource_map)
                self.in_process_client("s3").put_bucket_notification_configuration(
                    Bucket=properties["BucketName"],
                    NotificationConfiguration=properties.get("NotificationConfiguration", {}),
                )
            elif custom.type != "Custom::S3AutoDeleteObjects":
                LOG.warning("custom resource %s (%s) is not emulated locally", custom.logical_id, custom.type)

    def _register_functions(self, assembly: CloudAssembly) -> None:
        lam = self.in_process_client("lambda")
        for logical_id, definition in assembly.functions().items():
            if not definition.handler.startswith(HANDLER_PREFIX):
                continue  # CDK's own provider functions: their work is emulated by the runtime
            name = self.physical_ids[logical_id]
            configuration = lam.get_function_configuration(FunctionName=name)
            override = None
            for key in (definition.spec_name, logical_id, _without_hash(logical_id)):
                if key and key in self._handler_overrides:
                    override = self._handler_overrides[key]
            function = LocalFunction(
                name=name,
                arn=configuration["FunctionArn"],
                logical_id=logical_id,
                handler=definition.handler,
                environment=dict(configuration.get("Environment", {}).get("Variables", {})),
                memory_mb=int(configuration.get("MemorySize", definition.memory_mb)),
                timeout_seconds=int(configuration.get("Timeout", definition.timeout_seconds)),
                spec_name=definition.spec_name,
                override=override,
            )
            self._lambdas.register(function)
            self._functions_by_logical[logical_id] = function

    # --- function environment ----------------------------------------------------------------------

    def _environment_of(self, function: LocalFunction) -> dict[str, str]:
        """Lambda's reserved variables, then the deployed Environment (API URLs pointed at the local HTTP
        API once one is bound), then the runtime's own, then the overrides."""
        env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            **_FAKE_CREDENTIALS,
            "_HANDLER": function.handler,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        }
        env.update({key: self._localised(value) for key, value in function.environment.items()})
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        env.update(self._env_overrides)
        return env

    def _localised(self, value: str) -> str:
        if self._api_base_url:
            for endpoint in self._api_endpoints:
                value = value.replace(endpoint, self._api_base_url)
        return value

    def update_env(self, values: Mapping[str, str]) -> None:
        """Merge `values` into every function's environment from the next invocation on (for servers
        whose address is known only once they run, such as MEDIA_BASE_URL)."""
        self._env_overrides.update(values)

    def bind_api(self, base_url: str | None) -> None:
        """Point the HTTP API URL in functions' environment and in `outputs` at a local server."""
        self._api_base_url = base_url.rstrip("/") if base_url else None

    def function_env(self, name: str) -> dict[str, str]:
        """The environment a function's handler runs with (spec name, logical id or physical name)."""
        return self._environment_of(self._function(name))

    # --- introspection -----------------------------------------------------------------------------

    @property
    def outputs(self) -> dict[str, str]:
        return {key: self._localised(value) for key, value in self.stack_outputs.items()}

    @property
    def stack_name(self) -> str:
        if self.assembly is None:
            raise RuntimeError("LocalAws is not started")
        return self.assembly.stack_name

    @property
    def bucket(self) -> str:
        return self.outputs["MediaBucketName"]

    @property
    def state_machine_arn(self) -> str:
        return self.outputs["StateMachineArn"]

    @property
    def api_base_url(self) -> str | None:
        return self._api_base_url

    @property
    def queue_urls(self) -> dict[str, str]:
        """`uploads`, `uploads_dlq`, `webhooks`, `webhooks_dlq`: from the template's logical ids."""
        urls: dict[str, str] = {}
        for logical_id, url in self._queue_urls_by_logical.items():
            key = _snake(_without_hash(logical_id))
            urls[key.removesuffix("_queue")] = url
        return urls

    @property
    def functions(self) -> dict[str, str]:
        """Spec name (or logical id) -> physical name of every function the runtime runs."""
        return {(fn.spec_name or fn.logical_id): fn.name for fn in self._functions_by_logical.values()}

    def physical_name(self, name: str) -> str:
        """Physical id of a function (by spec name) or of any resource (by logical id, with or without
        CDK's hash suffix)."""
        for fn in self._functions_by_logical.values():
            if name == fn.spec_name:
                return fn.name
        if name in self.physical_ids:
            return self.physical_ids[name]
        matches = [pid for lid, pid in self.physical_ids.items() if _without_hash(lid) == name]
        if len(matches) == 1:
            return matches[0]
        raise KeyError(f"no resource or function named {name!r} in {self.stack_name}")

    def physical_ids_of(self, kind: str) -> dict[str, str]:
        """Logical id -> physical id of every deployed resource of a CloudFormation type."""
        if self.assembly is None:
            raise RuntimeError("LocalAws is not started")
        return {
            lid: self.physical_ids[lid] for lid in self.assembly.of_type(kind) if lid in self.physical_ids
        }

    def _function(self, name: str) -> LocalFunction:
        for fn in self._functions_by_logical.values():
            if name in (fn.spec_name, fn.logical_id, fn.name, _without_hash(fn.logical_id), fn.arn):
                return fn
        raise KeyError(f"no function named {name!r}")

    def client(self, service: str) -> Any:
        """A boto3 client bound to this runtime (over HTTP to the moto server in server mode)."""
        return self._make_client(service, self.endpoint_url)

    def in_process_client(self, service: str) -> Any:
        """In-process client for the runtime's own calls (intercepted by the mock in both modes)."""
        return self._make_client(service, None)

    def _make_client(self, service: str, endpoint_url: str | None) -> Any:
        key = f"{service}@{endpoint_url}"
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = _session().client(
                    service,
                    region_name=self.region,
                    endpoint_url=endpoint_url,
                    aws_access_key_id=_FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=_FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                )
            return self._clients[key]

    # --- driving -----------------------------------------------------------------------------------

    def invoke(self, name: str, event: Any) -> Any:
        """Call a function's handler in process with its environment; its exceptions propagate."""
        return self._lambdas.call(self._function(name), event)

    def start_execution(self, execution_input: Mapping[str, Any], name: str | None = None) -> str:
        """Start the stack's state machine (always named: moto needs a name, see asl-in-moto.md)."""
        response = self.in_process_client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn,
            name=name or str(uuid.uuid4()),
            input=json.dumps(dict(execution_input)),
        )
        return str(response["executionArn"])

    def wait_execution(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        """describe_execution once the execution is no longer RUNNING."""
        sfn = self.in_process_client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            description: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING":
                return description
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout} s")
            time.sleep(0.01)

    def execution_history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.in_process_client("stepfunctions").get_execution_history(
            executionArn=execution_arn
        )["events"]
        return events

    def executions(self, status: str | None = None) -> list[dict[str, Any]]:
        sfn = self.in_process_client("stepfunctions")
        kwargs: dict[str, Any] = {"stateMachineArn": self.state_machine_arn}
        if status:
            kwargs["statusFilter"] = status
        found: list[dict[str, Any]] = []
        while True:
            page = sfn.list_executions(**kwargs)
            found.extend(page["executions"])
            if not page.get("nextToken"):
                return found
            kwargs["nextToken"] = page["nextToken"]

    # --- SQS event source mappings -----------------------------------------------------------------

    def event_sources(self) -> list[EventSourceDef]:
        if self.assembly is None:
            raise RuntimeError("LocalAws is not started")
        return [source for source in self.assembly.event_sources() if source.enabled]

    def pump_queues(self, max_rounds: int = 100, timeout: float = 10.0) -> int:
        """Deliver the messages waiting in the queues of the template's event source mappings to their
        functions, round after round until a round finds none; returns the messages delivered.

        As Lambda's SQS poller does: batches of up to BatchSize, messages of a successful batch deleted,
        `batchItemFailures` honoured when ReportBatchItemFailures is on (an unknown item identifier fails
        the batch), a raising handler fails the whole batch. Failed messages stay in the queue: visible
        again at once with fast_time, after the queue's visibility timeout otherwise; the queue's redrive
        policy moves them to the DLQ after maxReceiveCount receives.
        """
        delivered = 0
        deadline = time.monotonic() + timeout
        with self._pump_lock:
            for _ in range(max_rounds):
                this_round = sum(self._pump_once(source) for source in self.event_sources())
                delivered += this_round
                if this_round == 0 or time.monotonic() > deadline:
                    break
        return delivered

    def queues_drained(self) -> bool:
        """No message waiting or in flight in any queue a function reads (dead-letter queues aside)."""
        sqs = self.in_process_client("sqs")
        for source in self.event_sources():
            counts = sqs.get_queue_attributes(
                QueueUrl=self._queue_urls_by_logical[source.queue_logical_id],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if int(counts["ApproximateNumberOfMessages"]) or int(
                counts["ApproximateNumberOfMessagesNotVisible"]
            ):
                return False
        return True

    @property
    def activity(self) -> Activity:
        """Handler runs under way (see local/runtime/lambdas.py: Activity)."""
        return self._lambdas.activity

    def _pump_once(self, source: EventSourceDef) -> int:
        sqs = self.in_process_client("sqs")
        url = self._queue_urls_by_logical[source.queue_logical_id]
        arn = self._queue_arns_by_logical[source.queue_logical_id]
        function = self._functions_by_logical.get(source.function_logical_id)
        if function is None:
            return 0
        messages: list[dict[str, Any]] = []
        while len(messages) < source.batch_size:
            received = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, source.batch_size - len(messages)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            messages.extend(received)
        if not messages:
            return 0
        event = {"Records": [self._sqs_record(message, arn) for message in messages]}
        failed_ids = self._deliver(function, source, event)
        for message in messages:
            if message["MessageId"] in failed_ids:
                if self.fast_time:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _deliver(self, function: LocalFunction, source: EventSourceDef, event: dict[str, Any]) -> set[str]:
        """The ids of the messages that failed."""
        all_ids = {record["messageId"] for record in event["Records"]}
        try:
            result = self._lambdas.call(function, event)
        except Exception:
            LOG.exception("%s failed on a batch of %d messages", function.spec_name, len(all_ids))
            return all_ids
        if not source.report_batch_item_failures or not isinstance(result, dict):
            return set()
        failures = result.get("batchItemFailures") or []
        failed: set[str] = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in all_ids:
                LOG.warning("%s reported an invalid batch item failure %r", function.spec_name, failure)
                return all_ids
            failed.add(str(identifier))
        return failed

    def _sqs_record(self, message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value.get("DataType"),
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        for value in message_attributes.values():
            if isinstance(value["binaryValue"], bytes):
                value["binaryValue"] = base64.b64encode(value["binaryValue"]).decode()
            for key in [k for k, v in value.items() if v is None]:
                del value[key]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                key: str(attributes[key])
                for key in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                    "MessageGroupId",
                    "MessageDeduplicationId",
                    "SequenceNumber",
                    "AWSTraceHeader",
                )
                if key in attributes
            },
            "messageAttributes": message_attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": self.region,
        }

    def start_pump_thread(self, interval: float = 0.05) -> None:
        """Pump the queues continuously in a background thread (make local, the demo)."""
        if self._pump_thread is not None:
            return
        self._pump_stop.clear()

        def loop() -> None:
            while not self._pump_stop.is_set():
                try:
                    self.pump_queues(max_rounds=10, timeout=interval * 20 + 1)
                except Exception:
                    LOG.exception("queue pump round failed")
                self._pump_stop.wait(interval)

        self._pump_thread = threading.Thread(target=loop, name="local-aws-queue-pump", daemon=True)
        self._pump_thread.start()

    def stop_pump_thread(self) -> None:
        if self._pump_thread is None:
            return
        self._pump_stop.set()
        self._pump_thread.join(timeout=30)
        self._pump_thread = None
