"""Errors raised by the data-access layer.

Callers branch on these types, never on botocore error codes: a conditional write that lost is a
ConflictError whether the table is DynamoDB, dynalite or moto.
"""

from __future__ import annotations


class StoreError(Exception):
    """A store operation failed for a reason the caller can name to a person."""


class ConflictError(StoreError):
    """A conditional write lost: someone else changed the item first."""


class NotFoundError(StoreError):
    """The item or object the operation needs does not exist."""


class ObjectTooLargeError(StoreError):
    """An S3 object is larger than the caller allows it to read into memory."""


class InvalidJsonError(StoreError):
    """An S3 object that must hold JSON does not (bad UTF-8 or bad JSON)."""


class SecretInvalidError(StoreError):
    """A secret is missing a field or is not a JSON object; the message never holds its values."""
