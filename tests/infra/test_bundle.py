"""The assets `make synth` bundled without Docker: our code, and Lambda-platform wheels in the layer."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CDK_OUT = ROOT / "cdk.out"


def _asset_dirs() -> dict[str, Path]:
    manifest = CDK_OUT / "TikTokPublisher.assets.json"
    assert manifest.exists(), "cdk.out is missing: make test runs `make synth` before the tests"
    files = json.loads(manifest.read_text())["files"]
    return {
        h: CDK_OUT / f["source"]["path"] for h, f in files.items() if f["source"].get("packaging") == "zip"
    }


def test_the_layer_holds_wheels_for_the_lambda_runtime_and_architecture() -> None:
    layers = [d for d in _asset_dirs().values() if (d / "python").is_dir()]
    assert len(layers) == 1
    site = layers[0] / "python"
    for package in ("aws_lambda_powertools", "pydantic", "requests", "boto3"):
        assert (site / package).is_dir(), package
    (core,) = site.glob("pydantic_core/_pydantic_core.*.so")
    assert "cpython-314-aarch64-linux-gnu" in core.name
    assert not list(site.glob("moto*")) and not list(site.glob("aws_cdk*")), "dev and infra deps stay out"


def test_the_code_asset_is_the_functions_package() -> None:
    code = [d for d in _asset_dirs().values() if (d / "functions").is_dir()]
    assert len(code) == 1
    assert (code[0] / "functions" / "settings.py").is_file()
    assert not list(code[0].rglob("__pycache__"))
