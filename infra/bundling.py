"""Lambda assets built on the host, without Docker.

Two assets serve every function:
- the code asset: the `functions/` package copied as is (handlers are `functions.handlers.<name>.handler`);
- the dependency layer: the runtime dependencies of pyproject.toml, exported from uv.lock and installed as
  manylinux wheels for the Lambda runtime's Python version and architecture (`uv pip install --target`).

CDK calls `try_bundle` during synth; returning True means the Docker image named in BundlingOptions is
never used. The layer's asset hash is derived from uv.lock and the target platform, so an unchanged lock
reuses the bundle already in cdk.out.
"""

from __future__ import annotations

import hashlib
import os
import shutil

# uv is run with fixed argument lists and no shell.
import subprocess  # nosec B404
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
_PYTHON_VERSION = "3.14"
_PLATFORM = "aarch64-manylinux2014"
_UNUSED_IMAGE = DockerImage.from_registry("local-bundling-only")  # never pulled: local bundling wins


def uv_executable() -> str:
    """The uv binary: the one `make dev` installs under .tools/, else one on PATH."""
    local = ROOT / ".tools" / "bin" / "uv"
    if local.is_file():
        return str(local)
    found = shutil.which("uv")
    if not found:
        raise RuntimeError("uv not found: run `make dev` first (it installs uv under .tools/)")
    return found


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in {"__pycache__", ".mypy_cache"} or n.endswith(".pyc")}


@jsii.implements(ILocalBundling)
class CodeBundler:
    """Copies functions/ into the asset, so the package imports as `functions` in Lambda."""

    def try_bundle(self, output_dir: str, *, image: Any = None, **_: Any) -> bool:
        shutil.copytree(FUNCTIONS_DIR, Path(output_dir) / "functions", dirs_exist_ok=True, ignore=_ignore)
        return True


@jsii.implements(ILocalBundling)
class DependencyLayerBundler:
    """Installs the locked runtime dependencies as Lambda-platform wheels under python/."""

    def try_bundle(self, output_dir: str, *, image: Any = None, **_: Any) -> bool:
        uv = uv_executable()
        requirements = Path(output_dir).parent / f"{Path(output_dir).name}.requirements.txt"
        exported = subprocess.run(  # noqa: S603  # nosec B603
            [
                uv,
                "export",
                "--frozen",
                "--no-dev",
                "--no-hashes",
                "--no-emit-project",
                "--format",
                "requirements-txt",
                "--project",
                str(ROOT),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        requirements.write_text(exported, encoding="utf-8")
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run(  # noqa: S603  # nosec B603
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--requirements",
                str(requirements),
                "--target",
                str(Path(output_dir) / "python"),
                "--python-platform",
                _PLATFORM,
                "--python-version",
                _PYTHON_VERSION,
                "--only-binary",
                ":all:",
                "--no-compile",
            ],
            check=True,
            env=env,
        )
        requirements.unlink()
        return True


def code_asset() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["**/__pycache__", "**/*.pyc"],
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=CodeBundler()),
    )


def dependency_layer_code() -> lambda_.Code:
    lock = (ROOT / "uv.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    digest = hashlib.sha256(lock + f"{_PYTHON_VERSION}/{_PLATFORM}".encode()).hexdigest()
    return lambda_.Code.from_asset(
        str(ROOT / "infra" / "layer"),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=digest,
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=DependencyLayerBundler()),
    )
