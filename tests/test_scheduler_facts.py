"""The table of torch scheduler facts covers torch's schedulers and names their real parameters."""

from __future__ import annotations

import inspect

import pytest

from lrlint.catalog import TORCH_SCHEDULER_PREFIX, scheduler_spec
from lrlint.scheduler_facts import TORCH_SCHEDULERS, AfterEnd


@pytest.mark.parametrize("name", sorted(TORCH_SCHEDULERS))
def test_every_fact_names_a_parameter_of_the_class(name: str) -> None:
    spec = scheduler_spec(TORCH_SCHEDULER_PREFIX + name)
    assert spec is not None and spec.facts is TORCH_SCHEDULERS[name]
    facts = spec.facts
    named = [size.name for size in facts.sizes] + [check.parameter for check in facts.checks]
    assert all(spec.parameter(parameter) is not None for parameter in named), named
    assert spec.size_parameters == facts.sizes and spec.native_cadence is facts.cadence


def test_every_torch_scheduler_class_has_an_entry() -> None:
    """A new torch release with a new scheduler fails here until the table says what it does."""
    lr_scheduler = pytest.importorskip("torch.optim.lr_scheduler")
    bases = (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)
    classes = {
        name
        for name, value in vars(lr_scheduler).items()
        if inspect.isclass(value) and issubclass(value, bases) and value not in bases and not name.startswith("_")
    }
    classes.discard("_LRScheduler")
    assert classes <= TORCH_SCHEDULERS.keys(), classes - TORCH_SCHEDULERS.keys()


def test_a_schedule_with_an_end_is_one_lrlint_can_size() -> None:
    for name, facts in TORCH_SCHEDULERS.items():
        if facts.after_end in (AfterEnd.RAISES, AfterEnd.CLIMBS_BACK):
            assert facts.sizes, name
