from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, Role, TraceItem, TrainingModel, walk
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
    another delegates its own hook to the wrapped one's; nor where the code calls it only on objects
    that have an attribute it tests (`s.get_lr() if hasattr(s, "last_lr") else s.get_last_lr()`).

    Nor where the same function sets the scheduler's position (`scheduler.last_epoch = restored`):
    there `get_lr()` computes the rate of the position just set, as `step()` does, and
    `get_last_lr()` would return the old one.

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
        """
def lr_of(scheduler):
    # torch's schedulers have no `last_lr`: only the project's own, whose get_lr() is a plain getter
    return scheduler.get_lr() if hasattr(scheduler, "last_lr") else scheduler.get_last_lr()


import torch
print(lr_of(torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)))
""",
        """
from torch.optim.lr_scheduler import LambdaLR


class Schedulers:
    def __init__(self, optimizers, lr_lambda):
        self.schedulers = [LambdaLR(optimizer, lr_lambda) for optimizer in optimizers]

    def load_state_dict(self, state):
        for scheduler in self.schedulers:
            scheduler.last_epoch = state["last_epoch"]
            scheduler._last_lr = scheduler.get_lr()  # the rate of the restored position
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
                if _chosen_by_attribute(item, func.value) or _sets_the_position(model, item, func.value):
                    continue
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


def _chosen_by_attribute(item: TraceItem, receiver: cst.BaseExpression) -> bool:
    """`s.get_lr() if hasattr(s, "last_lr") else s.get_last_lr()` (or the same `if` statement): the code
    calls `get_lr()` only on schedulers of its own kind, told apart by an attribute torch's do not have."""
    tests = [guard.test for guard in item.guards if not guard.negated]
    tests += [
        node.test
        for node in walk(item.frame.function.node)
        if isinstance(node, cst.IfExp) and any(inner is item.call for inner in walk(node.body))
    ]
    return any(_tests_attribute(test, receiver) for test in tests)


def _sets_the_position(model: TrainingModel, item: TraceItem, receiver: cst.BaseExpression) -> bool:
    """`scheduler.last_epoch = restored` in the same function: code restoring a scheduler by hand asks
    get_lr() for the rate of the position it just set, as step() does (get_last_lr() is the old one)."""
    writes = model.index.attribute_writes.get("last_epoch", [])
    return any(w.function is item.frame.function and w.target.value.deep_equals(receiver) for w in writes)


def _tests_attribute(test: cst.BaseExpression, receiver: cst.BaseExpression) -> bool:
    return (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Name)
        and test.func.value == "hasattr"
        and bool(test.args)
        and test.args[0].value.deep_equals(receiver)
    )
