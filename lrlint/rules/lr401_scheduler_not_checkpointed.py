from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import (
    NEEDS_A_SCHEDULER,
    Context,
    Frame,
    FunctionInfo,
    Objects,
    Role,
    Trace,
    TraceItem,
    TrackedObject,
    TrainingModel,
    called_name,
    is_epoch_word,
    walk,
)
from lrlint.rules.base import Report, Rule

_MAX_HOPS = 4  # how many helper calls (`save_checkpoint(state)`) to follow back to the saved dict
# A project's checkpoint writer whose body lrlint cannot read: `save_checkpoint(state, is_best)`.
_CHECKPOINT_HELPER = re.compile(r"save\w*(checkpoint|ckpt)|(checkpoint|ckpt)\w*save", re.IGNORECASE)


class SchedulerNotCheckpointed(Rule):
    """
    A checkpoint saves the optimizer's `state_dict()` but not the scheduler's.

    The scheduler's state (its step count, and for ReduceLROnPlateau its best metric and bad
    epochs) lives in the scheduler, not in the optimizer. A run resumed from such a checkpoint
    restores the optimizer and restarts the schedule from the beginning: warmup runs again,
    and a step schedule applies its first decay at the wrong epoch.

    Followed through a checkpoint dict built inline, in a variable (`ckpt["optimizer"] = ...`),
    or passed to a helper lrlint reads (`save_checkpoint(state)` calling `torch.save`); a helper it
    cannot read counts as a save when its name says so (`save_checkpoint`, `save_ckpt`) and the
    dict is its first argument. The finding is placed at the save (or the call of the helper that
    saves) in the function that builds the checkpoint dict, once, at its first save however many
    paths it is saved to. A scheduler
    whose state another save writes (`scheduler.pt` next to `optimizer.pt`) is checkpointed. Only
    the schedulers the saving code can reach count: built, stepped or handed around where it runs,
    or kept on the instance whose method saves (a trainer's `self.scheduler`), not the scheduler of
    another trainer whose optimizer comes from the same factory. A Lightning Callback's hook reaches
    what the LightningModules of its file configure, through its `trainer` (`trainer.optimizers[0]`,
    `trainer.lr_scheduler_configs[0].scheduler`).

    Not reported when the code restores the schedule's position itself, for the schedulers whose
    whole state is that position (their next rate follows from `last_epoch` and the optimizer's
    restored rates): LambdaLR (and the transformers schedules built on it), MultiplicativeLR,
    StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR,
    CyclicLR and OneCycleLR. The position counts as restored when the code sets
    `scheduler.last_epoch = ...`, builds the scheduler with a `last_epoch=` other than -1, or
    steps it forward in a loop that does nothing else (`for _ in range(start_epoch):
    scheduler.step()`). ReduceLROnPlateau (its state is the metric's history),
    CosineAnnealingWarmRestarts (its cycle), SequentialLR and ChainedScheduler (their children)
    are reported all the same. Nor is a scheduler reported when every step tells it its position
    (`scheduler.step(self.current_epoch)`): the run's own counter, restored on resume, sets it.

    Fix: save `scheduler.state_dict()` next to `optimizer.state_dict()` and load it on resume.
    """

    code = "LR401"
    name = "scheduler-not-checkpointed"
    severity = Severity.WARNING
    summary = "a checkpoint saves the optimizer's state but not the scheduler's"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
    weights = model.state_dict()
    if save_strategy == "all":
        weights = weights  # a name assigned to itself: followed once
    torch.save({"model": weights, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, "ckpt.pt")
    torch.save(weights, f"{epoch}epoch.pth")
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "epoch": epoch}, "last.pt")
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.01)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: (1 - e / 300) * 0.99 + 0.01)
start_epoch = resume(checkpoint, optimizer)  # the optimizer's state and the saved epoch
scheduler.last_epoch = start_epoch - 1  # the schedule continues from there
for epoch in range(start_epoch, 300):
    for batch in loader:
        optimizer.step()
    scheduler.step()
    torch.save({"epoch": epoch, "optimizer": optimizer.state_dict()}, "last.pt")
""",
        """
import torch

def get_optimizer(params, lr):
    return torch.optim.AdamW(params, lr=lr)

class SoundTrainer:  # never saves: not this rule's business
    def __init__(self, model):
        self.optim = get_optimizer(model.parameters(), 1e-4)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(self.optim, T_0=1000)

    def train_step(self, loss):
        loss.backward()
        self.optim.step()
        self.scheduler.step()

class TextTrainer:  # an optimizer from the same factory, and no scheduler at all
    def __init__(self, model):
        self.optim = get_optimizer(model.parameters(), 3e-4)

    def save(self, path):
        torch.save({"optim": self.optim.state_dict()}, path)
""",
        """
import torch
from torch.optim.lr_scheduler import LRScheduler


