"""`exclude` and `per-file-ignores` read their patterns one way: gitignore's, as ruff does."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrlint.config import Settings
from lrlint.discovery import discover
from lrlint.paths import PathPatterns


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("tests/*", "tests/unit/test_train.py", True),  # a folder that matches takes what is below it
        ("tests/*", "src/tests/test_train.py", False),  # a slash anchors it at the root
        ("tests", "src/tests/test_train.py", True),  # no slash: a name at any depth
        ("__init__.py", "pkg/sub/__init__.py", True),
        ("*.ipynb", "notebooks/explore.ipynb", True),
        ("scripts/**/old_*.py", "scripts/a/b/old_train.py", True),
        ("scripts/**/old_*.py", "scripts/a/b/train.py", False),
    ],
)
def test_patterns_match_as_gitignore_reads_them(tmp_path: Path, pattern: str, path: str, matched: bool) -> None:
    assert PathPatterns([pattern], tmp_path).match(tmp_path / path) is matched


def test_per_file_ignores_and_exclude_agree_on_a_pattern(tmp_path: Path) -> None:
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_train.py").write_text("x = 1\n")
    (tmp_path / "train.py").write_text("x = 1\n")
    settings = Settings(per_file_ignores={"tests/*": ("LR102",)}, root=tmp_path)
    assert not settings.enabled_for("LR102", str(tmp_path / "tests" / "unit" / "test_train.py"))
    assert settings.enabled_for("LR102", str(tmp_path / "train.py"))
    found = discover([str(tmp_path)], ["tests/*"], root=tmp_path).files
    assert found == [tmp_path / "train.py"]


def test_the_folders_above_a_project_do_not_exclude_it(tmp_path: Path) -> None:
    project = tmp_path / "build" / "checkout"  # a CI checkout under a folder named like a default exclude
    project.mkdir(parents=True)
    (project / "train.py").write_text("x = 1\n")
    assert discover([str(project)], root=project).files == [project / "train.py"]
