"""Reviewed snapshots of what users read: every message and column of `check --format concise`
on the fixtures, and every fix of `check --diff`. A changed message, position or fix is a visible
diff here; after reviewing it, refresh with `LRLINT_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrlint.cli import main

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


@pytest.mark.parametrize(
    ("name", "options"),
    [("check_concise.txt", ["--format", "concise"]), ("check_diff.txt", ["--diff"])],
)
def test_output_on_the_fixtures_matches_its_reviewed_snapshot(
    name: str, options: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["check", "--no-cache", "--jobs", "1", *options, "fixtures"])
    assert result.exit_code == 1, result.output
    snapshot = SNAPSHOTS / name
    if os.environ.get("LRLINT_UPDATE_SNAPSHOTS"):
        snapshot.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == snapshot.read_text(encoding="utf-8"), (
        f"{name} changed: review `git diff` after LRLINT_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py"
    )
