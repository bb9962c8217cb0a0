"""Counting the steps a run takes and the steps a schedule lasts (what LR108 and LR109 compare)."""

from __future__ import annotations

import textwrap
from fractions import Fraction

import libcst as cst
import pytest

from lrlint.model import AfterEnd, Count, StepCadence, SteppedRun, build_model

LOADER = Count.symbol("len(loader)")


def test_counts_are_polynomials_whose_unknowns_cancel() -> None:
    run = Count.of(20) * LOADER
    schedule = Count.of(10) * LOADER
    assert run.ratio_to(schedule) == 2
    assert (run + Count.of(1)).ratio_to(schedule) is None
    assert (Count.symbol("epochs") + Count.of(1) - Count.of(1)).ratio_to(Count.symbol("epochs")) == 1
    assert run.divided(Count.of(4)) == Count.of(5) * LOADER
    assert (run * Count.symbol("epochs")).divided(Count.symbol("epochs")) == run
    per_update = LOADER.divided(Count.symbol("accum"))
    assert per_update is not None and str(per_update) == "len(loader) / accum"
    assert (per_update * Count.symbol("accum")).ratio_to(LOADER) == 1
    assert run.divided(LOADER + Count.of(1)) is None
    assert Count.of(Fraction(3, 2)).number == Fraction(3, 2) and run.number is None
    assert str(run + Count.of(1)) == "20 * len(loader) + 1"
    assert str(LOADER.divided(Count.of(4))) == "len(loader) / 4"


def stepped(code: str) -> list[SteppedRun]:
    source = textwrap.dedent(code)
    return build_model(cst.parse_module(source)).stepped_runs


def only(code: str) -> SteppedRun:
    (found,) = stepped(code)
    return found


PREAMBLE = """
import argparse
import torch
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--accum", type=int, default=4)
args = parser.parse_args()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
"""


def test_a_batch_step_counts_epochs_times_batches_through_helpers_and_progress_bars() -> None:
    found = only(
        PREAMBLE
        + """
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, epochs=10, steps_per_epoch=len(train_loader))

def train_one_epoch(loader, scheduler):
    progress = tqdm(loader, desc="train")
    for i, batch in enumerate(progress):
        optimizer.step()
        scheduler.step()

for epoch in range(args.epochs):
    train_one_epoch(train_loader, scheduler)
"""
    )
    assert found.run.cadence is StepCadence.PER_BATCH and found.run.unconditional
    assert str(found.run.steps) == "30 * len(train_loader)"
    assert found.length is not None and found.length.after_end is AfterEnd.RAISES
    assert found.run.steps.ratio_to(found.length.steps) == 3


def test_accumulation_divides_and_other_conditions_or_exits_make_the_count_a_bound() -> None:
    accumulated = only(
        PREAMBLE
        + """
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * len(loader))
for epoch in range(args.epochs):
    for step, batch in enumerate(loader):
        if (step + 1) % args.accum == 0:
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
"""
    )
    assert str(accumulated.run.every) == "4" and accumulated.run.unconditional
    assert accumulated.length is not None
    assert accumulated.run.steps.ratio_to(accumulated.length.steps) == Fraction(1, 4)
    guarded = only(
        PREAMBLE
        + """
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
for epoch in range(args.epochs):
    for batch in loader:
        optimizer.step()
    if epoch >= 5:
        scheduler.step()
    if stop_early(epoch):
        break
"""
    )
    assert guarded.run.cadence is StepCadence.PER_EPOCH and not guarded.run.unconditional


STEPS = "optimizer.step()\nscheduler.step()\n"


@pytest.mark.parametrize(
    "loops",
    [
        "for epoch in range(start_epoch, args.epochs):\n    for batch in loader:\n",  # resumed: not counted
        "while step < total:\n    for batch in loader:\n",
        "for epoch in range(3):\n    for batch in zip(loader_a, loader_b):\n",
        "for fold in range(5):\n    for epoch in range(3):\n        for batch in loader:\n",
    ],
)
def test_loops_lrlint_cannot_count_give_no_run(loops: str) -> None:
    body = textwrap.indent(STEPS, "    " * loops.count("\n"))
    code = PREAMBLE + "scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)\n" + loops + body
    assert stepped(code) == []


