from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, Evidence, Objects, Role, TrackedObject, TrainingModel
from lrlint.rules.base import Report, Rule


class SchedulerWrongOptimizer(Rule):
    """
    A scheduler of optimizer A is stepped in a loop that only steps optimizer B.

    A scheduler changes the learning rate of the optimizer it was constructed with. Built on
    the wrong one (a stale `optimizer` after the model was re-created, the discriminator's
    optimizer in a GAN), it schedules a learning rate no update uses, while the optimizer
    that trains keeps its initial rate.

    Fix: construct the scheduler with the optimizer the loop steps.

    Not reported when either optimizer is a parameter lrlint knows only by its name or annotation
    (`def __init__(self, optimizer)`, `def step(self, optimizer)`): two such parameters are often
    handed the same optimizer, which lrlint cannot see.
    """

    code = "LR204"
    name = "scheduler-wrong-optimizer"
    severity = Severity.ERROR
    summary = "a scheduler attached to an optimizer that its loop never steps"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
import torch
opt_g = torch.optim.Adam(gen.parameters())
opt_d = torch.optim.Adam(disc.parameters())
sched_g = torch.optim.lr_scheduler.StepLR(opt_g, 10)
for epoch in range(50):
    for batch in loader:
        opt_d.step()
        opt_g.step()
    sched_g.step()
""",
        """
from torch.optim.lr_scheduler import LambdaLR


class Backend:
    def prepare(self, model):
        return wrap(model), build_optimizer(model)  # neither is visible to lrlint

    def step(self, optimizer):
        optimizer.step()


class Trainer:
    def __init__(self, model):
        self.backend = Backend()
        self.model, self.optimizer = self.backend.prepare(model)
        self.scheduler = warmup(self.optimizer)

    def fit(self, loader):
        for batch in loader:
            self.model(batch).backward()
            self.backend.step(self.optimizer)  # the same optimizer, under another parameter's name
            self.scheduler.step()


def warmup(optimizer):
    return LambdaLR(optimizer, lambda step: min(1.0, step / 100))
""",
    )
    INVALID = (
        """
import torch
pretrain_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
finetune_opt = torch.optim.SGD(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(pretrain_opt, 10)  # expect: LR204
for epoch in range(50):
    for batch in loader:
        finetune_opt.step()
    scheduler.step()
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for _, item in model.scheduler_steps():
            if not item.loops:
                continue
            attached = item.attached_optimizers
            optimizer_steps = [other for other in item.loops[0].items if other.role is Role.OPTIMIZER]
            stepped = frozenset().union(*(other.objects for other in optimizer_steps))
            if not attached or not stepped or attached & stepped or not _known_apart(attached | stepped):
                continue
            stepped_names = sorted({f"`{model.receiver(other.call)}`" for other in optimizer_steps})
            for scheduler in model.ordered(item.objects):
                yield Report(
                    scheduler.call,
                    f"{scheduler.name} is built on {_given_optimizer(model, scheduler)} = "
                    f"{' / '.join(sorted(model.describe(o) for o in attached))}, but the loop that steps it "
                    f"({model.where(item.call)}) only steps {' / '.join(stepped_names)} = "
                    f"{' / '.join(sorted(model.describe(o) for o in stepped))}: construct it with that optimizer",
                )


def _known_apart(optimizers: Objects) -> bool:
    """Each optimizer is one lrlint saw built (or handed back by a factory): objects it knows only
    as parameters may all be the same run-time optimizer."""
    return not any(o.evidence in (Evidence.NAMED, Evidence.ANNOTATED) for o in optimizers)


def _given_optimizer(model: TrainingModel, scheduler: TrackedObject) -> str:
    expr = scheduler.arguments.expression("optimizer") if scheduler.arguments else None
    return f"`{model.code(expr)}`" if expr is not None else "another optimizer"