class PolyLR(LRScheduler):
    def __init__(self, optimizer, initial_lr, max_steps):
        self.initial_lr, self.max_steps = initial_lr, max_steps
        super().__init__(optimizer)

    def step(self, current_step):
        for group in self.optimizer.param_groups:
            group["lr"] = self.initial_lr * (1 - current_step / self.max_steps) ** 0.9


optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
scheduler = PolyLR(optimizer, 0.01, 1000)
for epoch in range(start_epoch, 1000):
    scheduler.step(epoch)  # the position comes from the run's counter, which the checkpoint keeps
    for batch in loader:
        optimizer.step()
    torch.save({"optimizer": optimizer.state_dict(), "epoch": epoch}, "checkpoint.pt")
""",
        """
import lightning.pytorch as pl
import torch


class Export(pl.Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        torch.save(
            {
                "model": pl_module.state_dict(),
                "optimizer": trainer.optimizers[0].state_dict(),
                "scheduler": trainer.lr_scheduler_configs[0].scheduler.state_dict(),
            },
            "last.pt",
        )


class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        total = self.trainer.estimated_stepping_batches
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 1e-3, total_steps=total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
""",
    )
    INVALID = (
        """
import torch

def save_checkpoint(state, path="checkpoint.pth"):
    torch.save(state, path)

optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
    save_checkpoint({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()})  # expect: LR401
""",
        """
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=5)
scheduler.last_epoch = start_epoch - 1  # the position is not what ReduceLROnPlateau keeps
for epoch in range(start_epoch, 90):
    for batch in loader:
        optimizer.step()
    scheduler.step(validate(model))
    ckpt = {"epoch": epoch, "optimizer": optimizer.state_dict()}
    torch.save(ckpt, "last.pt")  # expect: LR401
    if epoch % 10 == 0:
        torch.save(ckpt, f"epoch{epoch}.pt")
""",
        """
import torch

class Trainer:
    def __init__(self, model, optimizer, scheduler):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler

    def train_epoch(self, loader):
        for batch in loader:
            self.optimizer.zero_grad()
            self.model(batch).backward()
            self.optimizer.step()
        self.scheduler.step()

    def save(self, path):
        torch.save({"optimizer": self.optimizer.state_dict()}, path)  # expect: LR401

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
trainer = Trainer(model, optimizer, torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=10))
""",
        """
import lightning.pytorch as pl
import torch


