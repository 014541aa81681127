"""The media domain TikTok pulls from (PULL_FROM_URL): CloudFront over the private media bucket, always.

The bucket stays private (origin access control); CloudFront serves only URLs signed with the stack's key
(trusted key group), which the functions issue per post, valid for TikTok's pull window. The key pair is
made at deploy time by a custom resource (functions/handlers/media_key.py): the private key goes straight
into a secret, and only the public key reaches CloudFront. The operator's domain and certificate are
optional. TikTok requires the domain (or a URL prefix) verified in its developer portal: the one file
TikTok asks to find at the prefix (`tiktok*.txt`) is served unsigned from VERIFICATION_PREFIX in the bucket.
"""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.posting.media_urls import VERIFICATION_PREFIX


class MediaDelivery(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        log_bucket: s3.IBucket,
        key_maker: lambda_.IFunction,
        domain_name: str = "",
        certificate_arn: str = "",
        encryption_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # The private key: written by the key pair's custom resource, read by the functions that sign URLs.
        self.signing_secret = secretsmanager.Secret(
            self,
            "SigningPrivateKey",
            description="PEM private key of the CloudFront key pair of tiktok-publisher's media domain (made at "
            "deploy time)",
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
        key_pair = CustomResource(
            self,
            "SigningKeyPair",
            service_token=key_maker.function_arn,
            resource_type="Custom::MediaSigningKey",
            properties={"SecretArn": self.signing_secret.secret_arn},
        )
        public_key = cloudfront.PublicKey(
            self,
            "SigningKey",
            encoded_key=key_pair.get_att_string("PublicKeyPem"),
            comment="tiktok-publisher pull URLs",
        )
        key_group = cloudfront.KeyGroup(self, "Signers", items=[public_key])
        # S3 needs versionId to serve the exact object version a post was made from.
        versioned = cloudfront.CachePolicy(
            self,
            "ByVersion",
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list("versionId"),
            default_ttl=Duration.hours(1),
            max_ttl=Duration.hours(2),
            min_ttl=Duration.seconds(0),
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn)
            if certificate_arn
            else None
        )
        verification = cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(
                bucket, origin_path="/" + VERIFICATION_PREFIX.rstrip("/")
            ),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="tiktok-publisher media for TikTok's PULL_FROM_URL",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=versioned,
                trusted_key_groups=[key_group],
            ),
            # TikTok's URL-prefix verification fetches one file, unsigned, at the prefix's root.
            additional_behaviors={"/tiktok*.txt": verification},
            domain_names=[domain_name] if domain_name and certificate else None,
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        self._skip_checkov(custom_certificate=certificate is not None)
        self.key_pair_id = public_key.public_key_id
        self.base_url = f"https://{domain_name or self.distribution.distribution_domain_name}"

    def _skip_checkov(self, *, custom_certificate: bool) -> None:
        """checkov findings that do not apply to this distribution, with the reason next to the resource."""
        skips = [
            {
                "id": "CKV_AWS_68",
                "comment": "Every request must carry a CloudFront signature for one object version that expires after "
                "TikTok's pull window; a WAF adds cost and no further gate",
            }
        ]
        if not custom_certificate:
            skips.append(
                {
                    "id": "CKV_AWS_174",
                    "comment": "Without the operator's domain CloudFront's default certificate fixes the TLS policy; "
                    "set media_domain and media_certificate_arn to enforce TLS 1.2",
                }
            )
        resource = self.distribution.node.default_child
        if not isinstance(resource, cloudfront.CfnDistribution):
            raise TypeError("Distribution's default child is expected to be a CfnDistribution")
        resource.add_metadata("checkov", {"skip": skips})
