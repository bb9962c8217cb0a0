"""Every fixture states its findings inline (`# expect: LR101`); lrlint must report exactly those.

Files under fixtures/projects/<name>/ are one project each, linted together as a user would
lint the folder: a finding may come from another file's analysis (main.py builds the scheduler,
engine.py steps it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lrlint.config import Settings
from lrlint.linter import Linter
from tests.expectations import Expected, expected_in_file, reported_in_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROJECTS = FIXTURES / "projects"
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".py", ".ipynb"))
SINGLE_FILES = [p for p in FIXTURE_FILES if PROJECTS not in p.parents]
PROJECT_DIRS = sorted(p for p in PROJECTS.iterdir() if p.is_dir())


@pytest.mark.parametrize("path", SINGLE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_expectations(path: Path) -> None:
    assert reported_in_file(path) == expected_in_file(path)


def lint_project(root: Path) -> dict[Path, Expected]:
    files = sorted(root.rglob("*.py"))
    linter = Linter.for_files(files, Settings())
    found: dict[Path, Expected] = {path: set() for path in files}
    for path in files:
        result = linter.lint_path(path)
        assert not result.internal_errors, result.internal_errors
        for f in result.findings:
            found[Path(f.path).resolve()].add((f.cell, f.line, f.code))
    return {path.resolve(): findings for path, findings in found.items()}


@pytest.mark.parametrize("root", PROJECT_DIRS, ids=lambda p: p.name)
def test_project_findings_match_expectations(root: Path) -> None:
    found = lint_project(root)
    assert found == {path.resolve(): expected_in_file(path) for path in sorted(root.rglob("*.py"))}


def test_fixture_corpus_covers_buggy_and_clean_scripts_and_notebooks() -> None:
    buggy = [p for p in FIXTURE_FILES if expected_in_file(p)]
    clean = [p for p in FIXTURE_FILES if not expected_in_file(p)]
    notebooks = [p for p in FIXTURE_FILES if p.suffix == ".ipynb"]
    assert len(FIXTURE_FILES) >= 32 and len(buggy) >= 15 and len(clean) >= 12 and len(notebooks) >= 2
    assert len(PROJECT_DIRS) >= 4
