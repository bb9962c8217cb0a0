"""Bad input never stops a run, and lrlint never runs the code it reads (issue: robustness)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import lrlint.rules.lr101_step_before_optimizer as lr101
from lrlint.cli import main
from lrlint.config import Settings
from lrlint.engine import lint_files

BUGGY = (Path(__file__).resolve().parent.parent / "fixtures" / "epoch_loop_step_first.py").read_text()


def check(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["check", "--no-cache", *args])
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    return done.exit_code, done.stdout, done.stderr


def lines_about(out: str, path: Path) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(str(path))]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "buggy.py").write_text(BUGGY)
    return tmp_path


def assert_one_line_and_the_rest_linted(project: Path, bad: Path, message: str) -> None:
    code, out, _ = check(str(project))
    about = lines_about(out, bad)
    assert len(about) == 1 and message in about[0], out
    assert "buggy.py:17:5: LR101" in out and code == 1


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("sum.py", "x = " + " + ".join(["1"] * 30000)),
        ("sum_lines.py", "x = (1\n" + "+ 1\n" * 30000 + ")"),
        ("attributes.py", "x = a" + ".b" * 30000),
    ],
)
def test_chains_too_long_to_parse_are_one_line_and_fast(project: Path, name: str, code: str) -> None:
    (project / name).write_text(f"from torch.optim import lr_scheduler\n{code}\n")
    assert_one_line_and_the_rest_linted(project, project / name, "LR000 error: an expression is nested too deeply")


def test_a_10_mb_file_that_could_hold_a_finding_is_skipped_with_a_warning(project: Path) -> None:
    big = project / "generated.py"
    big.write_text("from torch.optim import lr_scheduler\n" + "x = 1\n" * 1_750_000)
    size = big.stat().st_size
    code, out, err = check(str(project))
    assert lines_about(out, big) == [] and "buggy.py:17:5: LR101" in out and code == 1
    warning = f"lrlint: warning: {big}: not linted: {size:,} bytes, over max-file-size (4,194,304 bytes)"
    assert warning in err.splitlines()


def test_a_10_mb_file_without_schedulers_is_skipped_silently(project: Path) -> None:
    (project / "generated.py").write_text("x = 1\n" * 1_750_000)
    code, out, err = check(str(project))
    assert code == 1 and lines_about(out, project / "generated.py") == [] and "generated.py" not in err


def test_a_10_mb_file_without_schedulers_is_skipped_quickly_when_allowed(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.lrlint]\nmax-file-size = 20000000\n")
    (project / "generated.py").write_text("x = 1\n" * 1_750_000)
    code, out, _ = check(str(project))
    assert code == 1 and lines_about(out, project / "generated.py") == []


@pytest.mark.parametrize(
    "notebook",
    [
        {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
        {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# lr_scheduler notes"]}], "metadata": {}},
        {"cells": [{"cell_type": "raw", "source": "scheduler.step()"}, "not a cell", 7], "metadata": {}},
    ],
)
def test_notebooks_without_code_cells_are_clean(project: Path, notebook: dict) -> None:
    (project / "notes.ipynb").write_text(json.dumps(notebook))
    code, out, _ = check(str(project))
    assert lines_about(out, project / "notes.ipynb") == [] and code == 1


def test_a_symlink_loop_is_walked_once(project: Path) -> None:
    (project / "sub").mkdir()
    (project / "sub" / "loop").symlink_to(project, target_is_directory=True)
    (project / "sub" / "me").symlink_to(project / "sub", target_is_directory=True)
    code, out, err = check(str(project))
    assert code == 1 and out.count("LR101") == 1 and "1 finding in 1 file" in err


def test_a_file_without_read_permission_is_one_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = project / "locked.py"
    locked.write_text(BUGGY)
    if os.geteuid() != 0:
        locked.chmod(0)
    else:  # root reads everything: make the read fail the way it fails for everyone else
        real = Path.read_bytes
        monkeypatch.setattr(
            Path,
            "read_bytes",
            lambda self: (_ for _ in ()).throw(PermissionError(13, "denied")) if self == locked else real(self),
        )
    assert_one_line_and_the_rest_linted(project, locked, "LR000 error: permission denied: cannot read the file")


def test_a_file_that_disappears_during_the_run_is_one_line(project: Path) -> None:
    gone = project / "gone.py"
    run = lint_files([gone, project / "buggy.py"], Settings())
    assert [(Path(f.path).name, f.code, f.message) for f in run.findings] == [
        ("buggy.py", "LR101", run.findings[0].message),
        ("gone.py", "LR000", "file disappeared before it could be read"),
    ]


def test_paths_with_spaces_and_non_ascii_names(tmp_path: Path) -> None:
    folder = tmp_path / "my runs" / "entraînement ünï"
    folder.mkdir(parents=True)
    (folder / "train é.py").write_text(BUGGY)
    code, out, _ = check(str(tmp_path), "--format", "json")
    assert code == 1 and [(f["path"], f["code"]) for f in json.loads(out)] == [(str(folder / "train é.py"), "LR101")]


def test_an_internal_error_in_one_rule_is_that_files_diagnostic(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "bad_args.py").write_text("from torch.optim.lr_scheduler import StepLR\ns = StepLR(opt, step=3)\n")

    def broken(self: object, model: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(lr101.StepBeforeOptimizer, "check", broken)
    code, out, err = check(str(project))
    assert code == 2 and "LR201" in out  # the other rules still ran, on every file
    assert f"lrlint: {project / 'buggy.py'}: internal error in LR101: ZeroDivisionError: boom" in err
    assert "Traceback" not in err
    _, _, debug = check(str(project), "--debug")
    assert "Traceback (most recent call last)" in debug and "raise ZeroDivisionError" in debug


MARKER_CODE = """\
import pathlib
pathlib.Path({marker!r}).write_text("executed")
"""


def test_linting_never_imports_or_runs_the_code(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    project = tmp_path / "project"
    project.mkdir()
    (project / "helpers.py").write_text(
        MARKER_CODE.format(marker=str(marker)) + "def train(loader, optimizer, scheduler):\n"
        "    for batch in loader:\n        optimizer.step()\n        scheduler.step()\n"
    )
    (project / "train.py").write_text(
        MARKER_CODE.format(marker=str(marker))
        + "import torch\nimport helpers\nfrom torch.optim.lr_scheduler import StepLR\n"
        "optimizer = torch.optim.SGD(params, lr=0.1)\nscheduler = StepLR(optimizer, step_size=30)\n"
        "for epoch in range(90):\n    helpers.train(loader, optimizer, scheduler)\n    print(scheduler.get_lr())\n"
        "if __name__ == '__main__':\n    pathlib.Path(" + repr(str(marker)) + ").write_text('main ran')\n"
    )
    (project / "conftest.py").write_text(MARKER_CODE.format(marker=str(marker)))
    (project / "sitecustomize.py").write_text(MARKER_CODE.format(marker=str(marker)))
    for extra in ([], ["--diff"], ["--format", "sarif"], ["--fix"]):
        done = subprocess.run(
            [sys.executable, "-m", "lrlint", "check", str(project), *extra],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        expected = {"--fix": "Fixed 1 finding", "--diff": "+    print(scheduler.get_last_lr())"}
        assert expected.get(extra[0] if extra else "", "LR102") in done.stdout + done.stderr, done.stdout + done.stderr
        assert not marker.exists(), f"lrlint ran user code with {extra}"
