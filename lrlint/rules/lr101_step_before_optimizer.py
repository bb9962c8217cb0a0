from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, Evidence, Objects, Role, TraceItem, TrainingModel
from lrlint.rules.base import Report, Rule
from lrlint.rules.edits import moved_after


class StepBeforeOptimizer(Rule):
    """
    `scheduler.step()` runs before `optimizer.step()` of its optimizer, or in a loop that never
    steps that optimizer.

    Since PyTorch 1.1 the scheduler must be stepped after the optimizer. Stepped first, the
    schedule is one step ahead from the start: the first learning rate of the schedule is
    never used (with StepLR(step_size=1) the first epoch already trains at `lr * gamma`), and
    torch warns "Detected call of `lr_scheduler.step()` before `optimizer.step()`". A loop that
    steps a scheduler and never its optimizer changes a learning rate nothing uses.

    The order is read as the first iteration runs: a `scheduler.step()` at the top of the epoch
    loop, before the batch loop (or the `train_one_epoch(...)` call) that steps the optimizer, is
    reported. A step under an `if` is reported when the condition holds in that first iteration,
    with the loop counters at their first values (`if epoch <= warmup_epochs:`, the `"train"` of
    `for phase in ["train", "val"]`); not when it does not (`if epoch > 0:`), nor when lrlint
    cannot tell (the counter starts at an unknown value), unless the optimizer steps right after
    under the same condition (`if (step + 1) % accumulation == 0:`): the first time it holds, the
    scheduler steps first. Loops that only fast-forward a
    scheduler on resume are not reported either, nor a loop that hands code lrlint cannot see an
    optimizer it cannot resolve (`strategy.step(self.optimizer)`): that call may be the step.

    In ignite, a handler on `Events.EPOCH_STARTED` or `Events.ITERATION_STARTED` runs before that
    epoch's (or iteration's) update: its `scheduler.step()` is reported when the engine's update
    steps the scheduler's optimizer (`create_supervised_trainer(model, optimizer, ...)`, or an
    `Engine(update)` whose update function lrlint reads).

    Fix: call `scheduler.step()` after `optimizer.step()`: at the end of the epoch loop for
    per-epoch schedulers, right after `optimizer.step()` for per-batch ones.
    """

    code = "LR101"
    name = "step-before-optimizer"
    severity = Severity.ERROR
    summary = "scheduler.step() runs before optimizer.step(), or its optimizer is never stepped"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
from torch.optim.lr_scheduler import LambdaLR


class Schedulers:
    def __init__(self, optimizer, warmup):
        self.schedulers = []
        self.schedulers.append(LambdaLR(optimizer, warmup))

    def step(self):  # called after the optimizer's step; the loop handles each scheduler once
        for scheduler in self.schedulers:
            scheduler.step()
""",
        """
from torch.optim.lr_scheduler import LambdaLR


class Trainer:
    def __init__(self, model, strategy):
        self.strategy = strategy
        self.model, self.optimizer = strategy.prepare(model)  # built where lrlint cannot see
        self.scheduler = warmup(self.optimizer)

    def fit(self, loader):
        for batch in loader:
            self.model(batch).backward()
            self.strategy.step(self.optimizer)  # steps it, unseen
            self.scheduler.step()


def warmup(optimizer):
    return LambdaLR(optimizer, lambda step: min(1.0, step / 100))
""",
        """
import torch
from torch.optim.lr_scheduler import StepLR

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, step_size=10, gamma=0.1)
for epoch in range(30):
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    scheduler.step()
""",
        """
import torch

optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60])
for _ in range(start_epoch):  # resuming: replay the schedule
    scheduler.step()
for epoch in range(start_epoch, 90):
    for batch in loader:
        optimizer.step()
    scheduler.step()
""",
        """
import torch

optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    train_one_epoch(model, loader, optimizer)  # imported: lrlint cannot see whether it steps
    scheduler.step()
""",
        """
from torch.optim.lr_scheduler import LambdaLR
from timm.optim import create_optimizer_v2


def constant_schedule(optimizer):
    return LambdaLR(optimizer, lambda step: 1.0)


optimizer = create_optimizer_v2(model, "adamw", lr=1e-3)  # a class lrlint cannot see
scheduler = constant_schedule(optimizer)
for batch in loader:
    model(batch).backward()
    optimizer.step()
    scheduler.step()
""",
    )
    INVALID = (
        """
import deepspeed
import torch

optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)  # stepped by hand, per epoch
engine, optimizer, _, _ = deepspeed.initialize(model=model, optimizer=optimizer, config="ds_config.json")
for epoch in range(epochs):
    scheduler.step()  # expect: LR101
    for batch in loader:
        engine.backward(engine(batch))
        engine.step()  # the optimizer's step
""",
        """
import torch
from torch.optim.lr_scheduler import StepLR

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, step_size=10, gamma=0.1)
for epoch in range(30):
    scheduler.step()  # expect: LR101
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
""",
        """
from torch import optim

opt = optim.Adam([weight], lr=0.01)
scheduler = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
for epoch in range(5):
    scheduler.step()  # expect: LR101
""",
        """
import torch

def train(model, loader, config):
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    # a torch scheduler chosen by its name in the config
    scheduler = getattr(torch.optim.lr_scheduler, config.scheduler)(optimizer, **config.scheduler_kwargs)
    for epoch in range(config.epochs):
        for inputs, targets in loader:
            loss = model(inputs, targets)
            loss.backward()
            scheduler.step()  # expect: LR101
            optimizer.step()
