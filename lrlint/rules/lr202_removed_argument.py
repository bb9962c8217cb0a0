from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, TrainingModel, bind_arguments, newest_torch, version_tuple
from lrlint.rules.base import Report, Rule, constructor_name
from lrlint.rules.edits import without_argument

# A condition on torch's version: `torch.__version__`, `TORCH_VERSION`, `_TORCH_GREATER_EQUAL_2_7`.
_VERSION_TEST = re.compile(
    r"__version__|torch\w*version|version\w*torch|torch_(?:ge|gt|lt|le|greater|less)", re.IGNORECASE
)


class RemovedArgument(Rule):
    """
    An argument that the targeted torch deprecated or removed, such as `verbose=`.

    `verbose` was deprecated for every LR scheduler in torch 2.2 (it stopped printing) and
    removed in torch 2.7: passing it is a `TypeError` there, so code that ran for years breaks
    on upgrade. What counts as deprecated or removed follows `--target-torch` (or
    `[tool.lrlint] target-torch`), by default the newest torch lrlint ships signatures for:
    with `--target-torch 2.1` the argument is fine, with 2.4 it is deprecated, with 2.7 removed.
    `verbose` was the last positional parameter, so the `super().__init__(optimizer, last_epoch,
    verbose)` of a scheduler subclass written for older torch passes it by position: that is
    reported too (and fixed when no argument follows it). Not reported under a test of torch's
    version (`if version.parse(torch.__version__) < version.parse("2.7"):` or its `else`): code
    written for old and new torch passes it only where it is valid.

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
        """
import torch
from packaging import version
from torch.optim.lr_scheduler import LRScheduler

class KLAdaptiveLR(LRScheduler):
    def __init__(self, optimizer, kl_threshold=0.008, last_epoch=-1, verbose=False):
        if version.parse(torch.__version__) >= version.parse("2.7"):
            super().__init__(optimizer, last_epoch)
        else:  # only older torch, which still takes verbose
            super().__init__(optimizer, last_epoch, verbose)
""",
    )
    INVALID = (
        """
from torch.optim.lr_scheduler import ReduceLROnPlateau
plateau = ReduceLROnPlateau(optimizer, mode="min", patience=5, verbose=True)  # expect: LR202
""",
        """
from torch.optim.lr_scheduler import LRScheduler

class InverseLR(LRScheduler):
    def __init__(self, optimizer, power=1.0, last_epoch=-1, verbose=False):
        self.power = power
        super().__init__(optimizer, last_epoch, verbose)  # expect: LR202
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        target = self.settings.target_torch or newest_torch()
        for call, spec in model.constructor_calls():
            for arg, entry in bind_arguments(call, spec).removed:
                if target < version_tuple(entry.deprecated) or _tests_the_torch_version(model, call):
                    continue
                if target >= version_tuple(entry.removed):
                    status = f"was removed in torch {entry.removed} (TypeError)"
                else:
                    status = f"is deprecated since torch {entry.deprecated} and removed in {entry.removed}"
                named = f"`{entry.name}=`" if arg.keyword else f"`{entry.name}` (by position)"
                yield Report(
                    arg,
                    f"{named} of {constructor_name(call, spec)} {status}: {entry.advice}",
                    without_argument(call, arg) if _last_positional(call, arg) else None,
                )


def _last_positional(call: cst.Call, arg: cst.Arg) -> bool:
    """Dropping `arg` moves no other argument to another parameter."""
    return arg.keyword is not None or all(other.keyword is not None for other in call.args[call.args.index(arg) + 1 :])


def _tests_the_torch_version(model: TrainingModel, call: cst.Call) -> bool:
    """The call runs under a test of torch's version (`if version.parse(torch.__version__) < ...:`), as
    code that supports old and new torch writes the older call: it may well run only where it is valid."""
    return any(_VERSION_TEST.search(model.code(guard.test)) for guard in model.guards_of(call))
