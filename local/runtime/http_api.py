"""The template's HTTP API served on loopback: each AWS::ApiGatewayV2::Route is matched as API Gateway
matches routes, its Lambda proxy integration receives a payload format 2.0 event, and the handler's
answer is translated to the HTTP response as API Gateway translates it.

Not emulated: SigV4 verification on AWS_IAM routes (every request is let through with the configured
local identity), throttling, CORS, JWT/Lambda authorizers, payload size limits.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.loopback import LoopbackHttpServer, RequestHandler
from local.runtime.runtime import LocalAws
from local.runtime.template import RouteDef

LOG = logging.getLogger(__name__)

_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/x-javascript")
NOT_FOUND = (404, {"message": "Not Found"})
INTERNAL_ERROR = (500, {"message": "Internal Server Error"})


def is_text(content_type: str) -> bool:
    """Request bodies of these types reach the function as text; any other body (or one without a
    content type) is base64-encoded with isBase64Encoded=true."""
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+json") or media.endswith("+xml")
    )


@dataclass(frozen=True)
class Route:
    definition: RouteDef
    pattern: re.Pattern[str]
    parameters: tuple[str, ...]  # path variable names, in order (their groups are g0, g1, ...)
    literals: int
    greedy: bool

    @classmethod
    def of(cls, definition: RouteDef) -> Route:
        names: list[str] = []
        parts: list[str] = []
        segments = [] if definition.path in ("$default", "/") else definition.path.strip("/").split("/")
        for segment in segments:
            if segment.startswith("{") and segment.endswith("+}"):
                parts.append(f"(?P<g{len(names)}>.+)")
                names.append(segment[1:-2])
            elif segment.startswith("{") and segment.endswith("}"):
                parts.append(f"(?P<g{len(names)}>[^/]+)")
                names.append(segment[1:-1])
            else:
                parts.append(re.escape(segment))
        return cls(
            definition=definition,
            pattern=re.compile("^/" + "/".join(parts) + "$"),
            parameters=tuple(names),
            literals=len(segments) - len(names),
            greedy=bool(segments) and segments[-1].endswith("+}"),
        )

    @property
    def is_default(self) -> bool:
        return self.definition.path == "$default"

    @property
    def route_key(self) -> str:
        return "$default" if self.is_default else f"{self.definition.method} {self.definition.path}"

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """The decoded path parameters when the route takes this request, else None."""
        if self.definition.method not in (method, "ANY"):
            return None
        if self.is_default:
            return {}
        found = self.pattern.match(raw_path)
        if found is None:
            return None
        return {name: unquote(found.group(f"g{i}")) for i, name in enumerate(self.parameters)}

    def precedence(self) -> tuple[int, int, int, int]:
        """Lower wins: specific routes, then greedy ones, then $default; more literal segments first;
        an exact method before ANY."""
        return (int(self.is_default), int(self.greedy), -self.literals, int(self.definition.method == "ANY"))


class HttpApiServer(LoopbackHttpServer):
    """Serves the template's HTTP API routes on 127.0.0.1:<port> through the real handlers."""

    def __init__(
        self,
        runtime: LocalAws,
        host: str = "127.0.0.1",
        port: int = 0,
        iam_identity: str = "arn:aws:iam::123456789012:user/local",
    ) -> None:
        super().__init__(host, port)
        self.runtime = runtime
        self.iam_identity = iam_identity
        if runtime.assembly is None:
            raise RuntimeError("start the LocalAws runtime before its HTTP API")
        self.routes = sorted((Route.of(r) for r in runtime.assembly.routes()), key=Route.precedence)
        apis = runtime.physical_ids_of("AWS::ApiGatewayV2::Api")
        self.api_id = next(iter(apis.values()), "local")

    def start(self) -> HttpApiServer:
        super().start()
        self.runtime.bind_api(self.base_url)
        return self

    def stop(self) -> None:
        if self.runtime.api_base_url == (self.base_url if self._server else None):
            self.runtime.bind_api(None)
        super().stop()

    def find_route(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            params = route.match(method.upper(), raw_path)
            if params is not None:
                return route, params
        return None

    def handle_request(self, request: RequestHandler) -> None:
        body = request.read_body()
        request_id = base64.b64encode(secrets.token_bytes(10)).decode()
        split = urlsplit(request.path)
        raw_path = split.path or "/"
        found = self.find_route(request.command, raw_path)
        if found is None:
            self._json(request, request_id, *NOT_FOUND)
            return
        route, params = found
        event = self.build_event(
            request,
            route,
            params=params,
            raw_path=raw_path,
            raw_query=split.query,
            body=body,
            request_id=request_id,
        )
        try:
            result = self.runtime.invoke(route.definition.function_logical_id, event)
            status, headers, payload = self.translate(result)
        except Exception:
            LOG.exception("%s %s: the integration failed", request.command, raw_path)
            self._json(request, request_id, *INTERNAL_ERROR)
            return
        request.send(status, [*headers, ("apigw-requestid", request_id)], payload)

    def build_event(
        self,
        request: RequestHandler,
        route: Route,
        *,
        params: dict[str, str],
        raw_path: str,
        raw_query: str,
        body: bytes,
        request_id: str,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in request.headers.items():
            key = name.lower()
            if key == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
                continue
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        source_ip = request.client_address[0]
        headers.setdefault("x-forwarded-for", source_ip)
        headers.setdefault("x-forwarded-proto", "http")
        headers.setdefault("x-forwarded-port", str(request.server.server_address[1]))
        headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}")
        now = datetime.now(UTC)
        domain = headers.get("host", f"{self.host}:{request.server.server_address[1]}")
        context: dict[str, Any] = {
            "accountId": self.runtime.account,
            "apiId": self.api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": request.command,
                "path": unquote(raw_path),
                "protocol": request.request_version,
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        }
        if route.definition.authorization == "AWS_IAM":
            context["authorizer"] = {"iam": self._iam_context(headers.get("authorization", ""))}
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": False,
        }
        if cookies:
            event["cookies"] = cookies
        if raw_query:
            query: dict[str, str] = {}
            for name, value in parse_qsl(raw_query, keep_blank_values=True):
                query[name] = f"{query[name]},{value}" if name in query else value
            event["queryStringParameters"] = query
        if params:
            event["pathParameters"] = params
        if body:
            if is_text(headers.get("content-type", "")):
                event["body"] = body.decode("utf-8", errors="replace")
            else:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        return event

    def _iam_context(self, authorization: str) -> dict[str, Any]:
        access_key = "AKIALOCALLOCALLOCAL0"
        if "Credential=" in authorization:
            access_key = authorization.split("Credential=", 1)[1].split("/", 1)[0]
        parts = self.iam_identity.split(":")
        account = parts[4] if len(parts) > 4 and parts[4] else self.runtime.account
        return {
            "accessKey": access_key,
            "accountId": account,
            "callerId": "AIDALOCALLOCALLOCAL00",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": self.iam_identity,
            "userId": "AIDALOCALLOCALLOCAL00",
        }

    @staticmethod
    def translate(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        """A payload 2.0 response -> (status, headers, body): each cookie becomes a Set-Cookie header;
        without statusCode the whole result is a JSON body with status 200 (API Gateway's inference).
        Raises on a malformed response (the caller answers 500)."""
        if not (isinstance(result, dict) and "statusCode" in result):
            return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
        status = int(result["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(f"invalid statusCode {status}")
        headers: list[tuple[str, str]] = []
        for name, value in (result.get("headers") or {}).items():
            headers.append((str(name), str(value)))
        if result.get("multiValueHeaders"):
            LOG.warning("multiValueHeaders is not part of payload format 2.0: API Gateway ignores it")
        headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
        raw = result.get("body")
        if raw is None:
            body = b""
        elif result.get("isBase64Encoded"):
            body = base64.b64decode(str(raw))
        else:
            body = str(raw).encode() if isinstance(raw, str) else json.dumps(raw).encode()
        return status, headers, body

    @staticmethod
    def _json(request: RequestHandler, request_id: str, status: int, payload: dict[str, Any]) -> None:
        request.send(
            status,
            [("Content-Type", "application/json"), ("apigw-requestid", request_id)],
            json.dumps(payload).encode(),
        )
