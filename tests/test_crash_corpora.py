"""Crash-freedom on real code: every .py file of large installed packages is parsed and analysed
(prefilter off, so the model runs on all of them) without a single internal error.

Slow (minutes, spread over the cores); it runs in CI like every other test.
"""

from __future__ import annotations

import importlib.util
from multiprocessing import get_context
from pathlib import Path

import pytest

from lrlint.config import Settings
from lrlint.linter import Linter

PACKAGES = ("torch", "numpy", "libcst", "click", "setuptools")


class EveryFileLinter(Linter):
    """Analyses every file, as if each could contain a finding."""

    def _relevant(self, code: str) -> bool:
        return True


def lint_one(path: Path) -> tuple[list[str], int]:
    result = EveryFileLinter(Settings()).lint_path(path)  # a fresh project per file: flat memory
    return result.internal_errors, sum(1 for f in result.findings if f.code == "LR000")


def package_files(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        pytest.skip(f"{name} is not installed")
    return sorted(Path(spec.origin).parent.rglob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES)
def test_linting_a_whole_package_raises_no_internal_error(package: str) -> None:
    files = package_files(package)
    with get_context("fork").Pool(2) as pool:
        results = pool.map(lint_one, files, chunksize=8)
    errors = [error for file_errors, _ in results for error in file_errors]
    assert len(files) > 10
    assert errors == []
