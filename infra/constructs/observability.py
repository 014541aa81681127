"""Alarms (DLQ depth, failed executions, function errors) to an encrypted SNS topic, and a dashboard."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

NAMESPACE = "TikTokPublisher"


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: dict[str, lambda_.Function],
        dead_letter_queues: dict[str, sqs.IQueue],
        state_machine: sfn.StateMachine,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self,
            "AlarmTopicKey",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=Duration.days(7),
            description="tiktok-publisher alarm topic",
        )
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []

        for name, dlq in dead_letter_queues.items():
            self._alarm(
                f"{name}DlqNotEmpty",
                dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                f"Messages in the {name} dead-letter queue: an event could not be processed",
                action,
            )
        self._alarm(
            "ExecutionsFailed",
            state_machine.metric_failed(period=Duration.minutes(5)),
            "A publishing execution failed outside the recorded-failure path",
            action,
        )
        for name, fn in functions.items():
            self._alarm(
                f"{name}Errors", fn.metric_errors(period=Duration.minutes(5)), f"{name} raised errors", action
            )

        def posts(metric: str) -> cw.Metric:
            return cw.Metric(
                namespace=NAMESPACE,
                metric_name=metric,
                statistic="Sum",
                period=Duration.minutes(5),
                dimensions_map={"service": "tiktok-publisher-finish"},
            )

        self.dashboard = cw.Dashboard(self, "Dashboard")
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Posts", left=[posts("PostPublished"), posts("PostFailed")]),
            cw.GraphWidget(
                title="Waiting for quota",
                left=[
                    cw.Metric(
                        namespace=NAMESPACE,
                        metric_name="QuotaWait",
                        statistic="Sum",
                        period=Duration.minutes(5),
                        dimensions_map={"service": "tiktok-publisher-reserve-quota"},
                    )
                ],
            ),
            cw.GraphWidget(
                title="Bytes uploaded to TikTok",
                left=[
                    cw.Metric(
                        namespace=NAMESPACE,
                        metric_name="BytesUploaded",
                        statistic="Sum",
                        period=Duration.minutes(5),
                        dimensions_map={"service": "tiktok-publisher-upload-chunks"},
                    )
                ],
            ),
            cw.GraphWidget(
                title="TikTok errors",
                left=[
                    cw.MathExpression(
                        expression=f"SEARCH('{{{NAMESPACE},service,code}} MetricName=\"TikTokError\"', 'Sum', 300)",
                        label="TikTok errors by code",
                        using_metrics={},
                    )
                ],
            ),
        )
        self.dashboard.add_widgets(
            *[
                cw.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24),
            ]
        )

    def _alarm(self, name: str, metric: cw.IMetric, description: str, action: cw_actions.SnsAction) -> None:
        alarm = cw.Alarm(
            self,
            name,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(action)
        self.alarms.append(alarm)
