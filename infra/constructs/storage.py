"""The media bucket: private, versioned, encrypted; new objects under posts/ are queued for start_post."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

POSTS_PREFIX = "posts/"


class MediaStorage(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy, uploads_queue: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        auto_delete = removal_policy == RemovalPolicy.DESTROY
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete,
        )
        self.bucket = s3.Bucket(
            self,
            "Media",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="media/",
            lifecycle_rules=[
                s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30)),
                s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(2)),
            ],
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete,
        )
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(uploads_queue),
            s3.NotificationKeyFilter(prefix=POSTS_PREFIX),
        )
