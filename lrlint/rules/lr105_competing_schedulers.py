from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import (
    NEEDS_A_SCHEDULER,
    Evidence,
    Frame,
    Objects,
    Role,
    SchedulerConfig,
    Trace,
    TraceItem,
    TrackedObject,
    TrainingModel,
    only_under_manual_optimisation,
)
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

    A step under the condition of its optimizer's step (`if (i + 1) % accum == 0:`) runs with
    every update, and counts as per batch. Steps in opposite branches of an `if` (warmup, then
    decay) or under conditions of their own are not reported, nor two schedulers built on
    optimizers that a helper returns at each of its calls (`opt1, opt2 = make_optimizer(),
    make_optimizer()`): those are two optimizers. Neither are two wrappers' steps of the
    scheduler each keeps (`fast.step()`, `slow.step()`, each running `self.scheduler.step()`):
    that is one scheduler per instance.

    A LightningModule under automatic optimisation that steps a scheduler it returned from
    `configure_optimizers` (in `on_train_epoch_end`, `training_step`, ...) steps it on top of
    Lightning, which already does; `lr_scheduler_step` is exempt, as Lightning calls it instead of
    stepping; a step under `if not self.automatic_optimization:` runs only when Lightning does not
    step. The same holds for a scheduler handed to the HF Trainer and stepped again by the code,
    and for the scheduler of `deepspeed.initialize(...)` (the one handed over as `lr_scheduler=`,
    or the one it returns, built from its config): DeepSpeed steps it in `engine.step()`. Two
    schedulers of one optimizer returned to Lightning with the same interval and frequency are
    both stepped by it when they are returned side by side (`[optimizer], [warmup, cosine]`), and
    reported at the second one's config. A scheduler built by a helper the module calls more than
    once (a pair for the model, returned, and another for a critic, kept on `self`) is not taken for
    the one the framework steps: lrlint tells objects apart by where they are built.

    Fix: step each scheduler once per iteration; compose phases with `SequentialLR` and
    deliberate products with `ChainedScheduler`.
    """

    code = "LR105"
    name = "competing-schedulers"
    severity = Severity.WARNING
    summary = "a scheduler stepped twice per iteration, or two schedulers of one optimizer stepped together"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch

opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4)
opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4)
schedulers = {"g": torch.optim.lr_scheduler.StepLR(opt_g, 30), "d": torch.optim.lr_scheduler.StepLR(opt_d, 30)}
for epoch in range(100):
    for real in loader:
        opt_d.step()
        opt_g.step()
    schedulers["g"].step()  # one scheduler each
    schedulers["d"].step()
""",
        """
import deepspeed
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
engine, optimizer, _, _ = deepspeed.initialize(model=model, optimizer=optimizer, config="ds.json")  # not handed over
for epoch in range(90):
    for batch in loader:
        engine.backward(engine(batch))
        engine.step()
    scheduler.step()
""",
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
        """
import torch
from torch.optim.lr_scheduler import StepLR


class Schedule:
    def __init__(self, optimizer, step_size):
        self.scheduler = StepLR(optimizer, step_size=step_size)

    def step(self):
        self.scheduler.step()


def test_two_schedules_keep_their_own_rates():
    first = torch.optim.SGD(model_a.parameters(), lr=0.1)
    second = torch.optim.SGD(model_b.parameters(), lr=0.1)
    fast = Schedule(optimizer=first, step_size=2)
    slow = Schedule(optimizer=second, step_size=5)
    for epoch in range(10):
        first.step()
        second.step()
        fast.step()  # each wrapper steps its own StepLR
        slow.step()
""",
        """
import torch
import lightning as L


class Module(L.LightningModule):
    def __init__(self, automatic_optimization=True):
        super().__init__()
        self.automatic_optimization = automatic_optimization  # either mode, chosen by the caller

    def training_step(self, batch, batch_idx):
        loss = self.model(batch)
        if not self.automatic_optimization:  # Lightning steps nothing in this mode
            self.manual_backward(loss)
            self.optimizers().step()
            self.lr_schedulers().step()
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, step / 500))
        return [optimizer], [{"scheduler": scheduler, "interval": "step"}]
""",
        """
import lightning as L
import torch


class Adapter(L.LightningModule):
    def _optimizer_and_scheduler(self, parameters):
        optimizer = torch.optim.SGD(parameters, lr=0.01)
        return [optimizer], [torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)]

    def configure_optimizers(self):
        critic = self._optimizer_and_scheduler(self.critic.parameters())  # a second pair, kept for itself
        self.critic_opt, self.critic_sched = critic[0][0], critic[1][0]
        return self._optimizer_and_scheduler(self.model.parameters())

    def training_step(self, batch, batch_idx):
        self.critic_opt.step()
        self.critic_sched.step()  # the critic's scheduler, not the one Lightning steps
        return self.loss(batch)
""",
    )
    INVALID = (
        """
import deepspeed

engine, optimizer, _, lr_scheduler = deepspeed.initialize(
    model=model, model_parameters=model.parameters(), config="ds_config.json"
)
for epoch in range(epochs):
    for batch in loader:
        engine.backward(engine(batch))
        engine.step()  # steps the optimizer and then lr_scheduler
        lr_scheduler.step()  # expect: LR105
""",
        """
import torch
import lightning as L

class Model(L.LightningModule):
    def on_train_epoch_end(self):
        self.lr_schedulers().step()  # expect: LR105

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        return [optimizer], [torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[100, 150])]
""",
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
        """
import torch
from transformers import get_linear_schedule_with_warmup

optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
scheduler = get_linear_schedule_with_warmup(optimizer, 100, epochs * len(loader) // accum)
for epoch in range(epochs):
    for i, batch in enumerate(loader):
        (model(**batch).loss / accum).backward()
        if (i + 1) % accum == 0:  # with every optimizer update
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    scheduler.step()  # expect: LR105
""",
        """
import lightning as L
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR


class Model(L.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        warmup = LinearLR(optimizer, start_factor=0.01, total_iters=500)
        cosine = CosineAnnealingLR(optimizer, T_max=self.trainer.estimated_stepping_batches)
        return [optimizer], [
            {"scheduler": warmup, "interval": "step"},
            {"scheduler": cosine, "interval": "step"},  # expect: LR105
        ]
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
        yield from _framework_steps_too(model)
        yield from _framework_steps_together(model)


def _framework_steps_together(model: TrainingModel) -> Iterator[Report]:
    """Two schedulers of one optimizer returned to Lightning in one list (`[optimizer], [warmup,
    cosine]`) with the same interval and frequency: it steps both, every time."""
    for setup in model.lightning_modules:
        if not setup.automatic:
            continue
        listed = [c for c in setup.configuration.schedulers if c.together is not None and not c.ignored]
        for index, second in enumerate(listed):
            for first in listed[:index]:
                assert first.together is not None and second.together is not None
                if first.together[0] is not second.together[0] or first.together[1] == second.together[1]:
                    continue  # not returned side by side
                if (first.interval, first.frequency) != (second.interval, second.frequency) or first.interval is None:
                    continue
                report = _drive_one_optimizer(model, first, second)
                if report is not None:
                    yield report
                    break


def _drive_one_optimizer(model: TrainingModel, first: SchedulerConfig, second: SchedulerConfig) -> Report | None:
    schedulers = [model.configured_schedulers(config) for config in (first, second)]
    if not all(schedulers) or schedulers[0] & schedulers[1]:
        return None
    shared = frozenset().union(*(s.optimizers for s in schedulers[0])) & frozenset().union(
        *(s.optimizers for s in schedulers[1])
    )
    if not shared:
        return None
    names = " / ".join(sorted(model.describe(o) for o in shared))
    return Report(
        second.interval_node or second.scheduler,
        f"Lightning steps this scheduler and the one returned beside it ({model.where(first.scheduler)}) "
        f'together, both with "interval": "{second.interval}", and both drive {names}: their factors combine '
        "into a curve neither describes; return one SequentialLR for phases, or a ChainedScheduler to chain "
        "on purpose",
    )


def _framework_steps_too(model: TrainingModel) -> Iterator[Report]:
    """A `step()` of the code on a scheduler that a framework (Lightning, the HF Trainer) already steps."""
    for trace, item in model.scheduler_steps():
        if trace.entry_call is not None and trace.entry_call.steps_for_framework:
            continue  # lr_scheduler_step: this call is how Lightning steps it
        if only_under_manual_optimisation(item.guards):
            continue
        also = [step for step in model.framework_steps if item.objects & step.objects]
        if not also or not item.objects <= frozenset().union(*(step.objects for step in also)):
            continue
        if any(model.built_at_several_calls(o) for o in item.objects):
            continue  # perhaps another object than the framework's, built by the same helper
        yield Report(
            item.call,
            f"`{model.receiver(item.call)}.step()` steps a scheduler that {also[0].framework} already steps "
            f"({model.where(also[0].node)}: {also[0].how}): the schedule advances twice as fast as planned; "
            f"remove this call{', or ' + also[0].by_hand if also[0].by_hand else ''}",
        )


def _conflict(model: TrainingModel, trace: Trace, first: TraceItem, second: TraceItem) -> Report | None:
    loop = second.loops[-1]
    if loop not in first.loops or second.guards_inside(loop):
        return None
    receiver = f"`{model.receiver(second.call)}.step()`"
    if first.objects == second.objects:
        if trace.guarded_apart_from_optimizer(first, loop) or _through_other_instances(model, first, second):
            return None  # a conditional extra step, not every iteration; or two holders of a scheduler each
        if any(s.evidence is Evidence.NAMED for s in first.objects) and not _after_an_optimizer_step(trace, second):
            return None  # known only by its name: an LR scheduler is stepped after its optimizer
        cadence = "every iteration" if first.loops[-1] is loop else "every batch and again every epoch"
        return Report(
            second.call,
            f"{receiver} steps the same scheduler a second time ({model.where(first.call)} steps it too): it "
            f"advances {cadence}, so the schedule runs ahead; keep one step per iteration",
        )
    if first.loops[-1] is not loop or first.guards != second.guards or first.objects & second.objects:
        return None
    schedulers = first.objects | second.objects
    shared = {o for o in first.attached_optimizers & second.attached_optimizers if _one_instance(model, o, schedulers)}
    if not shared or _related(first, second):
        return None
    names = " / ".join(sorted(model.describe(o) for o in shared))
    return Report(
        second.call,
        f"{receiver} and `{model.receiver(first.call)}.step()` ({model.where(first.call)}) both drive {names} every "
        "iteration: their factors combine into a curve neither describes; use SequentialLR for phases or "
        "ChainedScheduler to chain on purpose",
    )


def _one_instance(model: TrainingModel, optimizer: TrackedObject, schedulers: Objects) -> bool:
    """The schedulers drive one run-time optimizer: it is built where they are, or each is handed the
    same expression. A helper that builds optimizers builds a new one at each call
    (`opt1, opt2 = make_optimizer(), make_optimizer()`)."""
    if all(s.function is optimizer.function for s in schedulers):
        return True
    passed = {_optimizer_argument(model, s) for s in schedulers}
    return len(passed) == 1 and None not in passed


def _optimizer_argument(model: TrainingModel, scheduler: TrackedObject) -> str | None:
    if scheduler.arguments is not None:
        expression = scheduler.arguments.expression("optimizer")
        return model.code(expression) if expression is not None else None
    call = scheduler.call
    first = call.args[0] if isinstance(call, cst.Call) and call.args else None
    return model.code(first.value) if first is not None and first.keyword is None and not first.star else None


def _through_other_instances(model: TrainingModel, first: TraceItem, second: TraceItem) -> bool:
    """Each steps `self.<attribute>` of another instance (`fast.step()` and `slow.step()` on two
    wrappers, each holding a scheduler of its own): lrlint knows what the class keeps there, not
    which instance holds which."""
    holders = [_holder(model, item) for item in (first, second)]
    return None not in holders and holders[0] != holders[1]


def _holder(model: TrainingModel, item: TraceItem) -> Objects | None:
    """The instance whose `self.<attribute>.step()` the item is, as the call into its method names it;
    None for any other receiver, or an instance lrlint cannot name."""
    frame = item.frame
    receiver = item.call.func.value if isinstance(item.call.func, cst.Attribute) else None
    if not (isinstance(receiver, cst.Attribute) and _is_self(receiver.value, frame)):
        return None
    while frame.call_site is not None and frame.parent is not None:
        called_on = frame.call_site.func.value if isinstance(frame.call_site.func, cst.Attribute) else None
        if called_on is None:
            return None
        if not _is_self(called_on, frame.parent):
            return model.resolver.objects(called_on, frame.parent.context) or None
        frame = frame.parent  # `self.helper()`: the same instance, one call up
    return None


def _is_self(expr: cst.BaseExpression, frame: Frame) -> bool:
    return isinstance(expr, cst.Name) and expr.value == frame.function.self_name


def _after_an_optimizer_step(trace: Trace, item: TraceItem) -> bool:
    loop = item.loops[-1]
    return any(other.role is Role.OPTIMIZER and loop in other.loops for other in trace.items[: item.order])


def _related(first: TraceItem, second: TraceItem) -> bool:
    """One contains the other (SequentialLR / ChainedScheduler and its children)."""
    return any(a in b.children or b in a.children for a in first.objects for b in second.objects)
