from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TypeGuard

import libcst as cst

from lrlint.findings import Severity
from lrlint.model import (
    NEEDS_A_SCHEDULER,
    BoundArguments,
    SchedulerSpec,
    TrainingModel,
    WindowedScheduler,
    bind_arguments,
    is_known,
    transformers_version_of_signatures,
    windowed_schedulers,
)
from lrlint.rules.base import Report, Rule

_LIGHTNING_INTERVALS = ("step", "epoch")


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class InvalidValue(Rule):
    """
    A literal argument value that torch rejects, or that cannot be meant.

    Checked on literals and module constants: non-positive sizes (`StepLR(step_size=0)` divides
    by zero at the first step), a `gamma` above 1 on StepLR or MultiStepLR (the learning rate
    grows; ExponentialLR may grow on purpose, in an LR range test), unsorted `milestones`, a
    MultiStepLR milestone at 0 (applied as the scheduler is built: `milestones=[0, 150, 200]`
    never trains at the optimizer's lr) or one that is not a whole number (`0.75 * epochs` with 30 epochs is 22.5: the
    step count never equals it, so that cut never happens),
    factors outside the range torch accepts (`LinearLR(start_factor=0)`,
    `ReduceLROnPlateau(factor=1.0)`: ValueError), misspelled modes (`anneal_strategy="cosine"`),
    a SequentialLR whose `milestones` are not one fewer than its schedulers, and positional
    arguments that look swapped (`StepLR(opt, 0.1, 30)` sets step_size=0.1 and gamma=30).

    A scheduler name that `transformers.get_scheduler` does not know (`"cosine_warmup"`): it
    raises ValueError.

    In a LightningModule's scheduler dict, an `"interval"` other than `"step"` or `"epoch"`
    (`"steps"`, `"batch"`): Lightning raises MisconfigurationException when fit starts.

    In OpenMMLab configs (mmengine's `param_scheduler`), a MultiStepLR milestone or a StepLR
    `step_size` at or beyond the scheduler's window: mmengine steps it only while
    `begin <= step < end` and counts its steps from `begin`, so with `end=24` the milestones
    `[28, 34]` of a 36-epoch schedule never come, and the run keeps its first rate.

    Fix: use a value in the documented range; pass sizes and factors by keyword.
    """

    code = "LR203"
    name = "invalid-value"
    severity = Severity.ERROR
    summary = "a literal argument value torch rejects or that cannot be meant (gamma > 1, step_size=0, ...)"
    needs = NEEDS_A_SCHEDULER
    VALID = (
        """
from torch.optim import lr_scheduler
a = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
b = lr_scheduler.MultiStepLR(opt, milestones=[30, 60, 90])
c = lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, 0.1), lr_scheduler.ExponentialLR(opt, 0.9)], [5])
d = lr_scheduler.StepLR(opt, step_size=cfg.step, gamma=cfg.gamma)
epochs = 30
e = lr_scheduler.MultiStepLR(opt, milestones=[int(0.5 * epochs), int(0.75 * epochs)])
f = lr_scheduler.MultiStepLR(opt, milestones=[0.5 * 40, 0.75 * 40])  # 20.0 and 30.0: reached
""",
        """
from transformers import get_scheduler
warm_cosine = get_scheduler("cosine_with_min_lr", optimizer, num_warmup_steps=500, num_training_steps=10_000)
chosen = get_scheduler(args.lr_scheduler_type, optimizer, num_warmup_steps=500, num_training_steps=10_000)
""",
        """
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=36, val_interval=1)
param_scheduler = [
    dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type="MultiStepLR", begin=0, end=36, by_epoch=True, milestones=[28, 34], gamma=0.1),
]
""",
    )
    INVALID = (
        """
_base_ = "./mask-rcnn_r50_fpn_1x_coco.py"
train_cfg = dict(max_epochs=36)
param_scheduler = [
    dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type="MultiStepLR", begin=0, end=24, by_epoch=True, milestones=[28, 34], gamma=0.1),  # expect: LR203
]
""",
        """
from torch.optim import lr_scheduler
a = lr_scheduler.StepLR(opt, step_size=30, gamma=10)  # expect: LR203
b = lr_scheduler.MultiStepLR(opt, milestones=[60, 30])  # expect: LR203
c = lr_scheduler.LinearLR(opt, start_factor=0)  # expect: LR203
d = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100, anneal_strategy="cosine")  # expect: LR203
epochs = 30
e = lr_scheduler.MultiStepLR(opt, milestones=[0.5 * epochs, 0.75 * epochs])  # expect: LR203
f = lr_scheduler.MultiStepLR(opt, milestones=[0, 150, 200], gamma=0.1)  # expect: LR203
""",
        """
from transformers import get_scheduler
scheduler = get_scheduler("cosine_warmup", optimizer, num_warmup_steps=500, num_training_steps=10_000)  # expect: LR203
""",
        """
import lightning as L
import torch


class Model(L.LightningModule):
    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=1e-3)
        steps = self.trainer.estimated_stepping_batches
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=steps)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "steps"}}  # expect: LR203
""",
        """
from torch.optim.lr_scheduler import StepLR, SequentialLR, LinearLR, CosineAnnealingLR
swapped = StepLR(optimizer, 0.1, 30)  # expect: LR203
warm, cos = LinearLR(optimizer, 0.1), CosineAnnealingLR(optimizer, 95)
phases = SequentialLR(optimizer, schedulers=[warm, cos], milestones=[5, 50])  # expect: LR203
""",
    )

    def check(self, model: TrainingModel) -> Iterator[Report]:
        for call, spec in model.constructor_calls():
            if spec.names:
                yield from _unknown_name(model, call, spec)
            if spec.kind != "class":
                continue
            bound = bind_arguments(call, spec)
            swapped = _swapped(model, spec.short_name, bound)
            if swapped is not None:
                yield swapped
                continue
            yield from _range_checks(model, spec, bound)
            if spec.short_name == "SequentialLR":
                yield from _sequential_milestones(bound)
        for config in windowed_schedulers(call for call, _ in model.calls()):
            yield from _outside_the_window(model, config)
        yield from _lightning_intervals(model)


