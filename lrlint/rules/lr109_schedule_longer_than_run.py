from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, AfterEnd, TrainingModel
from lrlint.rules.base import Report, Rule

# The run must cover less than this share of the schedule to be reported, and more than the least:
# a T_max of int(1e10) is a constant rate chosen on purpose, not an annealing cut short.
COVERED = Fraction(4, 5)
LEAST = Fraction(1, 100)


class ScheduleLongerThanRun(Rule):
    """
    The run ends long before the schedule does, so its annealing never happens.

    A OneCycleLR, a CosineAnnealingLR or a transformers decay schedule sized for more steps than
    the run takes stops part-way: the run ends at a high learning rate, and the low-rate phase
    the schedule was chosen for never comes. The usual cause is gradient accumulation: the size
    computed from `len(loader)` while the optimizer, and the scheduler with it, step once every `k`
    batches; or a `T_max` left at an old epoch count.

    lrlint counts the steps as LR108 does (loop bounds, `len(loader)` on both sides, the `% k`
    condition of the optimizer step) and reports when the run covers less than 80% of the
    schedule (and at least 1%: a `T_max` of `int(1e10)` keeps the rate constant on purpose), with the
    rate at which the run ends. A loop that stops itself at a constant epoch (`if epoch > STOP_EPOCH:
    break` at the top of the epoch loop) cuts the schedule short on purpose: not reported. Other
    conditions and early exits only shorten a run, so they do not silence it; unknown values on
    either side do.

    Fix: size the schedule in the steps the run takes (`num_training_steps = epochs * len(loader)
    // accumulation_steps`, `T_max=args.epochs`).
    """

    code = "LR109"
    name = "schedule-longer-than-run"
    severity = Severity.WARNING
    summary = "the run ends long before the schedule does: the annealing never happens"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
from transformers import get_linear_schedule_with_warmup

optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
scheduler = get_linear_schedule_with_warmup(optimizer, 100, len(loader) // 4 * 3)
for epoch in range(3):
    for step, batch in enumerate(loader):
        model(**batch).loss.backward()
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
scheduler = get_linear_schedule_with_warmup(optimizer, 0, len(loader) * 3)  # expect: LR109
for epoch in range(3):
    for step, batch in enumerate(loader):
        model(**batch).loss.backward()
        if (step + 1) % 4 == 0:
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
""",
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=300)  # expect: LR109
for epoch in range(100):
    train_one_epoch(model, loader, optimizer)
    scheduler.step()
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for stepped in model.stepped_runs:
            length, run, ratio = stepped.length, stepped.run, stepped.coverage
            if length is None or ratio is None or not LEAST <= ratio < COVERED or run.stopped_by is not None:
                continue  # `if epoch > STOP_EPOCH: break` cuts the schedule short on purpose
            rate = length.rate_at(float(ratio))
            peak = "base" if length.after_end is AfterEnd.CLIMBS_BACK and length.parameters == ("T_max",) else "peak"
            still = f", where the rate is still {rate:.2g}x its {peak} rate" if rate is not None else ""
            every = run.every
            remedy = f"size it in optimizer steps, once every {every} batches" if every is not None else length.remedy
            yield Report(
                stepped.scheduler.call,
                f"{model.sized_against_run(stepped, only='only ')}: the run stops {round(100 * ratio)}% of the way "
                f"through the schedule{still}, so its annealing never happens; {remedy}",
            )
