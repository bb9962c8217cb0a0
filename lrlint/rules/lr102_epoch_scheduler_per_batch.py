from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import (
    NEEDS_A_SCHEDULER,
    LoopKind,
    StepCadence,
    Trace,
    TraceItem,
    TrackedObject,
    TrainingModel,
    Unit,
)
from lrlint.rules.base import Report, Rule


class EpochSchedulerPerBatch(Rule):
    """
    A scheduler whose sizes count epochs is stepped in the batch loop.

    `StepLR(step_size=30)`, `MultiStepLR(milestones=[30, 60])`, `CosineAnnealingLR(T_max=epochs)`,
    `ExponentialLR(gamma=0.9)` and the `total_iters` of LinearLR/ConstantLR/PolynomialLR count
    calls to `step()`. Stepped every batch, a schedule meant for 30 epochs is over after 30
    batches: the learning rate collapses (or cycles) within the first epoch.

    LambdaLR and MultiplicativeLR are sized by their function: one whose horizon (what it compares
    its step count with, or divides it by) counts epochs (`epoch < warmup_epochs`,
    `1 - epoch / args.epochs`), or that decays by a factor per step (`0.95 ** epoch`,
    `MultiplicativeLR(opt, lambda _: 0.95)`), is reported the same way.

    Not reported when the sizes are derived from the number of batches (`len(loader)`,
    `steps_per_epoch`, `total_steps`, `max_iter`, `num_training_steps`, ...), when literal sizes
    are too large to count epochs (milestones in the thousands), or when they come from values
    lrlint cannot see (a config object, an option not named for epochs): unknown means silent.
    Loops with no epochs at all (an RL episode loop, `while it < max_iter`) count iterations,
    and are not reported either.
    A step guarded by its own condition inside the batch loop (`if i == len(loader) - 1:`) is
    not per batch and is not reported either; a condition that only tests that the scheduler
    exists (`if scheduler is not None:`) is not such a condition.

    In a LightningModule (recognised by its base class), the same holds for a scheduler returned
    by `configure_optimizers` with `"interval": "step"`, which Lightning steps after every
    optimizer step, and for one stepped by hand in `training_step` under manual optimisation.
    The HF Trainer (and the trainers built on it) steps the scheduler it is handed
    (`Trainer(optimizers=(optimizer, scheduler))`, or `self.lr_scheduler` of a subclass, as an
    overridden `create_scheduler` builds it) after every optimizer step; ReduceLROnPlateau
    excepted; so does DeepSpeed's engine with the scheduler handed to `deepspeed.initialize(...,
    lr_scheduler=scheduler)`, in every `engine.step()`. An ignite handler on
    `Events.ITERATION_COMPLETED` (or `ITERATION_STARTED`) runs every iteration.

    Fix: move `scheduler.step()` after the batch loop, or size the scheduler in optimizer steps
    (`T_max=epochs * len(loader)`).
    """

    code = "LR102"
    name = "epoch-scheduler-per-batch"
    severity = Severity.ERROR
    summary = "a scheduler sized in epochs is stepped every batch"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR

optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs * len(train_loader))
for epoch in range(args.epochs):
    for batch in train_loader:
        loss = model(batch)
        loss.backward()
        optimizer.step()
        scheduler.step()
""",
        """
import torch
from torch.optim.lr_scheduler import StepLR

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, step_size=cfg.lr_step)  # unknown unit: silent
for epoch in range(90):
    for x, y in loader:
        optimizer.step()
        scheduler.step()
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda it: min(1.0, (it + 1) / len(loader)))
for epoch in range(args.epochs):
    for x, y in loader:
        optimizer.step()
        warmup.step()
""",
        """
import torch

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[40])
for i in range(num_iters):  # full-batch: no epochs, every size counts these iterations
    optimizer.zero_grad()
    (-mll(model(train_x), train_y)).backward()
    optimizer.step()
    scheduler.step()
""",
    )
    INVALID = (
        """
import torch

optimizers = {"g": torch.optim.Adam(generator.parameters()), "d": torch.optim.Adam(discriminator.parameters())}
schedulers = {
    "g": torch.optim.lr_scheduler.ExponentialLR(optimizers["g"], gamma=0.99),
    "d": torch.optim.lr_scheduler.ExponentialLR(optimizers["d"], gamma=0.99),
}
for epoch in range(200):
    for real in loader:
        optimizers["d"].step()
        optimizers["g"].step()
        schedulers["g"].step()  # expect: LR102
