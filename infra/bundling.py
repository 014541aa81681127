"""Lambda assets built on the host, without Docker.

Two assets serve every function, and a third the repair function alone:
- the code asset: the `functions/` package copied as is (handlers are `functions.handlers.<name>.handler`);
- the dependency layer: the `lambda` dependency group of pyproject.toml, exported from uv.lock and installed as
  manylinux wheels for the Lambda runtime's Python version and architecture (`uv pip install --target`);
- the repair layer: the `repair` group (PyAV with the FFmpeg libraries its wheel carries, Pillow) the same
  way, for glibc 2.28 (PyAV publishes no manylinux2014 wheel for arm64; Lambda's Python 3.14 runs on Amazon
  Linux 2023, glibc 2.34). Both layers and the code stay within Lambda's 250 MB unzipped.

CDK calls `try_bundle` during synth; returning True means the Docker image named in BundlingOptions is
never used. The layer's asset hash is derived from uv.lock and the target platform, so an unchanged lock
reuses the bundle already in cdk.out.

Bytecode: Lambda's file system is read-only, so Python cannot cache what it compiles and every cold start
would compile each imported module again. When a CPython of the runtime's version is on this machine
(`make deploy` installs one with uv), both assets ship `__pycache__` compiled by it, hash-based and
unchecked (no source timestamps to trust after unzipping). Without one (the offline synth of the tests),
they ship source only; the asset hashes say which, so a later compiled build is uploaded again.
"""

from __future__ import annotations

import functools
import hashlib
import logging
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
_REPAIR_PLATFORM = "aarch64-manylinux_2_28"
_UNUSED_IMAGE = DockerImage.from_registry("local-bundling-only")  # never pulled: local bundling wins
LOG = logging.getLogger(__name__)


def uv_executable() -> str:
    """The uv binary: the one `make dev` installs under .tools/, else one on PATH."""
    local = ROOT / ".tools" / "bin" / "uv"
    if local.is_file():
        return str(local)
    found = shutil.which("uv")
    if not found:
        raise RuntimeError("uv not found: run `make dev` first (it installs uv under .tools/)")
    return found


@functools.lru_cache(maxsize=4)
def bytecode_python(version: str = _PYTHON_VERSION) -> str | None:
    """A CPython `version` interpreter on this machine (uv-managed or not), or None; never downloads."""
    found = subprocess.run(  # noqa: S603  # nosec B603
        [uv_executable(), "python", "find", "--no-project", version],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    path = found.stdout.strip()
    if found.returncode != 0 or not path:
        LOG.warning("no Python %s here: the Lambda assets ship without bytecode (see `make deploy`)", version)
        return None
    return path


def compile_bytecode(directory: Path, version: str = _PYTHON_VERSION) -> bool:
    """Compile every module under `directory` for `version`; False when no such interpreter is here."""
    python = bytecode_python(version)
    if python is None:
        return False
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE"}}
    done = subprocess.run(  # noqa: S603  # nosec B603
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(directory),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(f"compiling {directory} for Python {version} failed:\n{done.stdout[-2000:]}")
    return True


def _bytecode_tag(version: str = _PYTHON_VERSION) -> str:
    return f"pyc-{version}" if bytecode_python(version) else "source-only"


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in {"__pycache__", ".mypy_cache"} or n.endswith(".pyc")}


@jsii.implements(ILocalBundling)
class CodeBundler:
    """Copies functions/ into the asset, so the package imports as `functions` in Lambda."""

    def __init__(self, python_version: str = _PYTHON_VERSION) -> None:
        self.python_version = python_version

    def try_bundle(self, output_dir: str, *, image: Any = None, **_: Any) -> bool:
        target = Path(output_dir) / "functions"
        shutil.copytree(FUNCTIONS_DIR, target, dirs_exist_ok=True, ignore=_ignore)
        compile_bytecode(target, self.python_version)
        return True


@jsii.implements(ILocalBundling)
class DependencyLayerBundler:
    """Installs a locked dependency group as Lambda-platform wheels under python/."""

    def __init__(self, group: str = "lambda", platform: str = _PLATFORM) -> None:
        self.group = group
        self.platform = platform

    def try_bundle(self, output_dir: str, *, image: Any = None, **_: Any) -> bool:
        uv = uv_executable()
        requirements = Path(output_dir).parent / f"{Path(output_dir).name}.requirements.txt"
        exported = subprocess.run(  # noqa: S603  # nosec B603
            [
                uv,
                "export",
                "--frozen",
                "--only-group",  # the functions' dependencies; the package's own are the command line's
                self.group,
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
                self.platform,
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
        compile_bytecode(Path(output_dir) / "python")
        return True


def source_digest(directory: Path = FUNCTIONS_DIR, version: str = _PYTHON_VERSION) -> str:
    """The code asset's hash: every source file (path and bytes) and whether bytecode ships with it."""
    digest = hashlib.sha256(_bytecode_tag(version).encode())
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not _ignore("", [path.name]) and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def code_asset() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["**/__pycache__", "**/*.pyc"],
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=source_digest(),
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=CodeBundler()),
    )


def dependency_layer_code(group: str = "lambda") -> lambda_.Code:
    """The layer of a dependency group: `lambda` for every function, `repair` for the repair function."""
    platform = _REPAIR_PLATFORM if group == "repair" else _PLATFORM
    lock = (ROOT / "uv.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    target = f"{group}/{_PYTHON_VERSION}/{platform}/{_bytecode_tag()}"
    if group == "lambda":  # the hash the layer always had: an unchanged lock reuses the bundle
        target = f"{_PYTHON_VERSION}/{platform}/{_bytecode_tag()}"
    digest = hashlib.sha256(lock + target.encode()).hexdigest()
    return lambda_.Code.from_asset(
        str(ROOT / "infra" / "layer"),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=digest,
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=DependencyLayerBundler(group, platform)),
    )
