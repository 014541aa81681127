"""Cold start: how long each Lambda handler module takes to import, against `import boto3` alone.

Each figure is the median of several fresh interpreters running
`python -X importtime -c "import functions.handlers.<name>"`, summing the cumulative time of the
top-level imports the command made (the interpreter's own start-up imports, those of `-c pass`,
excluded). The environment is the function's own, from the synthesized template, plus what Lambda
sets (AWS_LAMBDA_FUNCTION_NAME, LAMBDA_TASK_ROOT, AWS_REGION, _HANDLER, ...), in two variants:

- `tracing_on`: as deployed (Active tracing, POWERTOOLS_TRACE_DISABLED unset), so Powertools' Tracer
  patches modules for X-Ray at import;
- `tracing_off`: POWERTOOLS_TRACE_DISABLED=true (still inside "Lambda": LAMBDA_TASK_ROOT is set in both).

`-X importtime` adds its own overhead (a line to stderr per module); the baseline pays it too, so the
ratio to `import boto3` is the figure that carries over between machines. The design bar is an
absolute one ("well under 300 ms on a dev machine"), reported as met or missed, never asserted.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.servers import REPO, child_env

BAR_MS = 300.0


def _python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Our own interpreter in a fresh process; its stderr tail in the error when it fails."""
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args[-1]!r} failed: {done.stderr[-1500:]}")
    return done


