from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import (
    NEEDS_A_SCHEDULER,
    Evidence,
    Guard,
    Objects,
    Role,
    Trace,
    TraceItem,
    TrainingModel,
    walk,
)
from lrlint.rules.base import Report, Rule


class StepPerMicroBatch(Rule):
    """
    Under gradient accumulation the scheduler is stepped on every micro-batch instead of with
    the optimizer.

    With `if (step + 1) % accumulation_steps == 0: optimizer.step()`, the optimizer updates
    once per N micro-batches. A `scheduler.step()` outside that condition advances the schedule
    N times per update: warmup ends N times too early and a schedule sized in optimizer steps
    (`num_training_steps = len(loader) // N * epochs`) is over after 1/N of the run. The first
    micro-batches also step the scheduler before any optimizer step (torch warns).

    In Lightning under manual optimisation, `training_step` is the loop body: a `scheduler.step()`
    there outside the `%` condition of `optimizer.step()` is reported the same way.

    Inside Accelerate's `with accelerator.accumulate(model):`, an optimizer passed to
    `accelerator.prepare(...)` only steps when gradients are synchronised, and so does a scheduler
    passed to it. A scheduler left out of `prepare` is a plain torch scheduler that advances on every
    micro-batch: reported when the Accelerator is built with `gradient_accumulation_steps` (other
    than 1) or an accumulation plugin, and every `prepare` call's arguments are visible.

    A scheduler lrlint knows only by its name, whose `step()` gets arguments no torch scheduler takes
    (`step(cur_epoch=epoch, cur_step=i)`), is a project's own that sets the rate of that position:
    not reported.

    Fix: move `scheduler.step()` inside the accumulation condition, right after `optimizer.step()`;
    with Accelerate, pass the scheduler to `accelerator.prepare(...)`.
    """

    code = "LR106"
    name = "step-per-micro-batch"
    severity = Severity.ERROR
    summary = "under gradient accumulation the scheduler steps every micro-batch, not with the optimizer"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
from transformers import get_linear_schedule_with_warmup
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
scheduler = get_linear_schedule_with_warmup(optimizer, 100, len(loader) // 4 * 3)
for epoch in range(3):
    for step, batch in enumerate(loader):
        (model(**batch).loss / 4).backward()
        if (step + 1) % 4 == 0:
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
""",
        """
def train_inner_loop(model, loader, optimizer, lr_scheduler, epoch, accum_grad_iters=1):
    for i, samples in enumerate(loader):
        # a scheduler of the project that sets the rate of this position: no count to advance
        lr_scheduler.step(cur_epoch=epoch, cur_step=i)
        model(samples).backward()
        if (i + 1) % accum_grad_iters == 0:
            optimizer.step()
            optimizer.zero_grad()
""",
    )
    INVALID = (
        """
import torch
from transformers import get_linear_schedule_with_warmup
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
scheduler = get_linear_schedule_with_warmup(optimizer, 100, len(loader) // accum * 3)
for epoch in range(3):
    for step, batch in enumerate(loader):
        (model(**batch).loss / accum).backward()
        if (step + 1) % accum == 0:
            optimizer.step()
            optimizer.zero_grad()
        scheduler.step()  # expect: LR106
""",
        """
import lightning as L
import torch


class Model(L.LightningModule):
    def __init__(self, accumulation_steps=4):
        super().__init__()
        self.automatic_optimization = False
        self.accumulation_steps = accumulation_steps

    def training_step(self, batch, batch_idx):
        optimizer, scheduler = self.optimizers(), self.lr_schedulers()
        self.manual_backward(self.loss(batch) / self.accumulation_steps)
        if (batch_idx + 1) % self.accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
        scheduler.step()  # expect: LR106

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-4)
        total = self.trainer.estimated_stepping_batches // self.accumulation_steps
        return [optimizer], [torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=total)]
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for trace, item in model.scheduler_steps():
            if item.in_context("accumulate"):
                report = _unprepared_under_accelerate(model, trace, item)
                if report is not None:
                    yield report
                continue
            guard = _accumulation_guard(trace, item, model.optimizers_for(item))
            if guard is not None:
                yield Report(
                    item.call,
                    f"`{model.receiver(item.call)}.step()` runs on every micro-batch, but the optimizer only steps "
                    f"when `{model.code(guard.test)}`: the schedule advances once per micro-batch; step it inside "
                    "that condition, after optimizer.step()",
                )


def _unprepared_under_accelerate(model: TrainingModel, trace: Trace, item: TraceItem) -> Report | None:
    """A scheduler built in sight and never prepared, stepped in `accelerator.accumulate()` beside a
    prepared optimizer of an Accelerator that accumulates gradients."""
    prepared, accumulation = model.prepared_objects, model.accumulation(item)
    if prepared is None or accumulation is None or item.objects & prepared:
        return None
    if not item.objects or any(s.evidence not in (Evidence.CONSTRUCTED, Evidence.FACTORY) for s in item.objects):
        return None  # received from code that may have prepared it
    loop = item.innermost_batch_loop
    optimizers = model.optimizers_for(item) & prepared
    beside = any(
        other.objects & optimizers and other.in_context("accumulate") and loop in other.loops
        for other in trace.steps(Role.OPTIMIZER)
    )
    if loop is None or not beside:
        return None
    return Report(
        item.call,
        f"`{model.receiver(item.call)}.step()` runs on every micro-batch: inside `accelerator.accumulate()` the "
        f"prepared optimizer only steps when gradients sync (`{_written(model, accumulation)}`, "
        f"{model.where(accumulation)}), but {model.describe(model.ordered(item.objects)[0])} was never "
        "passed to accelerator.prepare(), so it advances on every micro-batch; pass it to accelerator.prepare()",
    )


def _accumulation_guard(trace: Trace, item: TraceItem, optimizers: Objects) -> Guard | None:
    """The `%` condition its optimizer steps under in the same batch loop (or in the same call of a
    hook the framework runs every batch, Lightning's `training_step`), when the scheduler does not."""
    loop = item.innermost_batch_loop
    if loop is None and not trace.in_per_batch_hook(item):
        return None

    def inside(step: TraceItem) -> tuple[Guard, ...]:
        return step.guards_inside(loop) if loop is not None else step.guards

    own = inside(item)
    if any(_is_modulo(guard) for guard in own):
        return None
    for other in trace.steps(Role.OPTIMIZER):
        if (loop in other.loops if loop is not None else not other.loops) and other.objects & optimizers:
            for guard in inside(other):
                if _is_modulo(guard) and guard not in own:
                    return guard
    return None


def _is_modulo(guard: Guard) -> bool:
    """A `%` test (`(i + 1) % accum == 0`), as accumulation is written."""
    return not guard.negated and any(isinstance(node, cst.Modulo) for node in walk(guard.test))


def _written(model: TrainingModel, argument: cst.Arg) -> str:
    """`gradient_accumulation_steps=4`, without the separator that follows it."""
    keyword = f"{argument.keyword.value}=" if argument.keyword is not None else ""
    return keyword + model.code(argument.value)
