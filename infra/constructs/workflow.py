"""The publishing state machine: Prepare -> [repair] -> [review] -> [wait for publish_at] -> ReserveQuota ->
Init -> Upload -> Await -> Finish, with every failure caught into a recorded failure.

State data stays small and secret-free: the post id plus each step's short result under its own key
(`$.prepare`, `$.repair`, `$.quota`, `$.init`, `$.upload`, `$.outcome`). Tokens and media never travel
through it.
Timestamps are written as YYYY-MM-DDTHH:MM:SSZ (whole seconds, Z), the only form every runtime compares.
A direct video whose webhook arrives passes 11 states, whatever its size (the choice after Prepare routes to
the repair, the review, the publish_at wait or ReserveQuota at once, so a post that needs neither pays
nothing for them; a repaired post passes Repair and the choice once more).
A post that needs review waits in AwaitReview (a task token kept on the post) until the creator decides on
the review page; when the review link expires first, the post fails with `review_expired`.
"""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.config import DeploymentConfig

# Errors raised by our steps (Python class names, which Lambda reports as the error type).
TRANSIENT_ERRORS = ["TransientStepError"]
QUOTA_ERRORS = ["QuotaWaitError"]
# Media that cannot be repaired (functions/repair/results.py): the post fails with the reason given.
REPAIR_REFUSED = ["RepairRefusedError"]
# TikTok failed the post with a reason it says to retry: back to ReserveQuota, which waits out the backoff.
TIKTOK_RETRY_ERRORS = ["TikTokRetryError"]
# 15 min doubling to 6 h: 24 attempts span up to about 5 days (about half that with full jitter).
QUOTA_RETRY_ATTEMPTS = 24
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


def _flag_set(path: str) -> sfn.Condition:
    """`path` is present and true (a step's optional boolean; a Choice on a missing path fails)."""
    return sfn.Condition.and_(sfn.Condition.is_present(path), sfn.Condition.boolean_equals(path, True))


class PublishWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: dict[str, lambda_.IFunction],
        state_machine_name: str,
        await_timeout: Duration,
        removal_policy: RemovalPolicy,
        review_timeout: Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        fns = functions
        if review_timeout is None:  # the review link's lifetime (context review_expiry_seconds)
            review_timeout = Duration.seconds(DeploymentConfig.from_context(self).review_expiry_seconds)

        record_failure = self._task(
            "RecordFailure",
            fns["finish"],
            {
                "post_id": sfn.JsonPath.string_at("$.post_id"),
                "error": sfn.JsonPath.object_at("$.error"),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        failed = sfn.Fail(self, "PostFailed", error="PostFailed", cause="See the post record for the reason")
        record_failure.next(failed)

        prepare = self._task("Prepare", fns["prepare"], self._post_id(), result_path="$.prepare")
        repair = self._repair(fns["repair"], record_failure)
        reserve = self._task("ReserveQuota", fns["reserve_quota"], self._post_id(), result_path="$.quota")
        init = self._task("InitPost", fns["init_post"], self._post_id(), result_path="$.init")
        upload = self._task("UploadChunks", fns["upload_chunks"], self._post_id(), result_path="$.upload")
        check = self._task("CheckStatus", fns["check_status"], self._post_id(), result_path="$.outcome")
        finish = self._task(
            "Finish",
            fns["finish"],
            {
                "post_id": sfn.JsonPath.string_at("$.post_id"),
                "outcome": sfn.JsonPath.object_at("$.outcome"),
            },
            result_path=sfn.JsonPath.DISCARD,
        )

        await_outcome = self._wait_for_token("AwaitOutcome", fns["register_wait"], await_timeout, "$.outcome")
        # No webhook in time: poll. A Catch (not a Retry) so that a later entry gets a fresh token.
        await_outcome.add_catch(check, errors=["States.Timeout"], result_path="$.timeout")
        await_outcome.add_catch(reserve, errors=TIKTOK_RETRY_ERRORS, result_path="$.retry")
        await_outcome.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")

        await_review = self._await_review(fns["register_review"], review_timeout, record_failure)

        wait_publish_at = sfn.Wait(
            self, "WaitForPublishAt", time=sfn.WaitTime.timestamp_path("$.prepare.publish_at")
        )
        wait_quota = sfn.Wait(self, "WaitForQuota", time=sfn.WaitTime.timestamp_path("$.quota.retry_at"))
        wait_poll = sfn.Wait(self, "WaitBeforePoll", time=sfn.WaitTime.seconds_path("$.outcome.wait_seconds"))

        wait_publish_at.next(reserve)
        publish_at = sfn.Condition.is_present("$.prepare.publish_at")
        # Repair comes first: the review page previews, and the post sends, the repaired copy. Repair goes
        # back to this choice, whose first branch it no longer matches.
        needs_repair = sfn.Condition.and_(
            _flag_set("$.prepare.repair"), sfn.Condition.is_not_present("$.repair")
        )
        needs_review = (
            sfn.Choice(self, "NeedsReview?")
            .when(needs_repair, repair)
            .when(_flag_set("$.prepare.review"), await_review)
            .when(publish_at, wait_publish_at)
            .otherwise(reserve)
        )
        has_publish_at = (
            sfn.Choice(self, "HasPublishAt?").when(publish_at, wait_publish_at).otherwise(reserve)
        )
        quota_ok = (
            sfn.Choice(self, "QuotaReserved?")
            .when(sfn.Condition.boolean_equals("$.quota.reserved", True), init)
            .otherwise(wait_quota.next(reserve))
        )
        uploaded = sfn.Condition.boolean_equals("$.upload.complete", True)
        # TikTok announces success by webhook only for inbox drafts and public direct posts: others are polled.
        polled_post = _flag_set("$.init.poll")
        upload_done = (
            sfn.Choice(self, "UploadDone?")
            .when(sfn.Condition.and_(uploaded, polled_post), check)
            .when(uploaded, await_outcome)
            # The upload URL lapsed (TikTok gives it one hour): ask TikTok for a new one.
            .when(_flag_set("$.upload.reinit"), init)
            .otherwise(upload)
        )
        needs_upload = (
            sfn.Choice(self, "NeedsUpload?")
            .when(sfn.Condition.boolean_equals("$.init.upload", True), upload)
            # The post's slot lapsed while TikTok kept saying "not now" and the cap is full: wait again.
            .when(_flag_set("$.init.requeue"), reserve)
            .when(polled_post, check)
            .otherwise(await_outcome)
        )
        polled = (
            sfn.Choice(self, "OutcomeKnown?")
            .when(sfn.Condition.boolean_equals("$.outcome.final", True), finish)
            .otherwise(wait_poll.next(check))
        )
        finish.next(sfn.Succeed(self, "Done"))
        prepare.next(needs_review)
        repair.next(needs_review)
        await_review.next(has_publish_at)
        reserve.next(quota_ok)
        init.next(needs_upload)
        upload.next(upload_done)
        await_outcome.next(finish)
        check.next(polled)

        check.add_catch(reserve, errors=TIKTOK_RETRY_ERRORS, result_path="$.retry")
        for step in (prepare, reserve, init, upload, check, finish):
            step.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")

        log_group = logs.LogGroup(
            self, "ExecutionLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=removal_policy
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name,
            definition_body=sfn.DefinitionBody.from_chainable(prepare),
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            timeout=Duration.days(30),
        )

    def _wait_for_token(
        self, construct_id: str, register: lambda_.IFunction, timeout: Duration, result_path: str
    ) -> tasks.LambdaInvoke:
        """A state that hands the post's task token to `register` and waits until someone answers it."""
        waiting = tasks.LambdaInvoke(
            self,
            construct_id,
            lambda_function=register,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {"post_id": sfn.JsonPath.string_at("$.post_id"), "task_token": sfn.JsonPath.task_token}
            ),
            task_timeout=sfn.Timeout.duration(timeout),
            retry_on_service_exceptions=False,
            result_path=result_path,
        )
        self._retry(waiting)
        return waiting

    def _await_review(
        self, register_review: lambda_.IFunction, review_timeout: Duration, record_failure: sfn.IChainable
    ) -> tasks.LambdaInvoke:
        """The post waits for the creator's decision on the review page; an expired link fails it."""
        await_review = self._wait_for_token(
            "AwaitReview", register_review, review_timeout, sfn.JsonPath.DISCARD
        )
        hours = max(1, round(review_timeout.to_seconds() / 3600))
        expired_cause = {
            "errorMessage": f"review_expired: nobody posted or discarded it on the review page within {hours} "
            "hours, so its review link expired and nothing was sent to TikTok; post it again for a new link"
        }
        review_expired = sfn.Pass(
            self,
            "ReviewExpired",
            result=sfn.Result.from_object({"Error": "PostRejectedError", "Cause": json.dumps(expired_cause)}),
            result_path="$.error",
        )
        review_expired.next(record_failure)
        await_review.add_catch(review_expired, errors=["States.Timeout"], result_path="$.error")
        await_review.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")
        return await_review

    def _repair(self, fn: lambda_.IFunction, record_failure: sfn.IChainable) -> tasks.LambdaInvoke:
        """The Repair step: its refusals are recorded by name; running out of time is said in words."""
        repair = self._task("Repair", fn, self._post_id(), result_path="$.repair")
        out_of_time = {
            "errorMessage": "repair_timed_out: the repair did not finish within the repair function's 15 "
            "minutes, although it was estimated to; nothing was sent to TikTok: export the video as H.264 "
            "MP4 at 23-60 fps, or post a shorter part"
        }
        timed_out = sfn.Pass(
            self,
            "RepairTimedOut",
            result=sfn.Result.from_object({"Error": "PostRejectedError", "Cause": json.dumps(out_of_time)}),
            result_path="$.error",
        )
        timed_out.next(record_failure)
        repair.add_catch(record_failure, errors=REPAIR_REFUSED, result_path="$.error")
        repair.add_catch(timed_out, errors=["Sandbox.Timedout", "States.Timeout"], result_path="$.error")
        repair.add_catch(record_failure, errors=["States.ALL"], result_path="$.error")
        return repair

    @staticmethod
    def _post_id() -> dict[str, object]:
        return {"post_id": sfn.JsonPath.string_at("$.post_id")}

    def _task(
        self, name: str, fn: lambda_.IFunction, payload: dict[str, object], *, result_path: str
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            name,
            lambda_function=fn,
            payload=sfn.TaskInput.from_object(payload),
            payload_response_only=True,
            result_path=result_path,
            retry_on_service_exceptions=False,
        )
        self._retry(task)
        return task

    @staticmethod
    def _retry(task: tasks.LambdaInvoke) -> None:
        # TikTok's own caps (shared with other apps) say "not now": wait long, growing intervals, for
        # days if need be (a cap TikTok counts over 24 h frees within a day; posts wait, they do not fail).
        task.add_retry(
            errors=QUOTA_ERRORS,
            interval=Duration.minutes(15),
            backoff_rate=2,
            max_attempts=QUOTA_RETRY_ATTEMPTS,
            max_delay=Duration.hours(6),
            jitter_strategy=sfn.JitterType.FULL,
        )
        task.add_retry(
            errors=TRANSIENT_ERRORS + LAMBDA_SERVICE_ERRORS,
            interval=Duration.seconds(2),
            backoff_rate=2,
            max_attempts=6,
            max_delay=Duration.seconds(60),
            jitter_strategy=sfn.JitterType.FULL,
        )