def _unknown_name(model: TrainingModel, call: cst.Call, spec: SchedulerSpec) -> Iterator[Report]:
    """`get_scheduler("cosine_warmup", ...)`: a name the factory does not know."""
    arg = bind_arguments(call, spec).values.get("name")
    if arg is None:
        return
    value = model.values.value(arg.value)
    if isinstance(value, str) and value not in spec.names:
        hint = _did_you_mean(value, spec.names, 0.6, f"it knows {', '.join(spec.names)}")
        yield Report(
            arg,
            f'{spec.short_name}("{value}"): transformers (up to {transformers_version_of_signatures()}) has no '
            f"scheduler of that name and raises ValueError; {hint}",
        )


def _lightning_intervals(model: TrainingModel) -> Iterator[Report]:
    """An `"interval"` of a scheduler dict that Lightning (automatic optimisation) rejects."""
    for setup in model.lightning_modules:
        if not setup.automatic:
            continue  # under manual optimisation Lightning warns that it ignores the key
        for config in setup.configuration.schedulers:
            node = config.interval_node
            if node is None or config.ignored:
                continue
            value = model.values.value(node)
            if isinstance(value, str) and value not in _LIGHTNING_INTERVALS:
                hint = _did_you_mean(value, _LIGHTNING_INTERVALS, 0.5, 'use "step" or "epoch"')
                yield Report(
                    node,
                    f'"interval": "{value}" is neither "step" nor "epoch": Lightning raises '
                    f"MisconfigurationException when fit starts; {hint}",
                )


