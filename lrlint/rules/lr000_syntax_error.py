from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, TrainingModel
from lrlint.rules.base import Report, Rule


class SyntaxErrorRule(Rule):
    """
    The file could not be read or parsed, so nothing in it was checked.

    Reported for invalid Python syntax (at the error position), a file that is not valid UTF-8
    (or its declared encoding), a binary file, a file over the size limit, and a notebook that
    is not valid JSON (or one of its code cells, reported in that cell). The run goes on with
    the other files. Files that never mention a scheduler ("schedule" appears nowhere in them)
    are read but not parsed, so their syntax is not checked: lrlint is not a syntax checker.

    Fix: make the file parse with the Python version you run, or exclude it
    (`--exclude`, `[tool.lrlint] exclude`).
    """

    code = "LR000"
    name = "syntax-error"
    severity = Severity.ERROR
    summary = "the file could not be read or parsed; nothing in it was checked"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        "from torch.optim.lr_scheduler import StepLR\n",
        "def unrelated(:  # no LR code here: not parsed\n    pass\n",
    )
    INVALID = ("from torch.optim.lr_scheduler import StepLR\ndef broken(:  # expect: LR000\n    pass\n",)

    def check(self, model: TrainingModel) -> Iterator[Report]:
        return iter(())  # reported by the engine, which is the one that parses
