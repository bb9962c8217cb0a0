"""`lrlint.api`: the run every front end shares, called directly as a program would."""

from __future__ import annotations

from pathlib import Path

import pytest

import lrlint.linter
from lrlint import api
from lrlint.config import Settings
from lrlint.sources import Source

SCRIPT = """\
import torch
from torch.optim.lr_scheduler import StepLR

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, step=10, gamma=0.5)
for epoch in range(9):
    train(optimizer)
    scheduler.step(epoch)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "README.md").write_text("not code\n")
    return tmp_path


def test_check_reports_findings_files_and_exit_code(project: Path) -> None:
    outcome = api.check([project], Settings())
    assert [f.code for f in outcome.findings] == ["LR201", "LR302"]
    assert outcome.files_checked == 1 and outcome.exit_code() == 1 and outcome.exit_code(exit_zero=True) == 0
    missing = api.check([project / "absent.py"], Settings())
    assert missing.missing == [str(project / "absent.py")] and missing.exit_code() == 2


def test_fix_writes_the_files_and_reports_what_is_left(project: Path) -> None:
    outcome = api.check([project], Settings(), api.CheckOptions(fix=True))
    assert outcome.fixed == 2 and outcome.findings == []
    assert "StepLR(optimizer, step_size=10, gamma=0.5)" in (project / "train.py").read_text()


def test_fixes_of_a_run_share_one_linter(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Project modules that several fixed files use are parsed once, not once per file."""
    (project / "other.py").write_text(SCRIPT)
    built: list[object] = []
    original = lrlint.linter.Linter.__init__

    def counting(self: lrlint.linter.Linter, *args: object, **kwargs: object) -> None:
        built.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lrlint.linter.Linter, "__init__", counting)
    fixes = api.fixes([project], Settings())
    assert len(fixes) == 2 and len(built) == 2  # one for the run (one worker, in process), one for the fixes


def test_a_baseline_sets_its_findings_aside_and_a_broken_one_is_a_usage_error(project: Path) -> None:
    recorded = project / "baseline.json"
    api.check([project], Settings(), api.CheckOptions(write_baseline=recorded))
    outcome = api.check([project], Settings(), api.CheckOptions(baseline=recorded))
    assert outcome.findings == [] and outcome.baseline is not None and outcome.baseline.hidden == 2
    recorded.write_text("{not json")
    with pytest.raises(api.UsageError):
        api.check([project], Settings(), api.CheckOptions(baseline=recorded))


def test_check_source_lints_a_buffer_as_the_file_it_names(tmp_path: Path) -> None:
    outcome = api.check_source(Source(str(tmp_path / "unsaved.py"), SCRIPT), Settings(ignore=("LR302",)))
    assert [(f.path, f.code) for f in outcome.findings] == [(str(tmp_path / "unsaved.py"), "LR201")]
