"""LocalAws: the synthesized CDK stack deployed into moto, with every Lambda handler run in process.

LocalAws is the runtime's public face; the work is done by parts, each in a module of its own:
- `MotoMock` (moto_mock.py): moto's mock, the runtime's patches to it and, in server mode, the server;
- `Deployer` (deployment.py): the cloud assembly deployed into moto, with what moto's CloudFormation
  cannot create provided by the runtime; its `Deployment` record is what the lookups here read;
- `InProcessLambdas` (lambdas.py): the handlers, run with the environment of environment.py;
- `QueuePump` (queue_pump.py): the SQS event source mappings, delivered as Lambda's poller does;
- `SchedulePump` (schedules.py): the EventBridge Scheduler schedules moto holds, run when they are due;
- `ClientCache` (clients.py): the boto3 clients; synthesis.py: `cdk synth` of the project's app.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from local.runtime.clients import ClientCache
from local.runtime.deployment import Deployer, Deployment, validate_overrides
from local.runtime.environment import function_environment, localised
from local.runtime.iam import GrantReport, IamEnforcement
from local.runtime.lambdas import Activity, InProcessLambdas, LocalFunction
from local.runtime.moto_mock import MotoMock
from local.runtime.queue_pump import QueuePump
from local.runtime.schedules import AsyncRetry, SchedulePump
from local.runtime.synthesis import importable_repo, synthesize
from local.runtime.template import CloudAssembly, EventSourceDef

_active_lock = threading.Lock()
_active: list[LocalAws] = []  # at most one: moto's state is process-wide


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
        enforce_iam: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cdk_out = Path(cdk_out) if cdk_out is not None else None
        self.region = region
        self.account = account
        self.fast_time = fast_time
        self.server = server
        self.server_port = server_port
        # Unix seconds now: what schedules are due by (a virtual clock's `now` in a local run on one).
        self.clock = clock
        self._stack_name = stack_name
        self._env_overrides: dict[str, str] = dict(env_overrides or {})
        self._handler_overrides = dict(handler_overrides or {})
        self._secret_values = dict(secrets or {})
        # Each function calls AWS with its own role's credentials, decided as AWS would (local/runtime/iam/).
        self.iam: IamEnforcement | None = IamEnforcement(account, region) if enforce_iam else None
        self._lambdas = InProcessLambdas(env_provider=self._environment_of)
        self._moto = MotoMock(self._lambdas, fast_time=fast_time)
        self._tmpdir: Path | None = None
        self._clients = ClientCache(region)
        self._started = False
        self.assembly: CloudAssembly | None = None
        self.endpoint_url: str | None = None
        self._deployed = Deployment()
        self._api_base_url: str | None = None
        self._pump = QueuePump(
            sources=self.event_sources,
            client=self.in_process_client,
            function_client=self._function_client,
            lambdas=self._lambdas,
            deployed=self._deployed,
            region=region,
            fast_time=fast_time,
        )
        self._schedules = SchedulePump(
            clock=clock,
            lambdas=self._lambdas,
            iam=self.iam,
            client=self.in_process_client,
            account=account,
            region=region,
            async_retry=self._async_retry,
        )

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
        from moto.core.models import DEFAULT_ACCOUNT_ID

        if self.account != DEFAULT_ACCOUNT_ID:
            raise ValueError(
                f"moto's account is {DEFAULT_ACCOUNT_ID}: set MOTO_ACCOUNT_ID={self.account} "
                "before moto is imported to use another account"
            )
        importable_repo()
        self.assembly = CloudAssembly.load(self._cloud_assembly_dir(), self._stack_name)
        validate_overrides(self.assembly, self._handler_overrides)

        self.endpoint_url = self._moto.start(server=self.server, server_port=self.server_port)
        if self.iam is not None:
            self.iam.start()
        Deployer(
            self._deployed,
            client=self.in_process_client,
            lambdas=self._lambdas,
            account=self.account,
            region=self.region,
            secrets=self._secret_values,
            handler_overrides=self._handler_overrides,
            iam=self.iam,
        ).deploy(self.assembly)
        self._started = True

    def stop(self) -> None:
        self.stop_pump_thread()
        if self.iam is not None:
            self.iam.stop()
        self._moto.stop()
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

    # --- secrets and function environment ----------------------------------------------------------

    def set_secret(self, name: str, value: str) -> None:
        """Store a new value in one of the template's secrets (logical id, with or without its hash)."""
        self.in_process_client("secretsmanager").put_secret_value(
            SecretId=self.physical_name(name), SecretString=value
        )

    def _environment_of(self, function: LocalFunction) -> dict[str, str]:
        return function_environment(
            function,
            region=self.region,
            endpoint_url=self.endpoint_url,
            overrides=self._env_overrides,
            localise=self._localised,
        )

    def _localised(self, value: str) -> str:
        return localised(value, self._deployed.api_endpoints, self._api_base_url)

    def update_env(self, values: Mapping[str, str]) -> None:
        """Merge `values` into every function's environment from the next invocation on (for servers
        whose address is known only once they run, such as MEDIA_BASE_URL)."""
        self._env_overrides.update(values)

    def bind_api(self, base_url: str | None) -> None:
        """Point the HTTP API URL in functions' environment and in `outputs` at a local server."""
        self._api_base_url = base_url.rstrip("/") if base_url else None

    def function_env(self, name: str) -> dict[str, str]:
        """The environment a function's handler runs with (spec name, logical id or physical name)."""
        return self._environment_of(self._deployed.function(name))

    # --- introspection -----------------------------------------------------------------------------

    def grant_report(self) -> GrantReport:
        """Every grant of every function's role and of the state machine's, and which ones calls used."""
        if self.iam is None:
            raise RuntimeError("this runtime does not enforce IAM (enforce_iam=False)")
        return self.iam.report(self.physical_ids)

    @property
    def stack_outputs(self) -> dict[str, str]:
        return self._deployed.stack_outputs

    @property
    def physical_ids(self) -> dict[str, str]:
        """Logical id -> physical id (deployed and runtime-provided)."""
        return self._deployed.physical_ids

    @property
    def cloudfront_public_keys(self) -> dict[str, str]:
        """Key id -> PEM of the public keys the stack's CloudFront distribution trusts for signed URLs."""
        return self._deployed.cloudfront_public_keys

    @property
    def skipped_resources(self) -> dict[str, str]:
        """Logical id -> type, not created in moto."""
        return self._deployed.skipped_resources

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
        return self._deployed.queue_urls_by_name()

    @property
    def functions(self) -> dict[str, str]:
        """Spec name (or logical id) -> physical name of every function the runtime runs."""
        return {(fn.spec_name or fn.logical_id): fn.name for fn in self._deployed.functions.values()}

    def physical_name(self, name: str) -> str:
        """Physical id of a function (by spec name) or of any resource (by logical id, with or without
        CDK's hash suffix)."""
        found = self._deployed.physical_name(name)
        if found is None:
            raise KeyError(f"no resource or function named {name!r} in {self.stack_name}")
        return found

    def physical_ids_of(self, kind: str) -> dict[str, str]:
        """Logical id -> physical id of every deployed resource of a CloudFormation type."""
        if self.assembly is None:
            raise RuntimeError("LocalAws is not started")
        return {
            lid: self.physical_ids[lid] for lid in self.assembly.of_type(kind) if lid in self.physical_ids
        }

    def client(self, service: str) -> Any:
        """A boto3 client bound to this runtime (over HTTP to the moto server in server mode)."""
        return self._clients.get(service, self.endpoint_url)

    def in_process_client(self, service: str) -> Any:
        """In-process client for the runtime's own calls (intercepted by the mock in both modes)."""
        return self._clients.get(service, None)

    def _function_client(self, function: LocalFunction, service: str) -> Any:
        """In-process client signed as `function`'s role (what Lambda's SQS poller uses)."""
        return self._clients.get(service, None, function.credentials)

    # --- driving -----------------------------------------------------------------------------------

    def invoke(self, name: str, event: Any) -> Any:
        """Call a function's handler in process with its environment; its exceptions propagate."""
        return self._lambdas.call(self._deployed.function(name), event)

    def start_execution(self, execution_input: Mapping[str, Any], name: str | None = None) -> str:
        """Start the stack's state machine (always named: moto's StartExecution needs a name)."""
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

    @property
    def activity(self) -> Activity:
        """Handler runs under way (see local/runtime/lambdas.py: Activity)."""
        return self._lambdas.activity

    # --- SQS event source mappings (queue_pump.py) -------------------------------------------------

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
        return self._pump.pump(max_rounds, timeout)

    def queues_drained(self) -> bool:
        """No message waiting or in flight in any queue a function reads (dead-letter queues aside)."""
        return self._pump.drained()

    def start_pump_thread(self, interval: float = 0.05) -> None:
        """Pump the queues and run due schedules continuously, in background threads (make local, the
        demo)."""
        self._pump.start_thread(interval)
        self._schedules.start_thread(interval)

    def stop_pump_thread(self) -> None:
        self._schedules.stop_thread()
        self._pump.stop_thread()

    # --- EventBridge Scheduler (schedules.py) ------------------------------------------------------

    def fire_schedules(self) -> int:
        """Run what is due on `clock` among the schedules moto holds, as EventBridge Scheduler would: each
        due schedule's target function invoked (asynchronously) as the schedule's role, with its Input as
        the event; then the retries of handler runs that failed. Returns the handler runs made."""
        return self._schedules.fire_due()

    def schedules_next_due(self) -> float | None:
        """Seconds until a schedule or a handler retry is due (0: one is), None when none is pending."""
        return self._schedules.next_due()

    def _async_retry(self, function: LocalFunction) -> AsyncRetry:
        configs = self.assembly.event_invoke_configs() if self.assembly is not None else {}
        return AsyncRetry.of(configs.get(function.logical_id))
