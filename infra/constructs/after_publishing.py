"""The work after publishing (functions/posting/after_publish.py): EventBridge Scheduler invokes the
after_publish function at the times the functions schedule, as a role that may do that and nothing else.

Schedules live in the default group under the stack's name prefix; the functions that schedule may create
schedules with that prefix only, and pass the scheduler's role to EventBridge Scheduler only.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions.settings import Env

SCHEDULER = "scheduler.amazonaws.com"


class AfterPublishing(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        target: lambda_.Function,
        schedulers: Iterable[lambda_.Function],
        schedule_prefix: str,
        snapshot_ages: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "SchedulerRole",
            description="EventBridge Scheduler invoking tiktok-publisher's after_publish function",
            assumed_by=iam.ServicePrincipal(
                SCHEDULER, conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[target.function_arn])
        )
        schedules = f"arn:{Aws.PARTITION}:scheduler:{Aws.REGION}:{Aws.ACCOUNT_ID}:schedule/default/{schedule_prefix}-*"
        for fn in schedulers:
            fn.add_to_role_policy(
                iam.PolicyStatement(actions=["scheduler:CreateSchedule"], resources=[schedules])
            )
            fn.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[self.role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": SCHEDULER}},
                )
            )
            fn.add_environment(Env.SCHEDULER_ROLE_ARN, self.role.role_arn)
            fn.add_environment(Env.SCHEDULE_PREFIX, schedule_prefix)
            fn.add_environment(Env.SNAPSHOT_AGES, snapshot_ages)
            if fn is not target:  # the target schedules its own work with the ARN it is invoked as
                fn.add_environment(Env.AFTER_PUBLISH_ARN, target.function_arn)