""",
        """
import torch

opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4)
opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4)
schedulers = [torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5) for opt in (opt_g, opt_d)]
for epoch in range(100):
    for real, _ in loader:
        opt_d.step()
        opt_g.step()
        for scheduler in schedulers:
            scheduler.step()  # expect: LR102
""",
        """
import deepspeed
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
engine, optimizer, _, scheduler = deepspeed.initialize(
    model=model, optimizer=optimizer, lr_scheduler=scheduler, config="ds_config.json"  # expect: LR102
)
for epoch in range(90):
    for batch in loader:
        engine.backward(engine(batch))
        engine.step()
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: min(1.0, (epoch + 1) / args.warmup_epochs))
for epoch in range(args.epochs):
    for x, y in loader:
        optimizer.step()
        warmup.step()  # expect: LR102
""",
        """
import torch
import lightning.pytorch as pl

class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
        return [optimizer], [{"scheduler": scheduler, "interval": "step"}]  # expect: LR102
""",
        """
import torch
from torch.optim.lr_scheduler import StepLR

def train(model, loader, optimizer, scheduler=None):
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
        if scheduler is not None:  # only tests that there is one: still every batch
            scheduler.step()  # expect: LR102

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, step_size=30)
for epoch in range(90):
    train(model, loader, optimizer, scheduler)
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60])
for epoch in range(90):
    for i in range(num_iters):
        optimizer.step()
        scheduler.step()  # expect: LR102
""",
        """
import lightning.pytorch as pl
import torch
from transformers import get_linear_schedule_with_warmup


class Classifier(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=2e-5)
        scheduler = get_linear_schedule_with_warmup(
            optimizer, num_warmup_steps=self.hparams.warmup, num_training_steps=self.trainer.max_epochs
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}  # expect: LR102
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for trace, item in model.scheduler_steps():
            if item.call.args or trace.cadence(item) is not StepCadence.PER_BATCH:
                continue
            if not _epochs_exist(trace, item) or trace.guarded_apart_from_optimizer(item, item.innermost_batch_loop):
                continue
            described = _epoch_evidence(model, item.objects)
            if described:
                called_per_batch = not item.loops and trace.entry_call is not None  # a hook, an event handler
                where = "in an epoch hook or event" if called_per_batch else "after the batch loop"
                yield Report(
                    item.call,
                    f"`{model.receiver(item.call)}.step()` runs every batch, but {described} counts epochs: the "
                    f"schedule runs out within the first epoch; step it once per epoch, {where}, "
                    "or size it in batches (e.g. epochs * len(loader))",
                )
        for step in model.framework_steps:
            described = _epoch_evidence(model, step.objects) if step.cadence is StepCadence.PER_BATCH else None
            if described:
                yield Report(
                    step.node,
                    f"{step.how}, but {described} counts epochs: the schedule runs out within the first "
                    f"epoch; {step.remedy}",
                )


def _epoch_evidence(model: TrainingModel, objects: frozenset[TrackedObject]) -> str | None:
    """`StepLR (line 9) with step_size=30` when every scheduler stepped here is sized in epochs."""
    schedulers = model.ordered(objects)
    sizings = [model.sizing(scheduler) for scheduler in schedulers]
    if not sizings or any(s.unit is not Unit.EPOCHS for s in sizings):
        return None
    pairs = zip(schedulers, sizings, strict=True)
    return "; ".join(dict.fromkeys(f"{model.describe(s)} with {sizing.evidence}" for s, sizing in pairs))


def _epochs_exist(trace: Trace, item: TraceItem) -> bool:
    """An epoch loop encloses the step, its batch loop is one pass over a data source, or a framework
    calls the code once per batch of its epochs (Lightning's `training_step`).

    A loop that steps the optimizer with no epoch around it (an RL episode loop, a
    `while it < max_iter` loop) counts iterations only: every size is in iterations there.
    """
    if trace.in_per_batch_hook(item):
        return True
    return any(loop.kind is LoopKind.EPOCH or loop.iterates_data for loop in item.loops)