def _did_you_mean(value: str, known: tuple[str, ...], cutoff: float, otherwise: str) -> str:
    meant = difflib.get_close_matches(value.lower(), known, n=1, cutoff=cutoff)
    return f'did you mean "{meant[0]}"?' if meant else otherwise


def _range_checks(model: TrainingModel, spec: SchedulerSpec, bound: BoundArguments) -> Iterator[Report]:
    name = spec.short_name
    for check in spec.facts.checks:
        arg = bound.values.get(check.parameter)
        if arg is None:
            continue
        value = model.values.value(arg.value)
        if is_known(value) and not check.valid(value):
            yield Report(arg, f"{name}({check.parameter}={model.code(arg.value)}): {check.problem}")


def _swapped(model: TrainingModel, name: str, bound: BoundArguments) -> Report | None:
    """`StepLR(opt, 0.1, 30)`: a fraction where the size goes, a size where the factor goes."""
    if name not in ("StepLR", "MultiStepLR"):
        return None
    size_name = "step_size" if name == "StepLR" else "milestones"
    size, gamma = bound.values.get(size_name), bound.values.get("gamma")
    if size is None or gamma is None or size.keyword is not None or gamma.keyword is not None:
        return None
    size_value, gamma_value = model.values.value(size.value), model.values.value(gamma.value)
    looks_like_factor = _number(size_value) and 0 < size_value < 1
    looks_like_size = isinstance(gamma_value, list) or (_number(gamma_value) and gamma_value >= 1)
    if looks_like_factor and looks_like_size:
        return Report(
            size,
            f"{name}(optimizer, {model.code(size.value)}, {model.code(gamma.value)}) sets {size_name}="
            f"{model.code(size.value)} and gamma={model.code(gamma.value)}: the arguments look swapped; "
            f"pass them by keyword",
        )
    return None


def _sequential_milestones(bound: BoundArguments) -> Iterator[Report]:
    schedulers, milestones = bound.values.get("schedulers"), bound.values.get("milestones")
    if schedulers is None or milestones is None:
        return
    if isinstance(schedulers.value, (cst.List, cst.Tuple)) and isinstance(milestones.value, (cst.List, cst.Tuple)):
        count, marks = len(schedulers.value.elements), len(milestones.value.elements)
        if marks != count - 1:
            yield Report(
                milestones,
                f"SequentialLR has {count} schedulers and {marks} milestones: it needs exactly {count - 1} "
                f"(ValueError)",
            )


def _outside_the_window(model: TrainingModel, config: WindowedScheduler) -> Iterator[Report]:
    """A milestone (or StepLR's `step_size`) at or beyond `end - begin`: the scheduler never counts that far."""
    begin_arg, end_arg = config.arguments.get("begin"), config.arguments["end"]
    begin = model.values.value(begin_arg.value) if begin_arg is not None else 0
    end = model.values.value(end_arg.value)
    if not (isinstance(begin, int) and isinstance(end, int)) or isinstance(begin, bool) or isinstance(end, bool):
        return
    size_name = "milestones" if config.kind == "MultiStepLR" else "step_size"
    size = config.arguments.get(size_name)
    if size is None:
        return
    value = model.values.value(size.value)
    counted = end - begin
    sizes: list[object] = value if isinstance(value, list) else [value]
    beyond = [s for s in sizes if _number(s) and s >= counted]
    if not beyond:
        return
    what = (
        f"milestone{'s' if len(beyond) > 1 else ''} {', '.join(str(s) for s in beyond)}"
        if config.kind == "MultiStepLR"
        else f"step_size={beyond[0]}"
    )
    never = "those decays never happen" if len(beyond) > 1 else "that decay never happens"
    yield Report(
        size,
        f"{config.kind} config: {what} at or beyond its window (begin={begin}, end={end}): mmengine steps a "
        f"scheduler only while begin <= step < end and counts from begin, so it counts {counted} steps and "
        f"{never}; raise `end` to the run's length (e.g. max_epochs) or move the {size_name}",
    )
