from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, Role, TrainingModel
from lrlint.rules.base import Report, Rule
from lrlint.rules.edits import renamed_attribute


class GetLrCall(Rule):
    """
    `scheduler.get_lr()` read by user code.

    `get_lr()` is the internal hook `step()` uses to compute the next learning rate from the
    current one. Called from outside `step()` it returns a value computed for a step that has
    not happened (for chainable schedulers such as StepLR or ExponentialLR, the rate after an
    extra decay), and torch warns. Logging it shows learning rates the run never uses.

    Not reported on a scheduler class of the project that defines `get_lr()` itself: its own
    method is whatever it says; nor inside a `get_lr()` method, where a scheduler that wraps
    another delegates its own hook to the wrapped one's.

    Fix: use `scheduler.get_last_lr()`, the learning rates set by the last `step()`.
    """

    code = "LR303"
    name = "get-lr-call"
    severity = Severity.WARNING
    summary = "scheduler.get_lr() read by user code; use get_last_lr()"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
print(scheduler.get_last_lr())
""",
        """
from torch.optim.lr_scheduler import LRScheduler

class Warmup(LRScheduler):
    def get_lr(self):
        return [base * min(1.0, self.last_epoch / 5) for base in self.base_lrs]
""",
    )
    INVALID = (
        """
import torch
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
print("lr", scheduler.get_lr()[0])  # expect: LR303
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for trace in model.traces:
            for item in trace.items:
                func = item.call.func
                if item.is_step or not (isinstance(func, cst.Attribute) and func.attr.value == "get_lr"):
                    continue
                if item.frame.function.name == "get_lr":
                    continue  # a wrapper's get_lr() delegating to the wrapped scheduler's
                receivers = model.resolver.objects(func.value, item.context)
                if receivers and all(
                    o.role is Role.SCHEDULER and o.torch_class and not o.overrides("get_lr") for o in receivers
                ):
                    yield Report(
                        item.call,
                        f"`{model.receiver(item.call)}.get_lr()` is internal to step(): outside it torch warns, "
                        "and chainable schedulers return a rate the run does not use; call "
                        f"`{model.receiver(item.call)}.get_last_lr()`",
                        renamed_attribute(func, "get_last_lr"),
                    )
