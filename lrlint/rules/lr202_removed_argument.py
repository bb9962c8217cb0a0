from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, TrainingModel, newest_torch, removed_argument, version_tuple
from lrlint.rules.base import Report, Rule, constructor_name
from lrlint.rules.edits import without_argument


class RemovedArgument(Rule):
    """
    An argument that the targeted torch deprecated or removed, such as `verbose=`.

    `verbose` was deprecated for every LR scheduler in torch 2.2 (it stopped printing) and
    removed in torch 2.7: passing it is a `TypeError` there, so code that ran for years breaks
    on upgrade. What counts as deprecated or removed follows `--target-torch` (or
    `[tool.lrlint] target-torch`), by default the newest torch lrlint ships signatures for:
    with `--target-torch 2.1` the argument is fine, with 2.4 it is deprecated, with 2.7 removed.

    Fix: drop the argument; to see the learning rate, print `scheduler.get_last_lr()`.
    """

    code = "LR202"
    name = "removed-argument"
    severity = Severity.ERROR
    summary = "an argument the targeted torch removed or deprecated, such as verbose="
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
from torch.optim.lr_scheduler import ReduceLROnPlateau
plateau = ReduceLROnPlateau(optimizer, mode="min", patience=5)
""",
    )
    INVALID = (
        """
from torch.optim.lr_scheduler import ReduceLROnPlateau
plateau = ReduceLROnPlateau(optimizer, mode="min", patience=5, verbose=True)  # expect: LR202
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        target = self.settings.target_torch or newest_torch()
        for call, spec in model.constructor_calls():
            for arg in call.args:
                entry = removed_argument(spec, arg.keyword.value) if arg.keyword else None
                if entry is None or target < version_tuple(entry.deprecated):
                    continue
                if target >= version_tuple(entry.removed):
                    status = f"was removed in torch {entry.removed} (TypeError)"
                else:
                    status = f"is deprecated since torch {entry.deprecated} and removed in {entry.removed}"
                yield Report(
                    arg,
                    f"`{entry.name}=` of {constructor_name(call, spec)} {status}: {entry.advice}",
                    without_argument(call, arg),
                )
