"""The local AWS runtime: the synthesized CDK stack deployed into moto, every Lambda handler run in
process, the HTTP API and the media distribution served on loopback.

    with LocalAws(env_overrides={"TIKTOK_API_BASE_URL": sandbox_url}) as aws, HttpApiServer(aws) as api:
        aws.client("s3").put_object(Bucket=aws.bucket, Key="posts/acct/video.mp4", Body=data)
        aws.pump_queues()
"""

from local.runtime.http_api import HttpApiServer
from local.runtime.lambdas import FakeContext, InProcessLambdas, LocalFunction
from local.runtime.media_server import MediaServer
from local.runtime.runtime import LocalAws
from local.runtime.synthesis import synthesize
from local.runtime.template import CloudAssembly, TemplateError

__all__ = [
    "CloudAssembly",
    "FakeContext",
    "HttpApiServer",
    "InProcessLambdas",
    "LocalAws",
    "LocalFunction",
    "MediaServer",
    "TemplateError",
    "synthesize",
]
