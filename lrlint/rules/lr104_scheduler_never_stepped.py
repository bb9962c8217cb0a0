from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, Role, TrackedObject, TrainingModel, called_name
from lrlint.rules.base import Report, Rule


class SchedulerNeverStepped(Rule):
    """
    A scheduler is created and never stepped, and it does not leave the code lrlint sees.

    A scheduler changes the learning rate only when `step()` is called. Created and forgotten
    (often after a refactor moved the training loop, or when a second scheduler replaced it),
    the run trains at the initial learning rate throughout, while the code suggests a schedule.

    Not reported when the object escapes: returned (Lightning's `configure_optimizers`), stored
    on `self` or in a container, or passed to code lrlint cannot see (a `Trainer`,
    `accelerator.prepare`), its bound `step` included (`trainer.register_op("post_optim",
    scheduler.step)`: the trainer calls it); nor when a scheduler that is stepped holds it (`SequentialLR`, a
    project's warmup scheduler given it as `after_scheduler`); nor when it is built inside `with
    pytest.raises(...)` or `self.assertRaises(...)`: a test that the constructor rejects its arguments.

    Lightning: a scheduler `configure_optimizers` returns under the key `"scheduler"` of the
    optimizer dict (Lightning reads `"lr_scheduler"` there, warns about the unknown key and never
    steps it) is reported, and so is one returned by a module under manual optimisation
    (`self.automatic_optimization = False`) that never calls `self.lr_schedulers()` nor keeps it
    on `self`: Lightning steps no scheduler then.

    Fix: call `scheduler.step()` at its cadence, or delete the scheduler.
    """

    code = "LR104"
    name = "scheduler-never-stepped"
    severity = Severity.WARNING
    summary = "a scheduler is created and never stepped (the LR stays constant)"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
""",
        """
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR


def make_trainer(cfg, loss_module, trainer):
    optimizer = torch.optim.Adam(loss_module.parameters(), lr=cfg.lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=cfg.total_frames // cfg.frames_per_batch)
    trainer.register_op("post_optim", scheduler.step)  # the trainer calls the bound method
    return trainer
""",
        """
import torch
from transformers import Trainer

optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
trainer = Trainer(model=model, optimizers=(optimizer, scheduler))
trainer.train()
""",
        """
import torch
import lightning as L


class Module(L.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, step / 500))
        optimizers = [optimizer]
        schedulers = [{"scheduler": scheduler, "interval": "step"}]  # "scheduler" is the key in this list
        return optimizers, schedulers
""",
        """
from torch.optim.lr_scheduler import LambdaLR


class Schedulers:
    def __init__(self, optimizers, lr_lambda):
        self.schedulers = [LambdaLR(optimizer, lr_lambda) for optimizer in optimizers]  # kept in a container

    def step(self):
        for scheduler in self.schedulers:
            scheduler.step()
""",
    )
    INVALID = (
        """
import torch
import pytorch_lightning as pl

class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)  # expect: LR104
        return {"optimizer": optimizer, "scheduler": scheduler}
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)  # expect: LR104
for epoch in range(100):
    for batch in loader:
        optimizer.step()
    print(epoch, scheduler.get_last_lr())
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        stepped = _stepped_calls(model)
        escaped = {obj.call for obj in model.escaped} | _expected_to_raise(model)
        reported = set()
        for obj in model.constructed_objects(Role.SCHEDULER):
            if obj.call in stepped or obj.call in escaped:
                continue
            if obj.call not in reported:
                reported.add(obj.call)
                yield Report(
                    obj.call,
                    f"{obj.name} is created but never stepped: the learning rate stays at its initial value; "
                    "call step() at its cadence or remove it",
                )
        yield from _lightning_reports(model, stepped)


def _lightning_reports(model: TrainingModel, stepped: set[cst.CSTNode]) -> Iterator[Report]:
    """Schedulers a LightningModule returns that Lightning will not step, nor the module itself;
    reported at their construction, as every LR104 is."""
    kept = {obj.call for class_info in model.index.classes.values() for obj in model.stored_on(class_info)}
    reported = set(stepped)  # a base class's configure_optimizers, inherited by two manual modules: once
    for setup in model.lightning_modules:
        for config in setup.configuration.schedulers:
            schedulers = [o for o in model.ordered(model.configured_schedulers(config)) if o.call not in reported]
            returned = model.where(config.scheduler)
            for scheduler in schedulers:
                reported.add(scheduler.call)
                name = scheduler.name
                if config.ignored and setup.automatic:
                    yield Report(
                        scheduler.call,
                        f'{name} is returned under the key "scheduler" ({returned}): Lightning takes the scheduler '
                        'from "lr_scheduler" only, warns about the unknown key and never steps it, so the learning '
                        'rate stays constant; return it as "lr_scheduler"',
                    )
                elif not setup.automatic and not setup.asks_for_schedulers and scheduler.call not in kept:
                    yield Report(
                        scheduler.call,
                        f"{name} is returned by configure_optimizers ({returned}), but under manual optimisation "
                        "(automatic_optimization = False) Lightning steps no scheduler and this module never calls "
                        "self.lr_schedulers(): the learning rate stays constant; step it in training_step or "
                        "on_train_epoch_end",
                    )


def _expected_to_raise(model: TrainingModel) -> set[cst.CSTNode]:
    """Constructions inside `with pytest.raises(...)` or `self.assertRaises(...)`: a test of the error."""
    return {
        obj.call
        for trace in model.traces
        for item in trace.items
        if item.constructed and any(_expects_an_error(context.item) for context in item.contexts)
        for obj in item.constructed
    }


def _expects_an_error(context: cst.BaseExpression) -> bool:
    name = called_name(context.func) if isinstance(context, cst.Call) else ""
    return name.lower().endswith(("raises", "raisesregex"))


def _stepped_calls(model: TrainingModel) -> set[cst.CSTNode]:
    """Construction calls of every scheduler that is stepped, directly or inside a composite."""
    calls = set()
    pending: list[TrackedObject] = list(model.stepped_objects(Role.SCHEDULER))
    while pending:
        obj = pending.pop()
        calls.add(obj.call)
        pending.extend(obj.children)
    return calls
