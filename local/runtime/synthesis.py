"""The project's CDK app synthesized for the runtime, and the repository made importable: the cloud
assembly is what the runtime deploys, and the handlers' code assets are run from the repository."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def importable_repo() -> None:
    """`infra` and `functions` import from the repository, as the handlers' code assets come from it."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))


def synthesize(outdir: Path, **context: object) -> Path:
    """`cdk synth` of the project's app into `outdir`, bundling skipped (the code runs from the repo), with
    extra CDK context (`await_timeout_seconds=2`, say)."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    importable_repo()
    from infra.app import build_app

    build_app(outdir=str(outdir), context={"aws:cdk:bundling-stacks": [], **context}).synth()
    return outdir
