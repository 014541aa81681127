"""The metrics the logic emits (CloudWatch EMF through Powertools, functions/observability.py).

Powertools is loaded by the first metric, not at import: the local runtime and the benchmarks use the
logic outside any function's environment, and Powertools reads a function's settings when first imported.
"""

from __future__ import annotations


def count(name: str, value: float = 1) -> None:
    """Add `value` to the function's metric `name` (flushed with the invocation's other metrics)."""
    from functions.observability import metrics  # noqa: PLC0415 - see the module's docstring

    metrics.add_metric(name=name, unit="Count", value=value)


def tiktok_error(code: str) -> None:
    """One TikTokError metric with the error code as a dimension (the dashboard's "errors by code")."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric  # noqa: PLC0415

    with single_metric(
        name="TikTokError", unit=MetricUnit.Count, value=1, namespace="TikTokPublisher"
    ) as metric:
        metric.add_dimension(name="code", value=code[:100] or "unknown")
