"""Lint and strict typing are part of the suite, so main stays clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    if shutil.which(name, path=str(Path(sys.executable).parent)) is None:
        pytest.skip(f"{name} is not installed in this environment (pip install -e '.[test]')")
    return [sys.executable, "-m", name]


def test_ruff_lint_and_format() -> None:
    ruff = _tool("ruff")
    targets = ["src", "tests", "benchmarks"]
    lint = subprocess.run([*ruff, "check", *targets], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [*ruff, "format", "--check", *targets], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict() -> None:
    mypy = _tool("mypy")
    out = subprocess.run([*mypy, "src/seawall"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