def test_a_scheduler_built_in_the_loop_or_stepped_twice_gives_no_run() -> None:
    rebuilt = PREAMBLE + (
        "for epoch in range(3):\n"
        "    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)\n"
        "    for batch in loader:\n        optimizer.step()\n        scheduler.step()\n"
    )
    twice = PREAMBLE + (
        "scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)\n"
        "for epoch in range(3):\n    for batch in loader:\n        optimizer.step()\n        scheduler.step()\n"
        "    scheduler.step()\n"
    )
    assert stepped(rebuilt) == [] and stepped(twice) == []


def stepped_as_sized(constructor: str) -> SteppedRun:
    """Stepped at the cadence it is sized for: OneCycleLR and transformers' per batch, the rest per epoch."""
    per_batch = "transformers" in constructor or "OneCycleLR" in constructor
    step = "        scheduler.step()\n" if per_batch else "    scheduler.step()\n"
    code = PREAMBLE.replace("import torch", "import torch\nimport transformers") + (
        f"scheduler = {constructor}\nfor epoch in range(3):\n    for batch in loader:\n        optimizer.step()\n{step}"
    )
    return only(code)


@pytest.mark.parametrize(
    ("constructor", "after_end", "steps"),
    [
        ("torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=500)", AfterEnd.RAISES, "500"),
        ("torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 50, eta_min=1e-5)", AfterEnd.CLIMBS_BACK, "50"),
        ("transformers.get_linear_schedule_with_warmup(optimizer, 10, 200)", AfterEnd.HOLDS_ZERO, "200"),
        ("transformers.get_scheduler('cosine', optimizer, 10, 200)", AfterEnd.CLIMBS_BACK, "200"),
        (
            "transformers.get_cosine_with_hard_restarts_schedule_with_warmup(optimizer, 0, 80)",
            AfterEnd.HOLDS_ZERO,
            "80",
        ),
        ("transformers.get_polynomial_decay_schedule_with_warmup(optimizer, 0, 80)", AfterEnd.HOLDS_END, "80"),
    ],
)
def test_schedule_lengths_and_what_follows_their_end(constructor: str, after_end: AfterEnd, steps: str) -> None:
    found = stepped_as_sized(constructor)
    assert found.length is not None
    assert (found.length.after_end, str(found.length.steps)) == (after_end, steps)


@pytest.mark.parametrize(
    "constructor",
    [
        "torch.optim.lr_scheduler.StepLR(optimizer, 30)",
        "torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, 10)",
        "transformers.get_cosine_schedule_with_warmup(optimizer, 0, 100, num_cycles=2)",
    ],
)
def test_schedules_whose_end_is_by_design_have_no_length(constructor: str) -> None:
    assert stepped_as_sized(constructor).length is None


def test_a_schedule_sized_for_the_other_cadence_is_left_to_the_cadence_rules() -> None:
    per_epoch_one_cycle = PREAMBLE + (
        "scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, epochs=200, steps_per_epoch=128)\n"
        "for epoch in range(200):\n    for batch in loader:\n        optimizer.step()\n    scheduler.step()\n"
    )
    assert stepped(per_epoch_one_cycle) == []


def test_a_stop_on_a_constant_epoch_at_the_top_of_the_loop_is_counted() -> None:
    body = "    for batch in loader:\n        optimizer.step()\n    scheduler.step()\n"
    preamble = PREAMBLE + "scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)\n"
    stopped = only(preamble + "for epoch in range(80):\n    if epoch > 40:\n        break\n" + body)
    assert str(stopped.run.epochs) == "41" and stopped.run.unconditional and stopped.run.stopped_by is not None
    late = only(preamble + "for epoch in range(80):\n" + body + "    if epoch > 40:\n        break\n")
    assert str(late.run.epochs) == "80" and not late.run.unconditional
