"""Every fixture states its findings inline (`# expect: LR101`); lrlint must report exactly those."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.expectations import expected_in_file, reported_in_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".py", ".ipynb"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_expectations(path: Path) -> None:
    assert reported_in_file(path) == expected_in_file(path)


def test_fixture_corpus_covers_buggy_and_clean_scripts_and_notebooks() -> None:
    buggy = [p for p in FIXTURE_FILES if expected_in_file(p)]
    clean = [p for p in FIXTURE_FILES if not expected_in_file(p)]
    notebooks = [p for p in FIXTURE_FILES if p.suffix == ".ipynb"]
    assert len(FIXTURE_FILES) >= 32 and len(buggy) >= 15 and len(clean) >= 12 and len(notebooks) >= 2
