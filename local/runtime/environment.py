"""The environment a handler runs with: what Lambda would set, the deployed Environment with the HTTP
API's AWS endpoints pointed at the local server once one is bound, then the runtime's own values."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from local.runtime.clients import FAKE_CREDENTIALS
from local.runtime.lambdas import LocalFunction


def localised(value: str, api_endpoints: Iterable[str], api_base_url: str | None) -> str:
    """`value` with the template's HTTP API endpoints replaced by the local server's URL, if one is bound."""
    if api_base_url:
        for endpoint in api_endpoints:
            value = value.replace(endpoint, api_base_url)
    return value


def function_environment(
    function: LocalFunction,
    *,
    region: str,
    endpoint_url: str | None,
    overrides: Mapping[str, str],
    localise: Callable[[str], str],
) -> dict[str, str]:
    """Lambda's reserved variables, then the deployed Environment (localised), then the runtime's own
    (the moto server's endpoint in server mode), then the overrides."""
    env = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        **(function.credentials or FAKE_CREDENTIALS),
        "_HANDLER": function.handler,
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
    }
    env.update({key: localise(value) for key, value in function.environment.items()})
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update(overrides)
    return env