def _importtime(code: str, env: dict[str, str]) -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, depth, module) of every import `python -X importtime -c code` made."""
    done = _python(["-X", "importtime", "-c", code], env)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        # "import time: {self:>9} | {cumulative:>10} | {'  ' * depth}{name}"
        self_us, cumulative, name = line.removeprefix("import time:").split("|", 2)
        name = name.removeprefix(" ")
        depth = (len(name) - len(name.lstrip(" "))) // 2
        rows.append((int(self_us), int(cumulative), depth, name.strip()))
    return rows


def _startup_modules(env: dict[str, str]) -> set[str]:
    return {name for _s, _c, depth, name in _importtime("pass", env) if depth == 0}


def _cost_ms(rows: list[tuple[int, int, int, str]], startup: set[str]) -> float:
    return sum(c for _s, c, depth, name in rows if depth == 0 and name not in startup) / 1000


def _top_packages(rows: list[tuple[int, int, int, str]], startup: set[str], n: int = 6) -> dict[str, float]:
    """Self time per top-level package, the biggest first: where the import time goes."""
    by_package: Counter[str] = Counter()
    for self_us, _c, _depth, name in rows:
        if name not in startup:
            by_package[name.split(".")[0]] += self_us
    return {name: round(us / 1000, 1) for name, us in by_package.most_common(n)}


def lambda_env(function: Any, variables: dict[str, Any], tracing: bool) -> dict[str, str]:
    env = child_env()
    # PYTHONDONTWRITEBYTECODE would make every run compile from source: the warm-up run writes the bytecode.
    for key in (
        "POWERTOOLS_TRACE_DISABLED",
        "LAMBDA_TASK_ROOT",
        "AWS_ENDPOINT_URL",
        "PYTHONDONTWRITEBYTECODE",
    ):
        env.pop(key, None)
    for key, value in variables.items():
        env[key] = value if isinstance(value, str) else f"placeholder-{key.lower()}"
    env.update(
        {
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_LAMBDA_FUNCTION_NAME": f"TikTokPublisher-{function.spec_name}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "_HANDLER": function.handler,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }
    )
    # Inside Lambda: Powertools' Tracer and the X-Ray SDK both look for LAMBDA_TASK_ROOT; without it the
    # SDK builds its non-Lambda recorder (a botocore session for its sampler), which Lambda never does.
    env["LAMBDA_TASK_ROOT"] = str(REPO)
    if tracing:
        env["AWS_XRAY_DAEMON_ADDRESS"] = "169.254.79.129:2000"
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def _first_client_ms(module: str, env: dict[str, str]) -> float:
    """What the first boto3 client costs after the import: the lazy part of a cold start, paid by the
    first invocation that touches AWS (importing boto3, loading the service model, X-Ray patching)."""
    code = (
        f"import time, {module}\n"
        "from functions.store.clients import aws_client\n"
        "t = time.perf_counter(); aws_client('dynamodb'); print((time.perf_counter() - t) * 1000)"
    )
    done = _python(["-c", code], env)
    return float(done.stdout.strip().splitlines()[-1])


def measure(cdk_out: Path, runs: int = 5, runs_tracing_off: int = 3, log: Any = print) -> dict[str, Any]:
    from local.runtime.template import CloudAssembly

    assembly = CloudAssembly.load(cdk_out)
    functions = []
    for logical_id, definition in sorted(assembly.functions().items(), key=lambda kv: kv[1].spec_name or ""):
        if definition.spec_name:
            props = assembly.resources[logical_id].get("Properties", {})
            functions.append((definition, props.get("Environment", {}).get("Variables", {})))

    base_env = lambda_env(functions[0][0], {}, tracing=False)
    startup = _startup_modules(base_env)
    _importtime("import boto3", base_env)  # warm the page cache and the bytecode cache
    boto3_ms = [_cost_ms(_importtime("import boto3", base_env), startup) for _ in range(max(runs, 3))]
    boto3_median = statistics.median(boto3_ms)
    log(f"  cold start: import boto3 {boto3_median:.0f} ms")

    handlers: dict[str, Any] = {}
    for definition, variables in functions:
        module = definition.handler.rpartition(".")[0]
        entry: dict[str, Any] = {"memory_mb": definition.memory_mb}
        for variant, tracing, count in (("tracing_on", True, runs), ("tracing_off", False, runs_tracing_off)):
            env = lambda_env(definition, variables, tracing)
            _importtime(f"import {module}", env)  # compile once; not measured
            samples = [_importtime(f"import {module}", env) for _ in range(count)]
            times = [_cost_ms(rows, startup) for rows in samples]
            median = statistics.median(times)
            entry[variant] = {
                "median_ms": round(median, 1),
                "runs_ms": [round(t, 1) for t in times],
                "vs_import_boto3": round(median / boto3_median, 3),
                "under_bar": median < BAR_MS,
                "top_packages_self_ms": _top_packages(samples[0], startup),
            }
        traced = lambda_env(definition, variables, tracing=True)
        first_client = [_first_client_ms(module, traced) for _ in range(runs_tracing_off)]
        entry["first_aws_client_ms"] = round(statistics.median(first_client), 1)
        # As Lambda runs an asset without bytecode: nothing cached to read, nothing written.
        with tempfile.TemporaryDirectory() as empty:
            bare = {**traced, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}
            from_source = [
                _cost_ms(_importtime(f"import {module}", bare), startup) for _ in range(runs_tracing_off)
            ]
        entry["no_bytecode_ms"] = round(statistics.median(from_source), 1)
        handlers[str(definition.spec_name)] = entry
        log(
            f"  cold start: {definition.spec_name}: {entry['tracing_on']['median_ms']:.0f} ms traced, "
            f"{entry['tracing_off']['median_ms']:.0f} ms untraced ({entry['tracing_on']['vs_import_boto3']:.2f}x boto3), "
            f"{entry['no_bytecode_ms']:.0f} ms without bytecode"
        )
    worst_on = max(h["tracing_on"]["median_ms"] for h in handlers.values())
    worst_off = max(h["tracing_off"]["median_ms"] for h in handlers.values())
    return {
        "method": "python -X importtime -c 'import functions.handlers.<name>', cumulative us of the top-level "
        "imports not made by `-c pass`, median of fresh interpreters; Lambda-like environment from the template",
        "import_boto3": {"median_ms": round(boto3_median, 1), "runs_ms": [round(t, 1) for t in boto3_ms]},
        "handlers": handlers,
        "worst_ms": {"tracing_on": round(worst_on, 1), "tracing_off": round(worst_off, 1)},
        "worst_vs_import_boto3": {
            "tracing_on": round(worst_on / boto3_median, 3),
            "tracing_off": round(worst_off / boto3_median, 3),
        },
        "no_bytecode_ms_median": round(statistics.median(h["no_bytecode_ms"] for h in handlers.values()), 1),
        "first_aws_client_ms_median": round(
            statistics.median(h["first_aws_client_ms"] for h in handlers.values()), 1
        ),
        "bar_ms": BAR_MS,
        "met": worst_on < BAR_MS,
        "met_tracing_off": worst_off < BAR_MS,
    }
