"""Custom::MediaSigningKey: the CloudFront signing key pair of the media domain, made at deploy time.

Create (and Update, which rotates it): a new RSA pair; the private key goes straight into the signing
secret, and only the public key is returned (as the `PublicKeyPem` attribute CloudFront's PublicKey
reads). The private key never reaches the template, the assembly, a log or an output. Delete: nothing to
do (the secret is deleted with its own resource).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.cfn_response import respond
from functions.observability import logger
from functions.posting.media_urls import new_signing_key_pair
from functions.store.secrets import store_secret

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    request = str(event.get("RequestType", ""))
    secret_arn = str((event.get("ResourceProperties") or {}).get("SecretArn", ""))
    physical_id = str(event.get("PhysicalResourceId") or secret_arn or "media-signing-key")
    logger.info("media signing key", extra={"request": request})
    if request == "Delete":
        respond(event, ok=True, physical_id=physical_id)
        return
    try:
        if request not in ("Create", "Update") or not secret_arn:
            raise ValueError(f"a {request or 'nameless'} request with SecretArn {secret_arn or 'missing'}")
        private_pem, public_pem = new_signing_key_pair()
        store_secret(secret_arn, private_pem)
    except Exception as exc:  # CloudFormation must hear of every failure, or the deploy hangs an hour
        logger.info("media signing key failed", extra={"error": type(exc).__name__})
        respond(event, ok=False, physical_id=physical_id, reason=f"{type(exc).__name__}: {exc}"[:500])
        return
    respond(event, ok=True, physical_id=secret_arn, data={"PublicKeyPem": public_pem})
