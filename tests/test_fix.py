"""--fix and --diff: each fix, idempotence, nothing else touched, and never a lost file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import lrlint.fix
from lrlint.cli import main
from lrlint.config import Settings
from lrlint.fix import fix_file, write_fix
from lrlint.linter import Linter

PRELUDE = """\
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # keep this comment
"""
CASES = {
    "LR201": (
        "scheduler = StepLR(optimizer, step=10, gamma=0.5)\n"
        "for epoch in range(9):\n    train(optimizer)\n    scheduler.step()\n",
        "scheduler = StepLR(optimizer, step_size=10, gamma=0.5)\n",
    ),
    "LR202": (
        "plateau = ReduceLROnPlateau(optimizer, 'min',\n                            verbose=True)  # was chatty\n"
        "for epoch in range(9):\n    train(optimizer)\n    plateau.step(val_loss())\n",
        "plateau = ReduceLROnPlateau(optimizer, 'min')  # was chatty\n",
    ),
    "LR302": (
        "scheduler = StepLR(optimizer, 10)\nfor epoch in range(9):\n    train(optimizer)\n    scheduler.step(epoch)\n",
        "    scheduler.step()\n",
    ),
    "LR303": (
        "scheduler = StepLR(optimizer, 10)\nfor epoch in range(9):\n    train(optimizer)\n    scheduler.step()\n"
        "    print(scheduler.get_lr()[0])\n",
        "    print(scheduler.get_last_lr()[0])\n",
    ),
    "LR101": (
        "scheduler = CosineAnnealingLR(optimizer, T_max=9000)\nfor epoch in range(9):\n    for x, y in loader:\n"
        "        # the schedule follows the batches\n        scheduler.step()\n        optimizer.zero_grad()\n"
        "        loss(model(x), y).backward()\n        optimizer.step()\n",
        "        optimizer.zero_grad()\n        loss(model(x), y).backward()\n        optimizer.step()\n"
        "        # the schedule follows the batches\n        scheduler.step()\n",
    ),
}


def check(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["check", "--no-cache", *args])
    return done.exit_code, done.stdout, done.stderr


def codes(path: Path) -> list[str]:
    return [f["code"] for f in json.loads(check(str(path), "--format", "json")[1])]


@pytest.mark.parametrize("code", list(CASES))
def test_each_fix_applies_once_and_touches_nothing_else(tmp_path: Path, code: str) -> None:
    body, fixed_fragment = CASES[code]
    path = tmp_path / "train.py"
    path.write_text(PRELUDE + body)
    assert code in codes(path)
    exit_code, out, err = check(str(path), "--fix")
    fixed = path.read_text()
    assert fixed_fragment in fixed and "Fixed 1 finding." in err, err
    assert code not in codes(path) and exit_code == 0, out
    assert fixed.startswith(PRELUDE)  # comments and formatting elsewhere untouched
    check(str(path), "--fix")
    assert path.read_text() == fixed  # a second --fix changes nothing
    compile(fixed, str(path), "exec")


def test_fixes_that_touch_one_statement_are_applied_in_passes(tmp_path: Path) -> None:
    """Both fixes edit the module's body (one moves a statement, one renames a call): the second waits
    for a pass over the fixed code, which must be parsed anew, not taken from the first pass."""
    body = "scheduler = StepLR(optimizer, 10)\nscheduler.step()\noptimizer.step()\nprint(scheduler.get_lr())\n"
    path = tmp_path / "train.py"
    path.write_text(PRELUDE + body)
    assert sorted(codes(path)) == ["LR101", "LR303"]
    _, _, err = check(str(path), "--fix")
    assert "Fixed 2 findings." in err and codes(path) == []


def test_the_statement_is_not_moved_past_code_that_reads_the_lr(tmp_path: Path) -> None:
    body = CASES["LR101"][0].replace("optimizer.zero_grad()", "log(optimizer.param_groups[0]['lr'])")
    path = tmp_path / "train.py"
    path.write_text(PRELUDE + body)
    _, out, _ = check(str(path), "--format", "json")
    assert [f["fixable"] for f in json.loads(out)] == [False]
    check(str(path), "--fix")
    assert path.read_text() == PRELUDE + body


def test_an_ambiguous_argument_is_not_renamed(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    call = "torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=90, momentum=0.9)"  # which momentum?
    path.write_text(f"{PRELUDE}scheduler = {call}\n")
    _, out, _ = check(str(path), "--format", "json", "--select", "LR201")
    assert [(f["code"], f["fixable"]) for f in json.loads(out)] == [("LR201", False)]
    check(str(path), "--fix")
    assert call in path.read_text()


def test_diff_shows_the_fix_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    original = PRELUDE + CASES["LR303"][0]
    path.write_text(original)
    exit_code, out, err = check(str(path), "--diff")
    assert exit_code == 1 and path.read_text() == original
    assert "-    print(scheduler.get_lr()[0])\n+    print(scheduler.get_last_lr()[0])\n" in out
    assert "Would fix 1 finding in 1 file(s)." in err
    path.write_text(PRELUDE)
    assert check(str(path), "--diff")[:2] == (0, "")


def test_permissions_line_endings_and_encoding_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    text = "# -*- coding: latin-1 -*-\n# café\n" + PRELUDE + CASES["LR303"][0]
    path.write_bytes(text.replace("\n", "\r\n").encode("latin-1"))
    path.chmod(0o751)
    check(str(path), "--fix")
    data = path.read_bytes()
    assert b"get_last_lr" in data and "café".encode("latin-1") in data
    assert data.count(b"\r\n") == data.count(b"\n")  # every newline still CRLF
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]  # no temporary file left


def test_a_byte_order_mark_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_bytes(b"\xef\xbb\xbf" + (PRELUDE + CASES["LR303"][0]).encode())
    check(str(path), "--fix")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"get_last_lr" in path.read_bytes()


def test_a_file_edited_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(PRELUDE + CASES["LR303"][0])
    fix = fix_file(path, Linter(Settings()))
    assert fix is not None and fix.changed
    path.write_text("# the user's newer version\n")
    assert "changed on disk while lrlint was fixing it" in (write_fix(fix) or "")
    assert path.read_text() == "# the user's newer version\n"


def test_a_file_that_becomes_unwritable_is_left_intact_and_the_others_are_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked, other = tmp_path / "locked.py", tmp_path / "other.py"
    for path in (locked, other):
        path.write_text(PRELUDE + CASES["LR303"][0])
    real_replace = os.replace

    def replace(source: str, target: str | Path) -> None:
        if Path(target).name == "locked.py":
            raise PermissionError(13, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(lrlint.fix.os, "replace", replace)
    exit_code, out, err = check(str(tmp_path), "--fix")
    assert f"lrlint: error: {locked}: cannot write the fixes: Permission denied" in err
    assert locked.read_text() == PRELUDE + CASES["LR303"][0] and "get_last_lr" in other.read_text()
    assert exit_code == 1 and "locked.py" in out and "other.py" not in out  # what is left is reported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked.py", "other.py"]


def test_a_fix_that_would_not_parse_is_dropped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "train.py"
    path.write_text(PRELUDE + CASES["LR303"][0])
    monkeypatch.setattr(lrlint.fix, "_parses", lambda code: False)
    _, _, err = check(str(path), "--fix")
    assert "a fix would leave code that does not parse; not applied" in err
    assert path.read_text() == PRELUDE + CASES["LR303"][0]


def notebook(cells: list[str]) -> dict:
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"c{i}",
                "metadata": {},
                "outputs": [],
                "source": source.splitlines(keepends=True),
            }
            for i, source in enumerate(cells)
        ]
        + [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": ["# Notes é\n", "lr stays"]}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def jupyter(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": ")) + "\n"


NOTEBOOK_CELLS = [
    "%matplotlib inline\nimport torch\nfrom torch.optim.lr_scheduler import StepLR, ReduceLROnPlateau",
    "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\nscheduler = StepLR(optimizer, step=5)\n"
    "plateau = ReduceLROnPlateau(optimizer, verbose=True)",
    "!nvidia-smi\nfor epoch in range(9):\n    train(optimizer)\n    scheduler.step()\n    plateau.step(val_loss())\n"
    "    print(scheduler.get_lr())",
]


def test_notebooks_are_fixed_cell_by_cell_with_the_json_otherwise_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "train.ipynb"
    path.write_text(jupyter(notebook(NOTEBOOK_CELLS)))
    check(str(path), "--fix")
    expected = notebook(
        [
            NOTEBOOK_CELLS[0],
            NOTEBOOK_CELLS[1].replace("step=5", "step_size=5").replace(", verbose=True", ""),
            NOTEBOOK_CELLS[2].replace("get_lr", "get_last_lr"),
        ]
    )
    assert path.read_text() == jupyter(expected)
    check(str(path), "--fix")
    assert path.read_text() == jupyter(expected)


def test_a_notebook_cell_that_does_not_parse_leaves_the_other_cells_fixable(tmp_path: Path) -> None:
    path = tmp_path / "train.ipynb"
    broken = "def half_written(:\n    pass"
    cells = [NOTEBOOK_CELLS[0], broken, *NOTEBOOK_CELLS[1:]]
    path.write_text(jupyter(notebook(cells)))
    _, out, err = check(str(path), "--fix")
    expected = notebook(
        [
            NOTEBOOK_CELLS[0],
            broken,
            NOTEBOOK_CELLS[1].replace("step=5", "step_size=5").replace(", verbose=True", ""),
            NOTEBOOK_CELLS[2].replace("get_lr", "get_last_lr"),
        ]
    )
    assert path.read_text() == jupyter(expected)
    assert "cell 2 does not parse; left as it is, the other cells fixed" in err
    assert "LR000" in out and "[*]" not in out


def test_a_notebook_in_another_json_layout_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "train.ipynb"
    original = json.dumps(notebook(NOTEBOOK_CELLS), indent=4)
    path.write_text(original)
    _, _, err = check(str(path), "--fix")
    assert "not in Jupyter's layout; not rewritten" in err and path.read_text() == original


def test_fix_runs_from_the_command_line_without_stdin(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(PRELUDE + CASES["LR201"][0])
    command = [sys.executable, "-m", "lrlint", "check", "--fix", str(path)]
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    assert done.returncode == 0 and "step_size=10" in path.read_text()
