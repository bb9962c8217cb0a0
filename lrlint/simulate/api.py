"""`lr_sequence` and `lr_sequence_of`: the learning rates of a torch scheduler, for users' own tests.

The convention of the whole package: `lrs[k]` is the learning rate the optimizer uses during period
k, before the scheduler's step at its end (torch's tutorials print `get_last_lr()` after each step,
which is `lrs[k + 1]`). torch is imported only when a simulation runs.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Sequence
from typing import Any, cast

from lrlint.simulate.evaluate import CannotSimulate, StoppedByTorch

DEFAULT_OPTIMIZER = "SGD"


def lr_sequence(
    scheduler: str | type | Callable[..., Any],
    optimizer_lr: float,
    steps: int,
    *,
    optimizer: str = DEFAULT_OPTIMIZER,
    metrics: Sequence[float] | None = None,
    **kwargs: Any,
) -> list[float]:
    """The learning rate of each of `steps` periods, for `scheduler(optimizer, **kwargs)`.

    `scheduler` is a torch scheduler class, its name (`"StepLR"`), or any callable taking the
    optimizer first. `metrics` feeds ReduceLROnPlateau one value per step.
    """
    build = _scheduler_class(scheduler) if isinstance(scheduler, str) else scheduler
    values = list(metrics) if metrics is not None else None

    def step(period: int, built: Any) -> None:
        built.step(values[period]) if values is not None else built.step()

    return lr_sequence_of(lambda opt: build(opt, **kwargs), optimizer_lr, steps, step, optimizer=optimizer)


def lr_sequence_of(
    build: Callable[[Any], Any],
    optimizer_lr: float | None,
    steps: int,
    step: Callable[[int, Any], None],
    *,
    optimizer: str = DEFAULT_OPTIMIZER,
    optimizer_kwargs: dict[str, Any] | None = None,
) -> list[float]:
    """The general form: `build(optimizer)` returns whatever `step(period, built)` steps.

    For phases switched by hand (`if epoch < 20: warmup.step() else: decay.step()`), build
    both and choose in `step`. The optimizer steps before the schedulers in every period.
    """
    options = {**(optimizer_kwargs or {}), **({"lr": optimizer_lr} if optimizer_lr is not None else {})}
    return stepped_rates(build, steps, step, optimizer, options)[:-1]


def stepped_rates(
    build: Callable[[Any], Any], steps: int, step: Callable[[int, Any], None], optimizer: str, options: dict[str, Any]
) -> list[float]:
    """The rate before each of `steps` periods, and the rate after the last one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own import-time warnings (NumPy's) are not the user's business
        import torch  # noqa: PLC0415 - torch only when a simulation runs

    parameter = torch.nn.Parameter(torch.zeros(1))
    opt = getattr(torch.optim, optimizer)([parameter], **options)
    built = build(opt)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notes of the simulated code are not ours to show
        for period in range(steps):
            lrs.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            try:
                step(period, built)
            except (TypeError, ValueError, ArithmeticError) as error:
                message = f"torch raises at step {period + 1} of {steps}: {error}"
                raise StoppedByTorch(message, [*lrs, float(opt.param_groups[0]["lr"])]) from error
    return [*lrs, float(opt.param_groups[0]["lr"])]


def _scheduler_class(name: str) -> Any:
    import torch  # noqa: PLC0415

    found = getattr(torch.optim.lr_scheduler, name.rsplit(".", 1)[-1], None)
    if found is None:
        raise ValueError(f"torch.optim.lr_scheduler has no {name}")
    return found


FACTORY_PACKAGES = ("transformers.",)  # installed libraries whose scheduler factories are called as they are


def scheduler_factory(qualified_name: str, kind: str) -> Callable[..., Any]:
    """The torch scheduler class, or a library's factory (`transformers.get_cosine_schedule_with_warmup`)."""
    if kind == "class" and qualified_name.startswith("torch.optim.lr_scheduler."):
        return cast(Callable[..., Any], _scheduler_class(qualified_name))
    if not qualified_name.startswith(FACTORY_PACKAGES):
        raise CannotSimulate(f"{qualified_name.rsplit('.', 1)[-1]} is not a torch scheduler class")
    module_name, _, name = qualified_name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        package = module_name.partition(".")[0]
        missing = f"{name} comes from {package}, which is not installed here (pip install {package})"
        raise CannotSimulate(missing) from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise CannotSimulate(f"the installed {module_name} has no {name}")
    return cast(Callable[..., Any], factory)
