"""cfn-lint (errors) and checkov (reviewed skip list) on the synthesized template (`make security` runs the
same scans on the `make synth` output)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_cfn_lint_finds_no_errors(synthesized: dict[str, Any]) -> None:
    template = synthesized["outdir"] / "TikTokPublisher.template.json"
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--non-zero-exit-code", "error", "--ignore-checks", "W3005", "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes_with_the_reviewed_skip_list(synthesized: dict[str, Any], tmp_path: Path) -> None:
    checkov = ROOT / ".tools" / "checkov" / "bin" / "checkov"
    assert checkov.exists(), "run make dev: it installs checkov into .tools/checkov"
    scan = tmp_path / "scan"
    scan.mkdir()
    (scan / "template.json").write_text((synthesized["outdir"] / "TikTokPublisher.template.json").read_text())
    result = subprocess.run(
        [str(checkov), "-d", str(scan), "--config-file", str(ROOT / "infra" / "checkov.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Failed checks: 0" in result.stdout
