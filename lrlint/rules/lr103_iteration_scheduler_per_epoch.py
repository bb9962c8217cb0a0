from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import Role, StepCadence, TrackedObject, TrainingModel, Unit
from lrlint.model.syntax import FunctionInfo
from lrlint.rules.base import Report, Rule


class IterationSchedulerPerEpoch(Rule):
    """
    A per-iteration scheduler is stepped once per epoch.

    OneCycleLR, CyclicLR and the transformers warmup schedules
    (`get_linear_schedule_with_warmup`, `get_cosine_schedule_with_warmup`, `get_scheduler`, ...)
    are sized in optimizer steps, as is any scheduler sized from the number of batches
    (`CosineAnnealingLR(T_max=epochs * len(loader))`). Stepped once per epoch, a run of 3 epochs
    of 500 batches takes 3 of its 1500 steps: the warmup never ends and the learning rate never
    reaches its peak or its annealed value.

    In a Lightning `configure_optimizers`, such a scheduler returned with `"interval": "epoch"`,
    or without an interval (Lightning's default is per epoch), is reported too.

    Fix: call `scheduler.step()` right after `optimizer.step()` inside the batch loop; in
    Lightning return `{"scheduler": scheduler, "interval": "step"}`.
    """

    code = "LR103"
    name = "iteration-scheduler-per-epoch"
    severity = Severity.ERROR
    summary = "a scheduler sized in optimizer steps (OneCycleLR, warmup schedules) is stepped once per epoch"
    VALID = (
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))
for epoch in range(10):
    for x, y in loader:
        optimizer.step()
        scheduler.step()
""",
        """
import torch
import pytorch_lightning as pl

class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        total = self.trainer.estimated_stepping_batches
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
""",
    )
    INVALID = (
        """
import torch

optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))
for epoch in range(10):
    for x, y in loader:
        optimizer.step()
    scheduler.step()  # expect: LR103
""",
        """
import torch
from transformers import get_linear_schedule_with_warmup
import pytorch_lightning as pl

class Model(pl.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        scheduler = get_linear_schedule_with_warmup(optimizer, 100, self.trainer.estimated_stepping_batches)
        return [optimizer], [scheduler]  # expect: LR103
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        per_batch = _stepped_per_batch(model)
        for trace, item in model.scheduler_steps():
            if item.call.args or trace.cadence(item) is not StepCadence.PER_EPOCH:
                continue
            if item.objects & per_batch:
                continue  # also stepped every batch elsewhere: a final extra step, not this bug
            evidence = _iteration_evidence(model, item.objects)
            if evidence:
                yield Report(
                    item.call,
                    f"`{model.receiver(item.call)}.step()` runs once per epoch, but {evidence} is sized in "
                    "optimizer steps: the schedule barely advances (warmup never ends); step it right "
                    "after optimizer.step() in the batch loop",
                )
        yield from _lightning_reports(model)


def _stepped_per_batch(model: TrainingModel) -> frozenset[TrackedObject]:
    return frozenset(
        obj
        for trace, item in model.scheduler_steps()
        if trace.cadence(item) is StepCadence.PER_BATCH
        for obj in item.objects
    )


def _iteration_evidence(model: TrainingModel, schedulers: frozenset[TrackedObject]) -> str | None:
    sizings = [(s, model.sizing(s)) for s in model.ordered(schedulers)]
    if not sizings or any(sizing.unit is not Unit.ITERATIONS for _, sizing in sizings):
        return None
    return "; ".join(f"{model.describe(s)} ({sizing.evidence})" for s, sizing in sizings)


# -- Lightning ---------------------------------------------------------------------------------


def _lightning_reports(model: TrainingModel) -> Iterator[Report]:
    for function in model.index.functions.values():
        if function.name != "configure_optimizers" or function.class_info is None:
            continue
        for returned in function.returns:
            for node, scheduler_expr in _scheduler_configs(model, returned, function):
                schedulers = frozenset(o for o in model.objects(scheduler_expr, function) if o.role is Role.SCHEDULER)
                evidence = _iteration_evidence(model, schedulers)
                if evidence:
                    yield Report(
                        node,
                        f'Lightning steps this scheduler once per epoch (interval "epoch", the default), but '
                        f'{evidence} is sized in optimizer steps; return it with "interval": "step"',
                    )


def _scheduler_configs(
    model: TrainingModel, returned: cst.BaseExpression, function: FunctionInfo
) -> Iterator[tuple[cst.CSTNode, cst.BaseExpression]]:
    """(node to report, scheduler expression) for each scheduler stepped per epoch by Lightning."""
    returned = _dict_behind_name(model, returned, function)
    if isinstance(returned, cst.Dict):
        config = _dict_value(returned, "lr_scheduler")
        if config is not None:
            yield from _one_config(model, config, function)
    elif isinstance(returned, cst.Tuple) and len(returned.elements) == 2:
        schedulers = returned.elements[1].value
        if isinstance(schedulers, (cst.List, cst.Tuple)):
            for element in schedulers.elements:
                yield from _one_config(model, element.value, function)


def _one_config(
    model: TrainingModel, config: cst.BaseExpression, function: FunctionInfo
) -> Iterator[tuple[cst.CSTNode, cst.BaseExpression]]:
    config = _dict_behind_name(model, config, function)
    if not isinstance(config, cst.Dict):
        yield config, config  # a bare scheduler: Lightning's default interval is "epoch"
        return
    scheduler = _dict_value(config, "scheduler")
    interval = _dict_value(config, "interval")
    if scheduler is None:
        return
    if interval is None:
        yield scheduler, scheduler
    elif isinstance(interval, cst.SimpleString) and interval.evaluated_value == "epoch":
        yield interval, scheduler


def _dict_value(node: cst.Dict, key: str) -> cst.BaseExpression | None:
    for element in node.elements:
        if (
            isinstance(element, cst.DictElement)
            and isinstance(element.key, cst.SimpleString)
            and element.key.evaluated_value == key
        ):
            return element.value
    return None


def _dict_behind_name(model: TrainingModel, expr: cst.BaseExpression, function: FunctionInfo) -> cst.BaseExpression:
    """`config = {...}; return config` -> the dict display, when the name is bound once."""
    if not isinstance(expr, cst.Name):
        return expr
    values = [v for name, v in model.index.name_values.items() if name.value == expr.value and v.function is function]
    if len(values) == 1 and not values[0].path and isinstance(values[0].value, cst.Dict):
        return values[0].value
    return expr
