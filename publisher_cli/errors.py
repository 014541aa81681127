"""Failures the user can act on: one line on stderr and an exit status, never a traceback."""

from __future__ import annotations

from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

EXIT_FAILED = 1  # a failed post, or an API or AWS error
EXIT_USAGE = 2  # bad usage or input: nothing was uploaded or changed
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class CliError(Exception):
    """What went wrong, in one line; `exit_code` says what kind of failure it is."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class BadInput(CliError):
    """The command cannot run as asked (a missing file, an unknown account, a wrong option value)."""

    exit_code = EXIT_USAGE


def describe_aws_error(exc: Exception) -> str:
    """A botocore failure in words: the service's own code and message, or what botocore says."""
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials: configure them (aws configure, AWS_PROFILE, AWS_ACCESS_KEY_ID...) or pass "
            "--profile; --local talks to the stack of `make local` instead"
        )
    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region, or set AWS_REGION or a region in your AWS profile"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "") or "the call"
        return f"AWS refused {operation}: {error.get('Code', 'error')}: {error.get('Message', str(exc))}"
    return f"AWS: {exc}"
