"""The assets `make synth` bundled without Docker: our code, and Lambda-platform wheels in the layer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from infra import bundling

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
    # No bytecode of this machine's Python; the runtime's own only where `make deploy` installed it.
    assert all(".cpython-314." in pyc.name for pyc in code[0].rglob("*.pyc"))


def test_the_code_asset_ships_unchecked_bytecode_when_the_runtime_python_is_here(tmp_path: Path) -> None:
    """`make deploy` installs the Lambda runtime's CPython; this machine's own version stands in for it."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    bundling.CodeBundler(python_version=version).try_bundle(str(tmp_path / "compiled"))
    tag = sys.implementation.cache_tag
    compiled = tmp_path / "compiled" / "functions" / "__pycache__" / f"settings.{tag}.pyc"
    assert compiled.is_file()
    flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, source not checked: unzipped timestamps mean nothing

    bundling.CodeBundler(python_version="3.99").try_bundle(str(tmp_path / "source"))
    assert (tmp_path / "source" / "functions" / "settings.py").is_file()
    assert not list((tmp_path / "source").rglob("*.pyc"))
    assert bundling.source_digest(version=version) != bundling.source_digest(version="3.99")


def test_make_deploy_installs_the_python_the_functions_run() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert f"LAMBDA_PYTHON := {bundling.RUNTIME.name.removeprefix('python')}\n" in makefile
