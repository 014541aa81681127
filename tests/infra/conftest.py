"""One synthesis of the real stack per test session (bundling skipped: the bundle has its own test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from infra.app import build_app
    from infra.config import STACK_NAME

    outdir = tmp_path_factory.mktemp("cdk.out")
    context = {"aws:cdk:bundling-stacks": []}
    build_app(outdir=str(outdir), context=context).synth()
    template = json.loads((Path(outdir) / f"{STACK_NAME}.template.json").read_text())
    return {"outdir": Path(outdir), "template": template}


@pytest.fixture(scope="session")
def template(synthesized: dict[str, Any]) -> dict[str, Any]:
    return synthesized["template"]  # type: ignore[no-any-return]


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}
