from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, StepCadence, TrackedObject, TrainingModel, Unit
from lrlint.rules.base import Report, Rule


class IterationSchedulerPerEpoch(Rule):
    """
    A per-iteration scheduler is stepped once per epoch.

    OneCycleLR, CyclicLR and the transformers warmup schedules
    (`get_linear_schedule_with_warmup`, `get_cosine_schedule_with_warmup`, `get_scheduler`, ...)
    are sized in optimizer steps, as is any scheduler sized from the number of batches
    (`CosineAnnealingLR(T_max=epochs * len(loader))`). Stepped once per epoch, a run of 3 epochs
    of 500 batches takes 3 of its 1500 steps: the warmup never ends and the learning rate never
    reaches its peak or its annealed value.

    A LambdaLR whose function's horizon is derived from the number of batches
    (`step / (epochs * len(loader))`, `step < num_training_steps`) is sized in optimizer steps too.

    In a Lightning `configure_optimizers`, such a scheduler returned with `"interval": "epoch"`,
    or without an interval (Lightning's default is per epoch), is reported too, and so is one
    stepped by an ignite handler on `Events.EPOCH_COMPLETED` (or `EPOCH_STARTED`).

    Fix: call `scheduler.step()` right after `optimizer.step()` inside the batch loop; in
    Lightning return `{"scheduler": scheduler, "interval": "step"}`.
    """

    code = "LR103"
    name = "iteration-scheduler-per-epoch"
    severity = Severity.ERROR
    summary = "a scheduler sized in optimizer steps (OneCycleLR, warmup schedules) is stepped once per epoch"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))
for epoch in range(10):
    for x, y in loader:
        optimizer.step()
        scheduler.step()
""",
        """
import torch
import pytorch_lightning as pl

class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        total = self.trainer.estimated_stepping_batches
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
""",
        """
import torch
from transformers import get_linear_schedule_with_warmup

optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
scheduler = get_linear_schedule_with_warmup(optimizer, 500, num_epochs * num_updates)
for epoch in range(num_epochs):
    batches = iter(loader)
    for _ in range(num_updates):  # one optimizer update per iteration
        micro_batches = [next(batches) for _ in range(accumulation_steps)]
        for batch in micro_batches:
            model(**batch).loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
""",
    )
    INVALID = (
        """
import math
import torch

total_steps = epochs * len(loader)

def cosine(step):
    return 0.5 * (1 + math.cos(math.pi * step / total_steps))

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)
for epoch in range(epochs):
    for x, y in loader:
        optimizer.step()
    scheduler.step()  # expect: LR103
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))
for epoch in range(10):
    for x, y in loader:
        optimizer.step()
    scheduler.step()  # expect: LR103
""",
        """
import torch
from transformers import get_linear_schedule_with_warmup
import pytorch_lightning as pl

class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        scheduler = get_linear_schedule_with_warmup(optimizer, 100, self.trainer.estimated_stepping_batches)
        return [optimizer], [scheduler]  # expect: LR103
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        per_batch = _stepped_per_batch(model)
        for trace, item in model.scheduler_steps():
            if item.call.args or trace.cadence(item) is not StepCadence.PER_EPOCH:
                continue
            if item.objects & per_batch:
                continue  # also stepped every batch elsewhere: a final extra step, not this bug
            evidence = _iteration_evidence(model, item.objects)
            if evidence:
                yield Report(
                    item.call,
                    f"`{model.receiver(item.call)}.step()` runs once per epoch, but {evidence} is sized in "
                    "optimizer steps: the schedule barely advances (warmup never ends); step it right "
                    "after optimizer.step() in the batch loop",
                )
        for step in model.framework_steps:
            evidence = _iteration_evidence(model, step.objects) if step.cadence is StepCadence.PER_EPOCH else None
            if evidence:
                yield Report(
                    step.node,
                    f"{step.how}, but {evidence} is sized in optimizer steps: the schedule barely advances; "
                    f"{step.remedy}",
                )


def _stepped_per_batch(model: TrainingModel) -> frozenset[TrackedObject]:
    return frozenset(
        obj
        for trace, item in model.scheduler_steps()
        if trace.cadence(item) is StepCadence.PER_BATCH
        for obj in item.objects
    )


def _iteration_evidence(model: TrainingModel, schedulers: frozenset[TrackedObject]) -> str | None:
    sizings = [(s, model.sizing(s)) for s in model.ordered(schedulers)]
    if not sizings or any(sizing.unit is not Unit.ITERATIONS for _, sizing in sizings):
        return None
    return "; ".join(dict.fromkeys(f"{model.describe(s)} ({sizing.evidence})" for s, sizing in sizings))