class Export(pl.Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        torch.save(  # expect: LR401
            {
                "model": pl_module.state_dict(),
                "optimizer": trainer.optimizers[0].state_dict(),

            },
            "last.pt",
        )


class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        total = self.trainer.estimated_stepping_batches
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 1e-3, total_steps=total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        saves = [(trace, item, _saved_objects(model, item)) for trace, item in _saves(model)]
        # Saved by any save of the run (`scheduler.pt` next to `optimizer.pt`): the checkpoint has it.
        saved_anywhere = {o.call for _, _, saved in saves for o in saved}
        schedulers = [
            o
            for o in model.stepped_objects(Role.SCHEDULER)
            if o.optimizers
            and o.call not in saved_anywhere
            and not _position_restored(model, o)
            and not _every_step_sets_the_position(model, o)
        ]
        incomplete: dict[cst.CSTNode, tuple[cst.Call, list[TrackedObject]]] = {}
        for trace, item, saved in saves:
            optimizers = frozenset(o for o in saved if o.role is Role.OPTIMIZER)
            missing = [s for s in schedulers if s.optimizers & optimizers]
            if missing:
                reachable = _reachable(model, trace, item)
                missing = [s for s in missing if s in reachable]
            if missing:
                built, call = _built_at(model, item)
                first = incomplete.get(built)
                if first is None or model.source_order(call) < model.source_order(first[0]):
                    incomplete[built] = (call, missing)  # one dict saved to several paths: its first save
        for call, missing in incomplete.values():
            names = " / ".join(sorted({model.describe(s) for s in missing}))
            yield Report(
                call,
                f"this checkpoint saves the optimizer's state_dict() but not the scheduler's ({names}): a "
                f"resumed run {_what_is_lost(missing)}; save scheduler.state_dict() too",
            )


def _saves(model: TrainingModel) -> Iterator[tuple[Trace, TraceItem]]:
    """`torch.save(state, path)`, and `save_checkpoint(state, ...)` of a helper lrlint cannot see into."""
    for trace in model.traces:
        for item in trace.items:
            if item.is_step or not item.call.args or item.call.args[0].keyword is not None:
                continue
            if "torch.save" in model.qualified_names(item.call.func) or _checkpoint_helper(item.call):
                yield trace, item


def _reachable(model: TrainingModel, trace: Trace, item: TraceItem) -> Objects:
    """What the saving code can reach: the objects its replay builds, steps or hands around, and
    those kept on the instances whose methods lead to the save (a trainer's `self.scheduler`).

    Objects are told apart by where they are built, so two trainers whose optimizers come from one
    factory share that optimizer: the other trainer's scheduler is not this checkpoint's business.
    """
    reachable = set(trace.escaped)
    for other in trace.items:
        reachable |= other.objects | other.constructed
    frame: Frame | None = item.frame
    while frame is not None:
        reachable |= model.resolver.kept_on_instance(frame.context) | model.held_by_the_trainer(frame.function)
        frame = frame.parent
    return frozenset(reachable)


def _checkpoint_helper(call: cst.Call) -> bool:
    return _CHECKPOINT_HELPER.search(called_name(call.func)) is not None


def _what_is_lost(missing: list[TrackedObject]) -> str:
    if all(s.spec is not None and s.spec.is_plateau for s in missing):
        return "forgets the best metric and the epochs without improvement, and cuts the LR at the wrong time"
    return "restarts the schedule"


def _position_restored(model: TrainingModel, scheduler: TrackedObject) -> bool:
    return scheduler.spec is not None and scheduler.spec.state_is_position and scheduler in model.restored_positions


def _every_step_sets_the_position(model: TrainingModel, scheduler: TrackedObject) -> bool:
    """Every step names the position (`scheduler.step(self.current_epoch)`): the schedule follows the
    run's own counter, which the checkpoint restores. Not ReduceLROnPlateau, whose argument is the metric."""
    if scheduler.spec is not None and scheduler.spec.short_name == "ReduceLROnPlateau":
        return False
    steps = [item for _, item in model.scheduler_steps() if scheduler in item.objects]
    return bool(steps) and all(item.call.args and _names_a_position(model, item.call.args[0].value) for item in steps)


def _names_a_position(model: TrainingModel, argument: cst.BaseExpression) -> bool:
    words = re.findall(r"[a-z_]+", model.code(argument).lower())
    return any(is_epoch_word(word) or "step" in word or "iter" in word for word in words)


def _built_at(model: TrainingModel, item: TraceItem) -> tuple[cst.CSTNode, cst.Call]:
    """Where the saved object is built (the value bound to the saved name, followed through helper
    parameters to the caller's argument), and the call that saves it there: the save itself, or the
    call of the helper that does (`save_checkpoint(state, path)`)."""
    expr, frame, call = item.call.args[0].value, item.frame, item.call
    for _ in range(_MAX_HOPS + 1):
        if not isinstance(expr, cst.Name):
            break
        bound = _bound_values(model, expr, frame.context.function)
        argument = frame.argument(expr.value) if not bound else None
        before = [value for value in bound if model.source_order(value) < model.source_order(expr)]
        if before:
            expr = max(before, key=model.source_order)  # the last assignment before the save
        elif argument is not None and frame.parent is not None and frame.call_site is not None:
            call = frame.call_site
            expr, frame = argument, frame.parent
        else:
            break
    return expr, call


def _saved_objects(model: TrainingModel, item: TraceItem) -> frozenset[TrackedObject]:
    """Every optimizer and scheduler whose state (or itself) reaches the saved object."""
    found: set[TrackedObject] = set()
    pending: list[tuple[cst.BaseExpression, Context, Frame, int]] = [
        (item.call.args[0].value, item.context, item.frame, 0)
    ]
    seen: set[tuple[int, Context]] = set()  # `state = state_a if ... else state_b; state_b = state`: cycles
    while pending:
        expr, context, frame, hops = pending.pop()
        if (id(expr), context) in seen:
            continue
        seen.add((id(expr), context))
        for node in _expressions_in(expr):
            found |= model.resolver.objects(node, context)
        if isinstance(expr, cst.Name):
            pending.extend(_values_of_name(model, expr, context, frame, hops))
    return frozenset(o for o in found if o.role is not Role.INSTANCE)


def _values_of_name(
    model: TrainingModel, name: cst.Name, context: Context, frame: Frame, hops: int
) -> list[tuple[cst.BaseExpression, Context, Frame, int]]:
    """What a saved name holds: its assignments, items stored into it, or the caller's argument."""
    function = context.function
    stored = [value for _, value in model.index.item_assignments.get((function, name.value), [])]
    values = _bound_values(model, name, function) + stored
    found = [(value, context, frame, hops) for value in values]
    argument = frame.argument(name.value)
    if argument is not None and frame.parent is not None and hops < _MAX_HOPS:
        found.append((argument, frame.parent.context, frame.parent, hops + 1))
    return found


def _bound_values(model: TrainingModel, name: cst.Name, function: FunctionInfo) -> list[cst.BaseExpression]:
    return [v.value for n, v in model.index.name_values.items() if n.value == name.value and v.function is function]


def _expressions_in(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The expression and, inside containers, the receivers of `.state_dict()` and stored values."""
    found: list[cst.BaseExpression] = [expr]
    for node in walk(expr):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "state_dict":
            found.append(node.func.value)
        elif isinstance(node, (cst.Element, cst.DictElement, cst.Arg)):
            found.append(node.value)  # dict(optimizer=opt.state_dict()) too
    return found