""",
        """
import torch
from transformers import get_linear_schedule_with_warmup

optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
scheduler = get_linear_schedule_with_warmup(optimizer, args.warmup_steps, t_total)
for _ in range(args.num_train_epochs):
    for step, batch in enumerate(loader):
        model(**batch).loss.backward()
        if (step + 1) % args.gradient_accumulation_steps == 0:  # whenever it holds, in this order
            scheduler.step()  # expect: LR101
            optimizer.step()
            model.zero_grad()
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        stepped = model.stepped_objects(Role.OPTIMIZER)
        for trace, item in model.scheduler_steps():
            optimizers = _optimizers_of(model, item)
            first = model.runs_first(item)
            if not optimizers or first is False:
                continue  # not in the first iteration (`if epoch > 0:`)
            before = [other for other in trace.items[: item.order] if other.may_step(optimizers)]
            if before:
                continue
            after = [other for other in trace.items[item.order + 1 :] if _steps(other, optimizers)]
            if first is None:
                # A condition lrlint cannot evaluate (`(step + 1) % accum == 0`): only an optimizer step
                # under the same conditions is known not to have run before the first such step.
                after = [other for other in after if set(item.guards) <= set(other.guards)]
                if not after:
                    continue
            names = " / ".join(sorted({model.describe(o) for o in optimizers}))
            skips = _skips(item)
            if after:
                if not _fast_forward(item):
                    yield Report(
                        item.call,
                        f"`{model.receiver(item.call)}.step()` runs before `{model.receiver(after[0].call)}"
                        f".step()` ({model.where(after[0].call)}) in the first iteration: {skips}; call it after "
                        f"the optimizer step of {names}",
                        moved_after(model.module, item.call, after[0].call),
                    )
            elif trace.entry_call is not None and optimizers & trace.entry_call.precedes:
                yield Report(
                    item.call,
                    f"`{model.receiver(item.call)}.step()` runs before the engine's optimizer step: "
                    f"{trace.entry_call.description}, before the update that steps {names}: {skips}; step it on "
                    "Events.EPOCH_COMPLETED (or ITERATION_COMPLETED) instead",
                )
            elif item.loops and not optimizers & stepped:
                training = trace.training_call_after(item, optimizers)
                if training is not None and not _fast_forward(item):
                    yield Report(
                        item.call,
                        f"`{model.receiver(item.call)}.step()` runs before `{model.code(training.call.func)}(...)` "
                        f"({model.where(training.call)}), the only code that can step {names} (lrlint does not see "
                        f"its body): {skips}; call it after that call",
                    )
                elif not (optimizers & model.escaped or _steps_other_optimizer(item) or _unseen(model, item)):
                    yield Report(
                        item.call,
                        f"`{model.receiver(item.call)}.step()` is called in a loop that never steps its optimizer "
                        f"{names}: the learning rate changes but no update uses it; call optimizer.step() first",
                    )


def _skips(item: TraceItem) -> str:
    if all(s.torch_class for s in item.objects):
        return "the scheduler skips the first value of its schedule and torch warns"
    names = " / ".join(sorted(f"`{s.name}(...)`" for s in item.objects))
    return f"if {names} returns a torch scheduler, it skips the first value of its schedule and torch warns"


def _optimizers_of(model: TrainingModel, item: TraceItem) -> Objects:
    """The optimizers of the stepped schedulers, when lrlint knows them and what the step does: a torch
    scheduler's `step()`, or a plain `step()` of a scheduler built from the optimizer by a factory.
    A scheduler known only by its parameter's name, or one whose class defines its own step, is not
    checked; neither is `step(epoch)` on an unknown class (timm's sets the epoch's rate outright)."""
    if any(s.overrides("step") or s.evidence is Evidence.NAMED for s in item.objects):
        return frozenset()
    if item.call.args and not all(s.torch_class for s in item.objects):
        return frozenset()
    return model.optimizers_for(item)


def _steps(item: TraceItem, optimizers: Objects) -> bool:
    return item.role is Role.OPTIMIZER and bool(item.objects & optimizers)


def _steps_other_optimizer(item: TraceItem) -> bool:
    """The loop steps some other optimizer: the scheduler is on the wrong one (LR204 reports it)."""
    return any(other.role is Role.OPTIMIZER for other in item.loops[0].items)


def _unseen(model: TrainingModel, item: TraceItem) -> bool:
    """The loop hands code lrlint cannot see an optimizer it could not resolve (`backend.step(self.optimizer)`
    after `self.model, self.optimizer = backend.prepare(model)`), or steps one (`optimizer.step()` on what a
    factory of unknown code returned, while the scheduler was built in a helper from its parameter): that
    call may be the missing step."""

    def unresolved_optimizer(expr: cst.BaseExpression, other: TraceItem) -> bool:
        return "optim" in model.code(expr) and not model.resolver.objects(expr, other.context)

    def may_step(other: TraceItem) -> bool:
        handed = [arg.value for arg in other.call.args]
        func = other.call.func
        stepped = [func.value] if isinstance(func, cst.Attribute) and func.attr.value == "step" else []
        return any(unresolved_optimizer(expr, other) for expr in handed + stepped)

    return any(other.role is None and may_step(other) for other in item.loops[0].items)


def _fast_forward(item: TraceItem) -> bool:
    """`for _ in range(start_epoch): scheduler.step()`: replaying the schedule on resume."""
    return bool(item.loops) and item.loops[-1].replays_schedule
