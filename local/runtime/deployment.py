"""The cloud assembly deployed into moto: the template through moto's CloudFormation, and what it cannot
create provided by the runtime itself (see `Deployer._plan_removals`): the Secrets Manager secret
(created directly, with the values given to the runtime), the HTTP API (served by `HttpApiServer` from
the template's routes), CDK's custom resources (the S3 bucket notification is applied with the S3 API,
auto-delete is moot), bucket versioning, and the bucket and queue policies (applied with their APIs when
the runtime enforces IAM, which reads them); alarms are not emulated. Kept apart from `LocalAws` because it
runs once, at start, and leaves only the `Deployment` record behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import secrets as pysecrets
import string
import uuid
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.runtime.iam import IamEnforcement
from local.runtime.lambdas import Handler, InProcessLambdas, LocalFunction, clear_left_environment
from local.runtime.moto_patches import copy_to_executing_backend
from local.runtime.template import (
    HANDLER_PREFIX,
    CloudAssembly,
    Substitute,
    deployable_template,
    referenced_logical_id,
    substituted,
    without_hash,
)

LOG = logging.getLogger(__name__)

BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
_SECRET_ALPHABET = string.ascii_letters + string.digits


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


# Custom resources one of the stack's own functions serves: `_run_own_custom_resources` runs them.
OWN_CUSTOM_RESOURCES = ("Custom::MediaSigningKey",)


@dataclass
class Deployment:
    """What the deployment left, by logical id; empty until the runtime starts."""

    stack_outputs: dict[str, str] = field(default_factory=dict)
    physical_ids: dict[str, str] = field(default_factory=dict)  # deployed and runtime-provided
    skipped_resources: dict[str, str] = field(default_factory=dict)  # type, not created in moto
    api_endpoints: list[str] = field(default_factory=list)  # https://<id>.execute-api.<region>.amazonaws.com
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    functions: dict[str, LocalFunction] = field(default_factory=dict)  # the ones the runtime runs
    # What each of our own custom resources answered CloudFormation (its Fn::GetAtt attributes).
    custom_data: dict[str, dict[str, str]] = field(default_factory=dict)
    # The public keys CloudFront would trust for signed URLs: key id (what a Ref to it gives) -> PEM.
    cloudfront_public_keys: dict[str, str] = field(default_factory=dict)

    def function(self, name: str) -> LocalFunction:
        """By spec name, logical id (with or without its hash), physical name or ARN."""
        for fn in self.functions.values():
            if name in (fn.spec_name, fn.logical_id, fn.name, without_hash(fn.logical_id), fn.arn):
                return fn
        raise KeyError(f"no function named {name!r}")

    def physical_name(self, name: str) -> str | None:
        """A function's by spec name, else a resource's by logical id (with or without its hash)."""
        for fn in self.functions.values():
            if name == fn.spec_name:
                return fn.name
        if name in self.physical_ids:
            return self.physical_ids[name]
        matches = [pid for lid, pid in self.physical_ids.items() if without_hash(lid) == name]
        return matches[0] if len(matches) == 1 else None

    def queue_urls_by_name(self) -> dict[str, str]:
        """`uploads`, `uploads_dlq`, ...: the logical ids without hash, in snake case, less `_queue`."""
        urls: dict[str, str] = {}
        for logical_id, url in self.queue_urls.items():
            key = _snake(without_hash(logical_id))
            urls[key.removesuffix("_queue")] = url
        return urls


def validate_overrides(assembly: CloudAssembly, handler_overrides: Mapping[str, Handler]) -> None:
    """Fail at start on an override that names no function, rather than run the real handler."""
    known: set[str] = set()
    for fn in assembly.functions().values():
        known |= {fn.logical_id, without_hash(fn.logical_id)}
        if fn.spec_name:
            known.add(fn.spec_name)
    unknown = sorted(set(handler_overrides) - known)
    if unknown:
        raise ValueError(f"handler_overrides name no function of the template: {unknown}")


class Deployer:
    """Deploys an assembly into the running mock, recording what it made in `deployed`."""

    def __init__(
        self,
        deployed: Deployment,
        *,
        client: Callable[[str], Any],
        lambdas: InProcessLambdas,
        account: str,
        region: str,
        secrets: Mapping[str, str],
        handler_overrides: Mapping[str, Handler],
        iam: IamEnforcement | None = None,
    ) -> None:
        self.deployed = deployed
        self._iam = iam
        self._client = client
        self._lambdas = lambdas
        self.account = account
        self.region = region
        self._secret_values = secrets
        self._handler_overrides = handler_overrides

    def deploy(self, assembly: CloudAssembly) -> None:
        self._seed_bootstrap(assembly)
        removals = self._plan_removals(assembly)
        self._removals = removals
        template = deployable_template(assembly.template, removals)
        cfn = self._client("cloudformation")
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
        self.deployed.stack_outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        for resource in cfn.describe_stack_resources(StackName=assembly.stack_name)["StackResources"]:
            if "PhysicalResourceId" in resource:
                self.deployed.physical_ids[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
            else:
                LOG.debug("no physical id for %s", resource["LogicalResourceId"])

        sfn = self._client("stepfunctions")
        for logical_id in assembly.of_type("AWS::StepFunctions::StateMachine"):
            arn = copy_to_executing_backend(
                sfn, self.account, self.region, self.deployed.physical_ids[logical_id]
            )
            if self._iam is not None:
                role = sfn.describe_state_machine(stateMachineArn=arn)["roleArn"]
                self._iam.assume(self._client("sts"), role, "state_machine")
        self._map_queues(assembly)
        self._apply_bucket_versioning(assembly)
        self._disable_moto_event_source_mappings()
        if self._iam is not None:  # first: S3 checks the queue policy as it saves notifications
            self._apply_resource_policies(assembly)
        self._apply_custom_resources(assembly)
        self._register_functions(assembly)
        self._run_own_custom_resources(assembly)
        self._collect_cloudfront_public_keys(assembly)

    def _seed_bootstrap(self, assembly: CloudAssembly) -> None:
        """What `cdk bootstrap` and asset publishing would have left in the account."""
        self._client("ssm").put_parameter(
            Name=BOOTSTRAP_VERSION_PARAMETER, Value="30", Type="String", Overwrite=True
        )
        s3 = self._client("s3")
        empty_zip = io.BytesIO()
        zipfile.ZipFile(empty_zip, "w").close()
        created: set[str] = set()
        for bucket, key in assembly.asset_objects(self.account, self.region):
            if bucket not in created:
                self._create_bucket(bucket)
                created.add(bucket)
            s3.put_object(Bucket=bucket, Key=key, Body=empty_zip.getvalue())

    def _create_bucket(self, bucket: str) -> None:
        s3 = self._client("s3")
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
                self.deployed.api_endpoints.append(endpoint)
                self.deployed.physical_ids[logical_id] = api_id
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
            self.deployed.skipped_resources[logical_id] = kind
        return removals

    def _constant(self, logical_id: str, value: str) -> Substitute:
        self.deployed.physical_ids[logical_id] = value
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
        created = self._client("secretsmanager").create_secret(
            Name=str(properties.get("Name", logical_id)),
            Description=str(properties.get("Description", "")),
            SecretString=value,
        )
        return str(created["ARN"])

    def _secret_value_for(self, logical_id: str) -> str | None:
        for key, value in self._secret_values.items():
            if key in (logical_id, without_hash(logical_id)):
                return value
        return None

    def _map_queues(self, assembly: CloudAssembly) -> None:
        sqs = self._client("sqs")
        for logical_id in assembly.of_type("AWS::SQS::Queue"):
            url = self.deployed.physical_ids[logical_id]
            if not url.startswith("http"):
                url = sqs.get_queue_url(QueueName=url)["QueueUrl"]
            self.deployed.queue_urls[logical_id] = url
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            self.deployed.queue_arns[logical_id] = attributes["Attributes"]["QueueArn"]

    def _disable_moto_event_source_mappings(self) -> None:
        """moto would invoke the function inside SendMessage, on the sender's thread, and delete the whole
        batch on success; `QueuePump` delivers instead."""
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
                self._client("s3").put_bucket_notification_configuration(
                    Bucket=properties["BucketName"],
                    NotificationConfiguration=properties.get("NotificationConfiguration", {}),
                )
            elif custom.type not in ("Custom::S3AutoDeleteObjects", *OWN_CUSTOM_RESOURCES):
                LOG.warning("custom resource %s (%s) is not emulated locally", custom.logical_id, custom.type)

    def _run_own_custom_resources(self, assembly: CloudAssembly) -> None:
        """Custom resources served by one of the stack's own functions run as CloudFormation runs them: a
        Create request to the function (in process, under its role), its answer taken at its ResponseURL."""
        from local.runtime.cfn_responses import ResponseCatcher

        for custom in assembly.custom_resources():
            function = self.deployed.functions.get(
                referenced_logical_id(custom.properties.get("ServiceToken")) or ""
            )
            if function is None:
                continue
            properties = {k: self._resolved(v) for k, v in custom.properties.items() if k != "ServiceToken"}
            with ResponseCatcher() as catcher:
                event = {
                    "RequestType": "Create",
                    "ResponseURL": catcher.url,
                    "StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{assembly.stack_name}/local",
                    "RequestId": str(uuid.uuid4()),
                    "LogicalResourceId": custom.logical_id,
                    "ResourceType": custom.type,
                    "ResourceProperties": properties,
                }
                self._lambdas.call(function, event)
                answer = catcher.answer()
            if answer.get("Status") != "SUCCESS":
                raise RuntimeError(f"custom resource {custom.logical_id} failed: {answer.get('Reason')}")
            self.deployed.custom_data[custom.logical_id] = {
                k: str(v) for k, v in answer.get("Data", {}).items()
            }
        clear_left_environment()  # nothing else runs during a deployment; leave no function's settings set

    def _collect_cloudfront_public_keys(self, assembly: CloudAssembly) -> None:
        """moto has no CloudFront key groups; the media server checks signed URLs against these keys."""
        for logical_id, resource in assembly.of_type("AWS::CloudFront::PublicKey").items():
            encoded = resource.get("Properties", {}).get("PublicKeyConfig", {}).get("EncodedKey")
            if isinstance(encoded, dict) and "Fn::GetAtt" in encoded:
                target = encoded["Fn::GetAtt"]
                name, attr = (target[0], target[1]) if isinstance(target, list) else str(target).split(".", 1)
                encoded = self.deployed.custom_data.get(str(name), {}).get(str(attr))
            if isinstance(encoded, str):
                self.deployed.cloudfront_public_keys[
                    self.deployed.physical_ids.get(logical_id, logical_id)
                ] = encoded

    def _resolved(self, value: Any) -> Any:
        """A property as CloudFormation passes it: a Ref to a resource becomes its physical id."""
        referenced = (
            referenced_logical_id(value) if isinstance(value, dict) and set(value) == {"Ref"} else None
        )
        if referenced is not None:
            return self.deployed.physical_ids[referenced]
        return value

    def _apply_bucket_versioning(self, assembly: CloudAssembly) -> None:
        """moto's CloudFormation creates buckets unversioned whatever the template says."""
        for logical_id, resource in assembly.of_type("AWS::S3::Bucket").items():
            status = resource.get("Properties", {}).get("VersioningConfiguration", {}).get("Status")
            if status:
                self._client("s3").put_bucket_versioning(
                    Bucket=self.deployed.physical_ids[logical_id], VersioningConfiguration={"Status": status}
                )

    def _apply_resource_policies(self, assembly: CloudAssembly) -> None:
        """What moto's CloudFormation skips but IAM decisions read: bucket and queue policies, and the KMS key
        of each secret (the runtime created the secrets before their key existed)."""
        from moto.cloudformation.models import cloudformation_backends
        from moto.cloudformation.parsing import clean_json

        stack = cloudformation_backends[self.account][self.region].get_stack(assembly.stack_name)

        def resolved(value: Any) -> Any:  # what moto did not create takes its substitute first
            return clean_json(substituted(value, self._removals), stack.resource_map)

        for resource in assembly.of_type("AWS::S3::BucketPolicy").values():
            properties = resolved(resource["Properties"])
            self._client("s3").put_bucket_policy(
                Bucket=properties["Bucket"], Policy=json.dumps(properties["PolicyDocument"])
            )
        for resource in assembly.of_type("AWS::SQS::QueuePolicy").values():
            properties = resolved(resource["Properties"])
            for url in properties["Queues"]:
                self._client("sqs").set_queue_attributes(
                    QueueUrl=url, Attributes={"Policy": json.dumps(properties["PolicyDocument"])}
                )
        for logical_id, resource in assembly.of_type("AWS::SecretsManager::Secret").items():
            key = resource.get("Properties", {}).get("KmsKeyId")
            if key is not None:
                self._client("secretsmanager").update_secret(
                    SecretId=self.deployed.physical_ids[logical_id],
                    KmsKeyId=clean_json(key, stack.resource_map),
                )

    def _register_functions(self, assembly: CloudAssembly) -> None:
        lam = self._client("lambda")
        for logical_id, definition in assembly.functions().items():
            if not definition.handler.startswith(HANDLER_PREFIX):
                continue  # CDK's own provider functions: their work is emulated by the runtime
            name = self.deployed.physical_ids[logical_id]
            configuration = lam.get_function_configuration(FunctionName=name)
            override = None
            for key in (definition.spec_name, logical_id, without_hash(logical_id)):
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
                role_arn=str(configuration["Role"]),
            )
            if self._iam is not None:
                function.credentials = self._iam.assume(
                    self._client("sts"), function.role_arn or "", definition.spec_name or logical_id
                )
            self._lambdas.register(function)
            self.deployed.functions[logical_id] = function
