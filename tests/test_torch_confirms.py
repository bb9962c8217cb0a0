"""Every behavioural finding of the fixtures, replayed in real torch: torch must agree with lrlint.

For each `# expect:` marker, the scheduler it is about is built with torch 2.13 from the
fixture's own (statically evaluated) arguments and driven the way the finding says:

- LR201, LR202: the constructor raises TypeError;
- LR203: the constructor raises ValueError, or the learning rate grows where it must decay;
- LR301: ReduceLROnPlateau.step() without a metric raises TypeError;
- LR101: stepping the scheduler before the optimizer triggers torch's order warning;
- LR102 / LR103: stepped at the code's cadence, the schedule runs out within one epoch
  (LR102) or has barely moved after every epoch (LR103), unlike at the cadence it was sized for.

The fixture files themselves are not run: they are training scripts with undefined data and
models; what is replayed is exactly the claim the finding makes. A finding whose arguments are
not literal is skipped with the reason.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import libcst as cst
import pytest

from lrlint.model import Project, Role, TrackedObject, TrainingModel, build_model
from lrlint.sources import read_source
from tests.expectations import expected_in_file

torch = pytest.importorskip("torch")
from lrlint.simulate import (  # noqa: E402 - needs torch
    CannotSimulate,
    SafeEvaluator,
    lr_sequence_of,
    scheduler_builder,
    simulate_model,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
STEPS_PER_EPOCH = 200  # len(loader) where the code has one: a small real dataset
CONFIRMABLE = {"LR101", "LR102", "LR103", "LR201", "LR202", "LR203", "LR301"}
CASES = sorted(
    (path, line, code)
    for path in [*FIXTURES.glob("*.py"), *FIXTURES.glob("projects/*/*.py")]
    for cell, line, code in expected_in_file(path)
    if code in CONFIRMABLE and cell is None
)


def model_of(path: Path) -> TrainingModel:
    source = read_source(path)
    return build_model(cst.parse_module(source.code), source, Project())


def scheduler_at(model: TrainingModel, line: int) -> TrackedObject:
    """The scheduler constructed by the call that spans `line`."""
    for tracked in model.resolver.constructed():
        start, _ = model.position(tracked.call)
        end, _ = model.metadata.end(tracked.call)
        if tracked.role is Role.SCHEDULER and start <= line <= end:
            return tracked
    pytest.skip(f"no scheduler constructed at line {line}")


def build(model: TrainingModel, scheduler: TrackedObject) -> tuple[object, object]:
    """The scheduler, built by torch on a dummy parameter, and its optimizer."""
    try:
        builder, lr = scheduler_builder(model, scheduler, SafeEvaluator(model, STEPS_PER_EPOCH))
    except CannotSimulate as reason:
        pytest.skip(f"cannot build it: {reason}")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr if lr is not None else 0.1)
    try:
        return builder(optimizer), optimizer
    except CannotSimulate as reason:
        pytest.skip(f"cannot build it: {reason}")


def schedule_stepped_at(model: TrainingModel, path: Path, line: int, epochs: int) -> object:
    schedules = [s for s in simulate_model(model, epochs, STEPS_PER_EPOCH) if (str(path), line) in s.steps]
    if not schedules or not schedules[0].per_epoch:
        pytest.skip(f"lrlint cannot simulate it: {schedules[0].cannot if schedules else 'not found'}")
    return schedules[0]


@pytest.mark.parametrize(("path", "line", "code"), CASES, ids=lambda v: v.name if isinstance(v, Path) else str(v))
def test_torch_agrees(path: Path, line: int, code: str) -> None:
    model = model_of(path)
    if code in ("LR201", "LR202"):
        with pytest.raises(TypeError):
            build(model, scheduler_at(model, line))
    elif code == "LR203":
        confirm_invalid_value(model, line)
    elif code == "LR301":
        confirm_plateau_needs_metric(model, path, line)
    elif code == "LR101":
        confirm_order_warning(model, path, line)
    else:
        confirm_cadence(model, path, line, code)


def confirm_invalid_value(model: TrainingModel, line: int) -> None:
    try:
        scheduler, optimizer = build(model, scheduler_at(model, line))
    except ValueError:
        return  # torch refuses it outright
    lrs = []
    for _ in range(6):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs != sorted(lrs, reverse=True) or len(set(lrs)) == 1, f"torch accepted it and the LR decays: {lrs}"


def confirm_plateau_needs_metric(model: TrainingModel, path: Path, line: int) -> None:
    (scheduler,) = step_targets(model, path, line)
    plateau, optimizer = build(model, scheduler)
    optimizer.step()
    with pytest.raises(TypeError):
        plateau.step()


def step_targets(model: TrainingModel, path: Path, line: int) -> list[TrackedObject]:
    found = {
        scheduler
        for _, item in model.scheduler_steps()
        if model.locate(item.call)[0].source.path == str(path) and model.position(item.call)[0] == line
        for scheduler in item.objects
    }
    if not found:
        pytest.skip("the stepped scheduler is built in another module")
    return sorted(found, key=lambda s: model.position(s.call))


def confirm_order_warning(model: TrainingModel, path: Path, line: int) -> None:
    scheduler, optimizer = build(model, step_targets(model, path, line)[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler.step()  # in the first iteration, before any optimizer step: the code's order
        optimizer.step()
    assert any("lr_scheduler.step()` before `optimizer.step()" in str(w.message) for w in caught), [
        str(w.message) for w in caught
    ]


def confirm_cadence(model: TrainingModel, path: Path, line: int, code: str) -> None:
    schedule = schedule_stepped_at(model, path, line, epochs=3)
    first_start = schedule.per_epoch[0][0]
    if code == "LR102":  # stepped every batch: within the first epoch it gets past where 3 epochs should lead
        (scheduler,) = step_targets(model, path, line) or [None]
        builder, lr = scheduler_builder(model, scheduler, SafeEvaluator(model, STEPS_PER_EPOCH))
        first_epoch = lr_sequence_of(builder, lr, STEPS_PER_EPOCH, lambda _, built: built.step())
        intended_after_all = schedule.other_cadence[-1][1]
        assert min(first_epoch) < intended_after_all, (min(first_epoch), schedule.other_cadence)
    else:  # LR103, stepped once per epoch: it covers a fraction of what it was sized to cover
        assert schedule.other_cadence, "at the cadence it was sized for it should run these epochs"
        moved = max(abs(lr - first_start) for pair in schedule.per_epoch for lr in pair)
        intended = max(abs(lr - first_start) for pair in schedule.other_cadence for lr in pair)
        assert moved < 0.5 * intended, (schedule.per_epoch, schedule.other_cadence)
