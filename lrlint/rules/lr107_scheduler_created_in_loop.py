from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, LoopKind, Role, StepCadence, Trace, TrainingModel
from lrlint.rules.base import Report, Rule


class SchedulerCreatedInLoop(Rule):
    """
    A scheduler is constructed inside the loop that steps it, so it restarts every iteration.

    Constructing a scheduler resets its schedule (and writes `initial_lr` into the optimizer):
    re-created in every epoch, a StepLR never reaches its first milestone and a warmup restarts
    each time. Not reported when the construction is conditional (a phase switch such as
    `if epoch == 10: scheduler = CosineAnnealingLR(...)`) or when the optimizer is created in
    the same loop, around an epoch loop (a fresh run per fold or per trial). Built with its
    optimizer at the top of every epoch of the epoch loop itself, both restart each epoch: reported.
    A hook a framework calls every batch or epoch (Lightning's `training_step`) is such a loop's
    body: a scheduler built and stepped there, on the module's optimizer, restarts at every call.

    Fix: construct the scheduler once, before the loop.
    """

    code = "LR107"
    name = "scheduler-created-in-loop"
    severity = Severity.ERROR
    summary = "a scheduler constructed inside the loop that steps it restarts every iteration"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
for fold in range(5):
    optimizer = torch.optim.SGD(params, lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 10)
    for epoch in range(30):
        for batch in loader:
            optimizer.step()
        scheduler.step()
""",
    )
    INVALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
for epoch in range(30):
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 10)  # expect: LR107
    for batch in loader:
        optimizer.step()
    scheduler.step()
""",
        """
import lightning as L
import torch


class Module(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()
        warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, step / 1000))  # expect: LR107
        optimizer.zero_grad()
        self.manual_backward(self.loss(batch))
        optimizer.step()
        warmup.step()

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=1e-4)
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for trace in model.traces:
            yield from _built_in_a_hook(model, trace)
            for item in trace.items:
                schedulers = [o for o in item.constructed if o.role is Role.SCHEDULER]
                if not schedulers or not item.loops or item.guards_inside(item.loops[-1]):
                    continue
                loop = item.loops[-1]
                built_here = {other.call for other in loop.items for _ in other.constructed}
                for scheduler in schedulers:
                    stepped_here = any(
                        other.role is Role.SCHEDULER and scheduler in other.objects for other in loop.items
                    )
                    with_optimizer = any(optimizer.call in built_here for optimizer in scheduler.optimizers)
                    if not stepped_here or not scheduler.optimizers:
                        continue
                    if not with_optimizer:
                        yield Report(
                            item.call,
                            f"{scheduler.name} is constructed inside the loop that steps it: it restarts every "
                            "iteration and the schedule never progresses; construct it once before the loop",
                        )
                    elif loop.kind is LoopKind.EPOCH:  # not a fold or trial loop: its body is one epoch
                        yield Report(
                            item.call,
                            f"{scheduler.name} and its optimizer are built again at every epoch of the epoch loop: "
                            "the schedule and the optimizer's state restart each epoch; build both once, before "
                            "the epoch loop",
                        )


def _built_in_a_hook(model: TrainingModel, trace: Trace) -> Iterator[Report]:
    """Built and stepped in a hook a framework calls every batch or epoch (Lightning's
    `training_step` under manual optimisation), on an optimizer that outlives the call."""
    if trace.entry_call is None or trace.entry_call.cadence not in (StepCadence.PER_BATCH, StepCadence.PER_EPOCH):
        return
    built_here = {other.call for other in trace.items for _ in other.constructed}
    for item in trace.items:
        if item.loops or item.guards:
            continue
        for scheduler in (o for o in item.constructed if o.role is Role.SCHEDULER):
            stepped = any(other.role is Role.SCHEDULER and scheduler in other.objects for other in trace.items)
            outlives = scheduler.optimizers and not any(o.call in built_here for o in scheduler.optimizers)
            if stepped and outlives:
                yield Report(
                    item.call,
                    f"{scheduler.name} is constructed and stepped in {trace.entry.name} "
                    f"({trace.entry_call.description}): it restarts at every call and the schedule never "
                    "progresses; construct it once, outside the hook (Lightning: return it from "
                    "configure_optimizers and step self.lr_schedulers())",
                )
