"""The shipped signature data must be what the installed torch (and transformers) really have."""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path

import pytest

from lrlint.catalog import Cadence, removed_arguments, scheduler_spec, scheduler_specs

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
SHIPPED = json.loads(resources.files("lrlint.data").joinpath("signatures.json").read_text())

torch = pytest.importorskip("torch", reason="the signature check needs torch (pip install -e '.[torch]')")


def _generator():
    spec = importlib.util.spec_from_file_location("generate_signatures", SCRIPTS / "generate_signatures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_signatures"] = module
    spec.loader.exec_module(module)
    return module


def test_torch_signatures_match_the_installed_torch() -> None:
    generated = _generator().torch_schedulers()
    shipped = {k: v for k, v in SHIPPED["schedulers"].items() if k.startswith("torch.")}
    assert SHIPPED["generated_from"]["torch"] == torch.__version__.split("+")[0]
    assert shipped == generated, "run scripts/generate_signatures.py"


def test_transformers_signatures_match_the_installed_transformers() -> None:
    transformers = pytest.importorskip("transformers")
    if transformers.__version__ != SHIPPED["generated_from"].get("transformers"):
        pytest.skip(f"data was generated from transformers {SHIPPED['generated_from'].get('transformers')}")
    generated = _generator().transformers_factories()
    shipped = {k: v for k, v in SHIPPED["schedulers"].items() if k.startswith("transformers.")}
    assert shipped == generated, "run scripts/generate_signatures.py"


def test_every_torch_scheduler_class_is_known_by_its_public_name() -> None:
    import inspect

    from torch.optim import lr_scheduler

    public = [
        name
        for name, obj in vars(lr_scheduler).items()
        if inspect.isclass(obj)
        and issubclass(obj, lr_scheduler.LRScheduler)
        and obj is not lr_scheduler.LRScheduler
        and not name.startswith("_")
    ]
    for name in public:
        spec = scheduler_spec(f"torch.optim.lr_scheduler.{name}")
        assert spec is not None and spec.short_name == name


def test_removed_arguments_are_really_gone_from_the_installed_torch() -> None:
    import inspect

    for argument in removed_arguments().values():
        for spec in scheduler_specs().values():
            if spec.kind == "class":
                cls = getattr(torch.optim.lr_scheduler, spec.short_name)
                assert argument.name not in inspect.signature(cls).parameters


def test_cadence_table_names_real_parameters() -> None:
    for spec in scheduler_specs().values():
        for size in spec.size_parameters:
            assert spec.parameter(size.name) is not None, (spec.short_name, size.name)
    cadence = {name: spec.native_cadence for name, spec in scheduler_specs().items()}
    assert cadence["get_linear_schedule_with_warmup"] is Cadence.PER_ITERATION
    assert cadence["get_cosine_schedule_with_warmup"] is Cadence.PER_ITERATION
    assert cadence["get_constant_schedule"] is Cadence.EITHER  # a constant LR has no cadence
    assert cadence["get_reduce_on_plateau_schedule"] is Cadence.EITHER
    assert cadence["OneCycleLR"] is Cadence.PER_ITERATION and cadence["StepLR"] is Cadence.PER_EPOCH
