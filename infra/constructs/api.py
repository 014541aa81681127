"""The HTTP API: public OAuth, webhook and review-page routes, IAM-authorised management routes."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.settings import Env

# (method, path, function, IAM auth). The local runtime serves the same routes from the template.
ROUTES: tuple[tuple[str, str, str, bool], ...] = (
    ("GET", "/connect", "oauth", False),
    ("GET", "/oauth/callback", "oauth", False),
    ("POST", "/webhooks/tiktok", "webhook", False),
    ("GET", "/posts", "api", True),
    ("POST", "/posts", "api", True),
    ("GET", "/posts/{post_id}", "api", True),
    ("DELETE", "/posts/{post_id}", "api", True),
    ("GET", "/posts/{post_id}/metrics", "api", True),
    ("GET", "/accounts", "api", True),
    ("GET", "/accounts/{account_id}", "api", True),
    ("DELETE", "/accounts/{account_id}", "api", True),
    ("PUT", "/accounts/{account_id}/preferences", "api", True),
    ("GET", "/accounts/{account_id}/quota", "api", True),
    ("GET", "/review/{token}", "review", False),
    ("POST", "/review/{token}", "review", False),
)
# Functions that write review links (`<api>/review/<token>`) learn the API's address from here.
REVIEW_LINK_FUNCTIONS = ("register_review", "review")

_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","routeKey":"$context.routeKey",'
    '"status":"$context.status","latency":"$context.responseLatency","integrationError":'
    '"$context.integrationErrorMessage","requestTime":"$context.requestTime"}'
)


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: dict[str, lambda_.IFunction],
        removal_policy: RemovalPolicy,
        throttle_rate: float = 20,
        throttle_burst: int = 40,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(self, "Api", create_default_stage=False, description="tiktok-publisher")
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal_policy
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
        )
        cfn_stage = self.stage.node.default_child
        if not isinstance(cfn_stage, apigw.CfnStage):
            raise TypeError("HttpStage's default child is expected to be a CfnStage")
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=_ACCESS_LOG_FORMAT
        )
        iam_auth = authorizers.HttpIamAuthorizer()
        integration_by_fn: dict[str, integrations.HttpLambdaIntegration] = {}
        for method, path, fn_name, needs_iam in ROUTES:
            integration = integration_by_fn.setdefault(
                fn_name, integrations.HttpLambdaIntegration(f"{fn_name}Integration", functions[fn_name])
            )
            self.api.add_routes(
                path=path,
                methods=[apigw.HttpMethod(method)],
                integration=integration,
                authorizer=iam_auth if needs_iam else apigw.HttpNoneAuthorizer(),
            )

        for name in REVIEW_LINK_FUNCTIONS:
            fn = functions.get(name)
            if isinstance(fn, lambda_.Function):
                fn.add_environment(Env.REVIEW_BASE_URL, f"{self.url}review")

    @property
    def url(self) -> str:
        return self.stage.url
