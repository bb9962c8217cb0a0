from __future__ import annotations

from collections.abc import Iterator

from lrlint.findings import Severity
from lrlint.model import NEEDS_A_SCHEDULER, Role, TrackedObject, TrainingModel
from lrlint.rules.base import Report, Rule


class SchedulerWrongOptimizer(Rule):
    """
    A scheduler of optimizer A is stepped in a loop that only steps optimizer B.

    A scheduler changes the learning rate of the optimizer it was constructed with. Built on
    the wrong one (a stale `optimizer` after the model was re-created, the discriminator's
    optimizer in a GAN), it schedules a learning rate no update uses, while the optimizer
    that trains keeps its initial rate.

    Fix: construct the scheduler with the optimizer the loop steps.
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
            if not attached or not stepped or attached & stepped:
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


def _given_optimizer(model: TrainingModel, scheduler: TrackedObject) -> str:
    expr = scheduler.arguments.expression("optimizer") if scheduler.arguments else None
    return f"`{model.code(expr)}`" if expr is not None else "another optimizer"
