"""Crash-freedom on real code: .py files of large installed packages are parsed and analysed
(prefilter off, so the model runs on all of them) without a single internal error.

Each run analyses the files the model can do work on (those the prefilter lets through: they
name a scheduler) and a sample of the others drawn with a fixed seed (in the test id; set
LRLINT_SAMPLE_SEED to draw another). Every file of every package: `pytest -m corpus`.
"""

from __future__ import annotations

import importlib.util
import os
import random
from multiprocessing import get_context
from pathlib import Path

import pytest

from lrlint.config import Settings
from lrlint.linter import Linter
from lrlint.prefilter import may_contain_findings

PACKAGES = ("torch", "numpy", "libcst", "click", "setuptools")
SAMPLE_SEED = int(os.environ.get("LRLINT_SAMPLE_SEED", "20261129"))
SAMPLE_SIZE = 30  # files per package that name no scheduler
SAMPLE_MAX_BYTES = 200_000  # the few larger files take most of a whole-package run: that run has them


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


def sampled_files(files: list[Path], seed: int) -> list[Path]:
    """The files the prefilter analyses, and `SAMPLE_SIZE` of the others (up to `SAMPLE_MAX_BYTES`)
    drawn with `seed`."""
    analysed = {path: may_contain_findings(path.read_text(encoding="utf-8", errors="ignore")) for path in files}
    others = [path for path in files if not analysed[path] and path.stat().st_size <= SAMPLE_MAX_BYTES]
    sample = random.Random(seed).sample(others, min(SAMPLE_SIZE, len(others)))
    return [path for path in files if analysed[path]] + sample


def assert_no_internal_error(files: list[Path]) -> None:
    with get_context("fork").Pool(2) as pool:
        results = pool.map(lint_one, files, chunksize=4)
    errors = [error for file_errors, _ in results for error in file_errors]
    assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [SAMPLE_SEED], ids=lambda seed: f"seed{seed}")
@pytest.mark.parametrize("package", PACKAGES)
def test_linting_a_sample_of_a_package_raises_no_internal_error(package: str, seed: int) -> None:
    files = sampled_files(package_files(package), seed)
    assert len(files) > 10
    assert_no_internal_error(files)


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("package", PACKAGES)
def test_linting_a_whole_package_raises_no_internal_error(package: str) -> None:
    files = package_files(package)
    assert len(files) > 10
    assert_no_internal_error(files)
