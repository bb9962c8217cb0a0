from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import Role, Trace, TraceItem, TrainingModel
from lrlint.model.syntax import Guard
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

    Not reported inside Accelerate's `with accelerator.accumulate(model):`, whose prepared
    scheduler only steps when gradients are synchronised.

    Fix: move `scheduler.step()` inside the accumulation condition, right after `optimizer.step()`.
    """

    code = "LR106"
    name = "step-per-micro-batch"
    severity = Severity.ERROR
    summary = "under gradient accumulation the scheduler steps every micro-batch, not with the optimizer"
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
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for trace, item in model.scheduler_steps():
            guard = _accumulation_guard(trace, item)
            if guard is not None and not item.in_context("accumulate"):
                yield Report(
                    item.call,
                    f"`{model.receiver(item.call)}.step()` runs on every micro-batch, but the optimizer only steps "
                    f"when `{model.code(guard.test)}`: the schedule advances once per micro-batch; step it inside "
                    "that condition, after optimizer.step()",
                )


def _accumulation_guard(trace: Trace, item: TraceItem) -> Guard | None:
    """The `%` condition its optimizer steps under in the same batch loop, when the scheduler does not."""
    loop = item.innermost_batch_loop
    if loop is None:
        return None
    optimizers = item.attached_optimizers
    own = item.guards_inside(loop)
    if any(_is_modulo(guard) for guard in own):
        return None
    for other in trace.steps(Role.OPTIMIZER):
        if loop in other.loops and other.objects & optimizers:
            for guard in other.guards_inside(loop):
                if _is_modulo(guard) and guard not in own:
                    return guard
    return None


def _is_modulo(guard: Guard) -> bool:
    """A `%` test (`(i + 1) % accum == 0`), as accumulation is written."""
    found = False

    class Finder(cst.CSTVisitor):
        def visit_Modulo(self, node: cst.Modulo) -> None:
            nonlocal found
            found = True

    guard.test.visit(Finder())
    return found and not guard.negated
