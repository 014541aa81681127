"""The management API over HTTP, every call SigV4-signed (service `execute-api`) with the caller's AWS
credentials: API Gateway lets IAM-authorised routes through only so. The local stack does not check the
signature; it is sent all the same, so both paths run the same code."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from publisher_cli.errors import CliError

if TYPE_CHECKING:
    from publisher_cli.endpoints import Stack

TIMEOUT_SECONDS = 60.0


class ApiError(CliError):
    """The API answered with an error: its status, its `message` and the `problems` it listed."""

    def __init__(self, method: str, path: str, status: int, message: str, problems: list[str]) -> None:
        self.status = status
        self.api_message = message
        self.problems = problems
        text = message + (": " + "; ".join(problems) if problems else "")
        super().__init__(f"{text} (HTTP {status} from {method} {path})")

    @property
    def transient(self) -> bool:
        """Throttled or a server error: asking again later may succeed."""
        return self.status == 429 or self.status >= 500


class ApiUnreachable(CliError):
    """No answer at all: the connection failed or timed out."""

    transient = True


def _error_fields(response: requests.Response) -> tuple[str, list[str]]:
    try:
        body = response.json()
    except ValueError:
        return (response.text.strip()[:300] or response.reason or "no answer"), []
    if not isinstance(body, dict):
        return json.dumps(body)[:300], []
    problems = body.get("problems")
    message = str(body.get("message") or body.get("Message") or response.reason or "error")
    return message, [str(p) for p in problems] if isinstance(problems, list) else []


class ApiClient:
    def __init__(self, stack: Stack, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.stack = stack
        self.base_url = stack.api_url
        self.timeout = timeout
        self._http = requests.Session()

    def _signed(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        credentials = self.stack.session.get_credentials()
        if credentials is None:
            raise CliError(
                "no AWS credentials to sign the API call: configure them (aws configure, AWS_PROFILE, "
                "AWS_ACCESS_KEY_ID...) or pass --profile"
            )
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        headers = (
            {"Content-Type": request.headers["Content-Type"]} if "Content-Type" in request.headers else {}
        )
        aws = AWSRequest(method=request.method, url=request.url, data=body, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", self.stack.region).add_auth(aws)
        request.headers.update(dict(aws.headers.items()))
        return request

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        accept: Collection[int] = (200,),
    ) -> tuple[int, Any]:
        """(status, JSON body) for an answer whose status is in `accept`; ApiError for any other."""
        request = requests.Request(
            method, f"{self.base_url}{path}", params=dict(params or {}), json=body
        ).prepare()
        try:
            response = self._http.send(self._signed(request), timeout=self.timeout)
        except requests.Timeout:
            raise ApiUnreachable(
                f"the API at {self.base_url} did not answer {method} {path} within {self.timeout:.0f} s"
            ) from None
        except requests.ConnectionError as exc:
            hint = ": is `make local` still running?" if self.stack.local else ""
            raise ApiUnreachable(
                f"cannot reach the API at {self.base_url}{hint} ({type(exc).__name__})"
            ) from None
        if response.status_code not in accept:
            message, problems = _error_fields(response)
            raise ApiError(method, path, response.status_code, message, problems)
        try:
            return response.status_code, response.json()
        except ValueError:
            raise CliError(f"the API answered {method} {path} with something other than JSON") from None

    def get(self, path: str, **params: str) -> Any:
        return self.call("GET", path, params=params)[1]
