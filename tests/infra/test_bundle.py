"""The assets `make synth` bundled without Docker: our code, and Lambda-platform wheels in the layer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


def _layers() -> dict[str, Path]:
    """The layer assets by what they carry: "repair" (PyAV) or "lambda" (every function's)."""
    layers = [d for d in _asset_dirs().values() if (d / "python").is_dir()]
    return {("repair" if (d / "python" / "av").is_dir() else "lambda"): d for d in layers}


def _unzipped_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def test_the_layer_holds_wheels_for_the_lambda_runtime_and_architecture() -> None:
    layers = _layers()
    assert sorted(layers) == ["lambda", "repair"]
    site = layers["lambda"] / "python"
    for package in ("aws_lambda_powertools", "pydantic", "requests", "boto3", "jinja2", "cryptography"):
        assert (site / package).is_dir(), package
    # The `lambda` dependency group alone: the command line's own dependencies stay out of the functions.
    assert not (site / "typer").exists() and not (site / "rich").exists(), "the command line's deps stay out"
    (core,) = site.glob("pydantic_core/_pydantic_core.*.so")
    assert "cpython-314-aarch64-linux-gnu" in core.name
    assert not list(site.glob("moto*")) and not list(site.glob("aws_cdk*")), "dev and infra deps stay out"


def test_the_repair_layer_holds_pyav_pillow_and_pi_heif_for_lambda_and_fits_with_the_rest() -> None:
    """PyAV's arm64 wheels need glibc 2.28 (Lambda's Python 3.14 has 2.34); the repair function carries
    both layers and the code, which Lambda allows up to 250 MB unzipped."""
    layers = _layers()
    site = layers["repair"] / "python"
    assert {p.name for p in site.iterdir() if (p / "__init__.py").is_file()} == {"av", "PIL", "pi_heif"}
    (av_core,) = site.glob("av/_core.*.so")
    (x264,) = site.glob("av.libs/libx264*.so*")  # the H.264 encoder the repair uses
    # HEIC/HEIF photos: libheif with the HEVC decoder libde265, and no HEIF encoder (x265) of its own.
    (heif_core,) = site.glob("_pi_heif.cpython-314-aarch64-linux-gnu.so")
    (libheif,) = site.glob("pi_heif.libs/libheif*.so*")
    (libde265,) = site.glob("pi_heif.libs/libde265*.so*")
    assert not list(site.glob("pi_heif.libs/libx265*")) and not (site / "pillow_heif").exists()
    for library in (av_core, x264, heif_core, libheif, libde265):
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183, library  # arm64
    assert list(site.glob("PIL/_imaging.cpython-314-aarch64-linux-gnu.so"))
    assert not (site / "pydantic").exists(), "every function's dependencies stay in their own layer"
    (code,) = [d for d in _asset_dirs().values() if (d / "functions").is_dir()]
    total = sum(_unzipped_bytes(d) for d in (layers["lambda"], layers["repair"], code))
    assert total < 250 * 1000**2, f"{total / 1e6:.0f} MB unzipped"


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


def test_the_code_asset_ships_the_page_templates_and_renders_from_them(tmp_path: Path) -> None:
    """The templates, style sheet and script are package data, not modules: they ship with the modules,
    byte for byte, the pages render from the asset as Lambda unzips it, and changing one makes a new asset."""
    templates = bundling.FUNCTIONS_DIR / "templates"
    bundling.CodeBundler(python_version="3.99").try_bundle(str(tmp_path / "asset"))
    files = [p.relative_to(templates) for p in templates.rglob("*") if p.is_file() and p.suffix != ".pyc"]
    assert {"base.html", "style.css", "review.js", "review/form.html", "connect/connected.html"} <= {
        f.as_posix() for f in files
    }
    for relative in files:
        shipped = tmp_path / "asset" / "functions" / "templates" / relative
        assert shipped.read_bytes() == (templates / relative).read_bytes(), relative

    render = "from functions.pages import render; print(render('review/refused.html', expired=True))"
    page = subprocess.run(
        [sys.executable, "-c", render],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "asset")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "This review link has expired" in page

    copy = tmp_path / "functions"
    shutil.copytree(bundling.FUNCTIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = bundling.source_digest(copy, version="3.99")
    (copy / "templates" / "style.css").write_bytes((templates / "style.css").read_bytes() + b"\n")
    assert bundling.source_digest(copy, version="3.99") != before


def test_make_deploy_installs_the_python_the_functions_run() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert f"LAMBDA_PYTHON := {bundling.RUNTIME.name.removeprefix('python')}\n" in makefile
