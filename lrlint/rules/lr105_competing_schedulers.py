from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import Role, Trace, TraceItem, TrainingModel
from lrlint.rules.base import Report, Rule


class CompetingSchedulers(Rule):
    """
    The same scheduler is stepped twice per iteration, or two schedulers of one optimizer are
    both stepped every iteration outside SequentialLR / ChainedScheduler.

    Each `step()` advances a schedule by one. Stepped twice in one iteration, a schedule sized
    for 90 epochs is over after 45; stepped per batch and again per epoch, it drifts by one
    step each epoch. Two schedulers driving one optimizer each apply their factor to the
    shared learning rate: chainable ones (StepLR, ExponentialLR) multiply, closed-form ones
    (LambdaLR, OneCycleLR) overwrite each other, and the resulting curve is neither schedule.

    Steps in opposite branches of an `if` (warmup, then decay) or under different conditions
    are not reported.

    Fix: step each scheduler once per iteration; compose phases with `SequentialLR` and
    deliberate products with `ChainedScheduler`.
    """

    code = "LR105"
    name = "competing-schedulers"
    severity = Severity.WARNING
    summary = "a scheduler stepped twice per iteration, or two schedulers of one optimizer stepped together"
    VALID = (
        """
import torch
from torch.optim.lr_scheduler import LinearLR, StepLR
optimizer = torch.optim.SGD(params, lr=0.1)
warmup = LinearLR(optimizer, start_factor=0.1, total_iters=5)
decay = StepLR(optimizer, step_size=30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    if epoch < 5:
        warmup.step()
    else:
        decay.step()
""",
    )
    INVALID = (
        """
import torch
from torch.optim.lr_scheduler import ExponentialLR, MultiStepLR
optimizer = torch.optim.SGD(params, lr=0.1)
exp = ExponentialLR(optimizer, gamma=0.95)
steps = MultiStepLR(optimizer, milestones=[30, 60])
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    exp.step()
    steps.step()  # expect: LR105
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
    validate(model)
    scheduler.step()  # expect: LR105
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for trace in model.traces:
            steps = [item for item in trace.steps(Role.SCHEDULER) if item.loops]
            for index, second in enumerate(steps):
                for first in steps[:index]:
                    report = _conflict(model, trace, first, second)
                    if report is not None:
                        yield report
                        break


def _conflict(model: TrainingModel, trace: Trace, first: TraceItem, second: TraceItem) -> Report | None:
    loop = second.loops[-1]
    if loop not in first.loops or second.guards_inside(loop):
        return None
    receiver = f"`{model.receiver(second.call)}.step()`"
    if first.objects == second.objects:
        if first.guards_inside(loop):
            return None  # a conditional extra step, not every iteration
        cadence = "every iteration" if first.loops[-1] is loop else "every batch and again every epoch"
        return Report(
            second.call,
            f"{receiver} steps the same scheduler a second time ({model.where(first.call)} steps it too): it "
            f"advances {cadence}, so the schedule runs ahead; keep one step per iteration",
        )
    if first.loops[-1] is not loop or first.guards != second.guards or first.objects & second.objects:
        return None
    shared = first.attached_optimizers & second.attached_optimizers
    if not shared or _related(first, second):
        return None
    names = " / ".join(sorted(model.describe(o) for o in shared))
    return Report(
        second.call,
        f"{receiver} and `{model.receiver(first.call)}.step()` ({model.where(first.call)}) both drive {names} every "
        "iteration: their factors combine into a curve neither describes; use SequentialLR for phases or "
        "ChainedScheduler to chain on purpose",
    )


def _related(first: TraceItem, second: TraceItem) -> bool:
    """One contains the other (SequentialLR / ChainedScheduler and its children)."""
    return any(a in b.children or b in a.children for a in first.objects for b in second.objects)
