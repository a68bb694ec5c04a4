"""The import-linter contracts bite: a copy of the code with one injected violation breaks them.

CI runs ``lint-imports`` on the real tree; this shows the contracts of design.md ("a domain
reaches another through its service", "the maths is pure") would catch a regression.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_with(tmp_path: Path, module: str, injected: str) -> subprocess.CompletedProcess[str]:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "connectors", tmp_path / "connectors")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / Path(*module.split(".")).with_suffix(".py")
    target.write_text(injected + "\n" + target.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'src'}{os.pathsep}{tmp_path}"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "injected", "broken"),
    [
        (
            "datahub.carbon.chart",
            "from datahub.catalog import repository as _injected  # noqa",
            "Only datahub.catalog imports datahub.catalog.repository BROKEN",
        ),
        (
            "datahub.demo.loader",
            "from datahub.accounts import repository as _injected  # noqa",
            "Only datahub.accounts imports datahub.accounts.repository BROKEN",
        ),
        (
            "datahub.carbon.sequestration",
            "import sqlalchemy as _injected  # noqa",
            "Trajectory maths is pure BROKEN",
        ),
    ],
)
def test_an_injected_violation_breaks_its_contract(
    tmp_path: Path, module: str, injected: str, broken: str
) -> None:
    result = _lint_with(tmp_path, module, injected)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
