"""The synthesized CDK app as the local runtime reads it: the stack template, its assets, and what the
runtime needs to know about it (functions, routes, queues, event source mappings, custom resources).

`deployable_template` rewrites the template for moto's CloudFormation: resource types that moto cannot
create are taken out, and every reference to them is replaced by a value the runtime provides (a
secret it creates itself, a placeholder HTTP API id, a name or ARN built from the logical id).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANDLER_PREFIX = "functions."
_SPEC_HANDLER = re.compile(r"^functions\.handlers\.(?P<name>[A-Za-z0-9_]+)\.handler$")
_SUB_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z0-9]+)(?:\.(?P<attr>[A-Za-z0-9.]+))?\}")
_CDK_HASH = re.compile(r"[0-9A-F]{8}$")


def without_hash(logical_id: str) -> str:
    """A logical id without the hash suffix CDK adds (`UploadsQueue1A2B3C4D` -> `UploadsQueue`)."""
    return _CDK_HASH.sub("", logical_id)


class TemplateError(RuntimeError):
    """The cloud assembly is missing or does not hold what the local runtime needs."""


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    handler: str
    timeout_seconds: int
    memory_mb: int

    @property
    def spec_name(self) -> str | None:
        """`prepare` for `functions.handlers.prepare.handler`; None for handlers outside that layout."""
        match = _SPEC_HANDLER.match(self.handler)
        return match.group("name") if match else None


@dataclass(frozen=True)
class RouteDef:
    logical_id: str
    method: str  # upper case, or ANY
    path: str  # "/posts/{post_id}", "/{proxy+}", or "$default"
    authorization: str  # NONE | AWS_IAM | JWT | CUSTOM
    function_logical_id: str


@dataclass(frozen=True)
class EventSourceDef:
    logical_id: str
    queue_logical_id: str
    function_logical_id: str
    batch_size: int
    report_batch_item_failures: bool
    enabled: bool


@dataclass(frozen=True)
class CustomResourceDef:
    logical_id: str
    type: str
    properties: dict[str, Any]


@dataclass
class CloudAssembly:
    outdir: Path
    stack_name: str
    template: dict[str, Any]
    assets: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, outdir: Path, stack_name: str | None = None) -> CloudAssembly:
        manifest_path = outdir / "manifest.json"
        if not manifest_path.exists():
            raise TemplateError(f"{manifest_path} does not exist: synthesize the CDK app first")
        manifest = json.loads(manifest_path.read_text())
        stacks = {
            name: artifact
            for name, artifact in manifest.get("artifacts", {}).items()
            if artifact.get("type") == "aws:cloudformation:stack"
        }
        if stack_name is None:
            if len(stacks) != 1:
                raise TemplateError(f"{outdir} holds {len(stacks)} stacks {sorted(stacks)}: name one")
            stack_name = next(iter(stacks))
        if stack_name not in stacks:
            raise TemplateError(f"stack {stack_name!r} is not in {outdir} (found {sorted(stacks)})")
        properties = stacks[stack_name].get("properties", {})
        template_file = properties.get("templateFile", f"{stack_name}.template.json")
        template = json.loads((outdir / template_file).read_text())
        assets_path = outdir / f"{stack_name}.assets.json"
        assets = json.loads(assets_path.read_text()) if assets_path.exists() else {}
        return cls(outdir=outdir, stack_name=stack_name, template=template, assets=assets)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        return resources

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == kind}

    def asset_objects(self, account: str, region: str) -> list[tuple[str, str]]:
        """(bucket, key) of every file asset, as `cdk deploy` would have published them."""
        objects: list[tuple[str, str]] = []
        for asset in self.assets.get("files", {}).values():
            for destination in asset.get("destinations", {}).values():
                bucket = _pseudo(destination["bucketName"], account, region)
                objects.append((bucket, _pseudo(destination["objectKey"], account, region)))
        return objects

    def functions(self) -> dict[str, FunctionDef]:
        found: dict[str, FunctionDef] = {}
        for logical_id, resource in self.of_type("AWS::Lambda::Function").items():
            props = resource.get("Properties", {})
            found[logical_id] = FunctionDef(
                logical_id=logical_id,
                handler=str(props.get("Handler", "")),
                timeout_seconds=int(props.get("Timeout", 3)),
                memory_mb=int(props.get("MemorySize", 128)),
            )
        return found

    def routes(self) -> list[RouteDef]:
        integrations = {
            logical_id: referenced_logical_id(resource["Properties"].get("IntegrationUri"))
            for logical_id, resource in self.of_type("AWS::ApiGatewayV2::Integration").items()
        }
        routes: list[RouteDef] = []
        for logical_id, resource in self.of_type("AWS::ApiGatewayV2::Route").items():
            props = resource["Properties"]
            integration_id = referenced_logical_id(props.get("Target"))
            function_id = integrations.get(integration_id or "")
            if function_id is None:
                continue  # not a Lambda proxy integration: nothing to serve locally
            route_key = str(props["RouteKey"])
            method, _, path = route_key.partition(" ")
            if route_key == "$default":
                method, path = "ANY", "$default"
            routes.append(
                RouteDef(
                    logical_id=logical_id,
                    method=method.upper(),
                    path=path,
                    authorization=str(props.get("AuthorizationType", "NONE")),
                    function_logical_id=function_id,
                )
            )
        return routes

    def event_sources(self) -> list[EventSourceDef]:
        sources: list[EventSourceDef] = []
        for logical_id, resource in self.of_type("AWS::Lambda::EventSourceMapping").items():
            props = resource["Properties"]
            queue_id = referenced_logical_id(props.get("EventSourceArn"))
            function_id = referenced_logical_id(props.get("FunctionName"))
            if queue_id is None or function_id is None:
                continue
            if self.resources.get(queue_id, {}).get("Type") != "AWS::SQS::Queue":
                continue  # streams (DynamoDB, Kinesis) are not pumped by the runtime
            sources.append(
                EventSourceDef(
                    logical_id=logical_id,
                    queue_logical_id=queue_id,
                    function_logical_id=function_id,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                    enabled=bool(props.get("Enabled", True)),
                )
            )
        return sources

    def event_invoke_configs(self) -> dict[str, dict[str, Any]]:
        """Function logical id -> the properties of its AWS::Lambda::EventInvokeConfig (how Lambda retries
        the function's asynchronous invocations), for the functions that have one."""
        found: dict[str, dict[str, Any]] = {}
        for resource in self.of_type("AWS::Lambda::EventInvokeConfig").values():
            props = resource.get("Properties", {})
            function_id = referenced_logical_id(props.get("FunctionName"))
            if function_id is not None:
                found[function_id] = dict(props)
        return found

    def custom_resources(self) -> list[CustomResourceDef]:
        return [
            CustomResourceDef(logical_id, str(resource["Type"]), resource.get("Properties", {}))
            for logical_id, resource in self.resources.items()
            if str(resource.get("Type", "")).startswith("Custom::")
            or resource.get("Type") == "AWS::CloudFormation::CustomResource"
        ]


def _pseudo(value: str, account: str, region: str) -> str:
    return (
        value.replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", "aws")
    )


def referenced_logical_id(value: Any) -> str | None:
    """The logical id a Ref / Fn::GetAtt / `integrations/<Ref>` Fn::Join points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
        if "Fn::Join" in value:
            for part in value["Fn::Join"][1]:
                found = referenced_logical_id(part)
                if found:
                    return found
    return None


# A value for each reference to a resource moto does not create: (logical_id, attribute or None) -> value.
Substitute = Callable[[str, str | None], str]


def deployable_template(template: Mapping[str, Any], remove: Mapping[str, Substitute]) -> dict[str, Any]:
    """A copy of `template` without the resources in `remove`; every Ref, Fn::GetAtt and Fn::Sub
    reference to them is replaced by what their Substitute returns, and DependsOn entries dropped."""
    result = copy.deepcopy(dict(template))
    resources: dict[str, Any] = result.get("Resources", {})
    for logical_id in remove:
        resources.pop(logical_id, None)
    for logical_id, resource in list(resources.items()):
        depends = resource.get("DependsOn")
        if isinstance(depends, str):
            depends = [depends]
        if depends is not None:
            kept = [d for d in depends if d not in remove]
            if kept:
                resource["DependsOn"] = kept
            else:
                resource.pop("DependsOn")
        resources[logical_id] = substituted(resource, remove)
    if "Outputs" in result:
        result["Outputs"] = substituted(result["Outputs"], remove)
    return result


def substituted(value: Any, remove: Mapping[str, Substitute]) -> Any:
    """`value` with every Ref, Fn::GetAtt and Fn::Sub reference to a resource of `remove` replaced by what
    its Substitute returns (references to other resources are left for CloudFormation to resolve)."""

    def rewrite(value: Any) -> Any:
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"} and value["Ref"] in remove:
            return remove[value["Ref"]](value["Ref"], None)
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            name, attr = (target[0], target[1]) if isinstance(target, list) else str(target).split(".", 1)
            if name in remove:
                return remove[name](name, str(attr))
        if set(value) == {"Fn::Sub"}:
            return {"Fn::Sub": _rewrite_sub(value["Fn::Sub"], remove, rewrite)}
        return {key: rewrite(item) for key, item in value.items()}

    return rewrite(value)


def _rewrite_sub(value: Any, remove: Mapping[str, Substitute], rewrite: Callable[[Any], Any]) -> Any:
    def replace(match: re.Match[str]) -> str:
        name, attr = match.group("name"), match.group("attr")
        return remove[name](name, attr) if name in remove else match.group(0)

    if isinstance(value, str):
        return _SUB_REFERENCE.sub(replace, value)
    if isinstance(value, list) and value:
        return [_SUB_REFERENCE.sub(replace, str(value[0])), *(rewrite(v) for v in value[1:])]
    return value
