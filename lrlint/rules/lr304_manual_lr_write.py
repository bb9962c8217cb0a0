from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import (
    NEEDS_A_SCHEDULER,
    FrameworkStep,
    LoopKind,
    LrWrite,
    Objects,
    Role,
    Trace,
    TrainingModel,
    called_name,
    exclusive,
)
from lrlint.rules.base import Report, Rule


class ManualLrWrite(Rule):
    """
    `param_group["lr"] = ...` written in a loop whose optimizer also has a scheduler.

    A scheduler computes the next learning rate from its own state or from the rate it finds
    in the optimizer. A hand-written rate in the same loop fights it: closed-form schedulers
    (LambdaLR, OneCycleLR, CosineAnnealingLR on its closed form) overwrite the manual value at
    the next `step()`, chainable ones (StepLR, ExponentialLR) multiply it, and the curve that
    results is neither the manual one nor the schedule.

    Not reported when the write and the scheduler's step sit in opposite branches of one `if`
    (manual warmup, then the scheduler), nor for a write outside the epoch and batch loops: a
    reset at the start of each run, fold or task (`for task in tasks: group["lr"] = base_lr`,
    then the epochs) starts a schedule again, it does not fight it. Nor for a clamp of the rate the
    scheduler set (`if group["lr"] < floor: group["lr"] = floor`, `max(group["lr"], floor)`).

    In a LightningModule, a write in a hook Lightning calls during training (`optimizer_step`,
    the classic hand-written warmup, or `on_train_batch_start`) is reported when Lightning also
    steps a scheduler of that optimizer.

    Fix: express the manual part as a scheduler (LinearLR for warmup, SequentialLR to join
    phases), or drop the scheduler.
    """

    code = "LR304"
    name = "manual-lr-write"
    severity = Severity.WARNING
    summary = "param_group['lr'] written by hand in a loop whose optimizer also has a scheduler"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    if epoch < 5:
        for group in optimizer.param_groups:
            group["lr"] = 0.1 * (epoch + 1) / 5
    else:
        scheduler.step()
    for batch in loader:
        optimizer.step()
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** (step // 1000))
for epoch in range(90):
    for batch in loader:
        for group in optimizer.param_groups:
            if group["lr"] < 1e-5:
                group["lr"] = 1e-5  # a floor under the scheduler's value, not a rate of its own
        optimizer.step()
        scheduler.step()
""",
        """
import torch


def fit(model, loader, epochs, learning_rates, dynamic):
    optimizer = torch.optim.Adam(model.parameters())
    if dynamic:
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    for epoch in range(epochs):
        if not dynamic:  # a table of rates, used only when there is no scheduler
            for group in optimizer.param_groups:
                group["lr"] = learning_rates[epoch]
        for batch in loader:
            optimizer.step()
        if dynamic:
            plateau.step(validate(model))
""",
    )
    INVALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=90)
for epoch in range(90):
    for i, batch in enumerate(loader):
        if epoch == 0:
            for group in optimizer.param_groups:
                group["lr"] = 0.1 * i / len(loader)  # expect: LR304
        optimizer.step()
    scheduler.step()
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        reported: set[cst.Subscript] = set()  # a helper's write, replayed from several loops: reported once
        for trace in model.traces:
            for write in trace.lr_writes:
                if write.target in reported or _bounds_the_rate(write):
                    continue
                report = _report(model, trace, write)
                if report is not None:
                    reported.add(write.target)
                    yield report


def _report(model: TrainingModel, trace: Trace, write: LrWrite) -> Report | None:
    optimizers = model.written_optimizers(write)
    conflict = _conflicting_step(trace, write, optimizers)
    if conflict is not None:
        return Report(
            write.target,
            f"`{model.code(write.target)}` is written by hand in a loop where "
            f"`{model.receiver(conflict)}.step()` ({model.where(conflict)}) also sets it: one overwrites "
            "or rescales the other; express the manual part as a scheduler (LinearLR, SequentialLR)",
        )
    framework = _framework_step(model, trace, optimizers)
    if framework is None:
        return None
    assert trace.entry_call is not None
    return Report(
        write.target,
        f"`{model.code(write.target)}` is written by hand in {trace.entry.name} "
        f"({trace.entry_call.description}) while the scheduler returned at "
        f"{model.where(framework.node)} sets it too ({framework.how}): one overwrites or rescales "
        "the other; express the manual part as a scheduler (LinearLR, SequentialLR) or stop "
        "returning the scheduler",
    )


def _framework_step(model: TrainingModel, trace: Trace, optimizers: Objects) -> FrameworkStep | None:
    """A scheduler of these optimizers that the framework steps, when it also runs this hook in training."""
    if trace.entry_call is None or trace.entry_call.cadence is None or not optimizers:
        return None
    attached = (step for step in model.framework_steps if any(s.optimizers & optimizers for s in step.objects))
    return next(attached, None)


def _conflicting_step(trace: Trace, write: LrWrite, optimizers: Objects) -> cst.Call | None:
    """A step of a scheduler of these optimizers that runs in the same training loop as the write."""
    training_loops = [
        loop
        for loop in write.loops
        if loop.kind in (LoopKind.EPOCH, LoopKind.BATCH) and not _iterates_param_groups(loop.event.iterated)
    ]
    if not optimizers or not training_loops:
        return None
    outer = training_loops[0]
    for item in trace.steps(Role.SCHEDULER):
        attached = item.attached_optimizers
        if outer in item.loops and attached & optimizers and not exclusive(item.guards, write.guards):
            return item.call
    return None


def _bounds_the_rate(write: LrWrite) -> bool:
    """A clamp of the rate the scheduler set, not a rate of its own: `if group["lr"] < floor:
    group["lr"] = floor`, or `group["lr"] = max(group["lr"], floor)`."""
    compared = (
        part.deep_equals(write.target)
        for guard in write.guards
        if isinstance(guard.test, cst.Comparison)
        for part in (guard.test.left, *(c.comparator for c in guard.test.comparisons))
    )
    value = write.value
    bounded = (
        isinstance(value, cst.Call)
        and called_name(value.func) in ("min", "max")
        and any(arg.value.deep_equals(write.target) for arg in value.args)
    )
    return bounded or any(compared)


def _iterates_param_groups(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Attribute) and expr.attr.value == "param_groups"
