"""--write-baseline / --baseline: legacy findings stay quiet, new ones are reported."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrlint.cli import main

TRAIN = """\
import torch
from torch.optim.lr_scheduler import StepLR

optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = StepLR(optimizer, step=30)
for epoch in range(90):
    train(optimizer)
    scheduler.step()
"""


def check(*args: str, cwd: Path) -> tuple[int, str, str]:
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        done = CliRunner().invoke(main, ["check", *args])
    finally:
        os.chdir(previous)
    return done.exit_code, done.stdout, done.stderr


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(TRAIN)
    code, _, err = check(".", "--write-baseline", "lrlint-baseline.json", cwd=tmp_path)
    assert code == 0 and "recorded 1 finding(s) in lrlint-baseline.json" in err
    return tmp_path


def test_recorded_findings_are_not_reported(legacy: Path) -> None:
    assert check(".", "--baseline", "lrlint-baseline.json", cwd=legacy)[0] == 0
    assert check(".", cwd=legacy)[0] == 1  # still there without the baseline


def test_edits_elsewhere_keep_old_findings_quiet_and_new_ones_are_reported(legacy: Path) -> None:
    train = legacy / "train.py"
    edited = "# preamble\n\n" + TRAIN + "slow = StepLR(optimizer, step=5)\n"
    train.write_text(edited)
    code, out, _ = check(".", "--baseline", "lrlint-baseline.json", "--ignore", "LR104", cwd=legacy)
    assert code == 1 and [line.split(" error:")[0] for line in out.splitlines()] == ["train.py:11:26: LR201"]


def test_the_run_says_what_the_baseline_hid_and_what_is_stale(legacy: Path) -> None:
    err = check(".", "--baseline", "lrlint-baseline.json", cwd=legacy)[2]
    assert "the baseline hid 1 finding(s); 0 of its entries matched nothing" in err
    (legacy / "train.py").write_text(TRAIN.replace("step=30", "step_size=30"))  # the legacy finding is fixed
    err = check(".", "--baseline", "lrlint-baseline.json", cwd=legacy)[2]
    assert "the baseline hid 0 finding(s); 1 of its entries matched nothing" in err


def test_a_changed_line_is_new_code(legacy: Path) -> None:
    (legacy / "train.py").write_text(TRAIN.replace("step=30", "step=40"))
    assert check(".", "--baseline", "lrlint-baseline.json", cwd=legacy)[0] == 1


def test_a_second_copy_of_a_recorded_line_is_reported(legacy: Path) -> None:
    (legacy / "train.py").write_text(
        TRAIN.replace("scheduler = StepLR(optimizer, step=30)\n", "scheduler = StepLR(optimizer, step=30)\n" * 2)
    )
    code, out, _ = check(".", "--baseline", "lrlint-baseline.json", "--select", "LR201", cwd=legacy)
    assert code == 1 and out.count("LR201") == 1


def test_the_baseline_works_from_another_folder(legacy: Path) -> None:
    code, _, _ = check(str(legacy), "--baseline", str(legacy / "lrlint-baseline.json"), cwd=legacy.parent)
    assert code == 0


@pytest.mark.parametrize("content", ["not json", '{"findings": []}', '{"lrlint_baseline": 1, "findings": [{}]}'])
def test_an_unusable_baseline_is_a_usage_error(legacy: Path, content: str) -> None:
    (legacy / "bad.json").write_text(content)
    code, _, err = check(".", "--baseline", "bad.json", cwd=legacy)
    assert code == 2 and err.startswith("lrlint: error: ") and len(err.strip().splitlines()) == 1


def test_a_missing_baseline_is_a_usage_error(legacy: Path) -> None:
    code, _, err = check(".", "--baseline", "missing.json", cwd=legacy)
    assert code == 2 and "cannot read the baseline missing.json" in err


def test_the_baseline_file_is_readable_json(legacy: Path) -> None:
    data = json.loads((legacy / "lrlint-baseline.json").read_text())
    assert [(f["path"], f["code"]) for f in data["findings"]] == [("train.py", "LR201")]
