"""What lrlint knows about torch optimizers and schedulers, without importing torch.

Constructor signatures come from `data/signatures.json` (generated from real torch by
`scripts/generate_signatures.py`); the semantics that rules need (which arguments size the
schedule, whether it is meant to be stepped per batch, what its constructor refuses) are stated in
`scheduler_facts`, one entry per torch class.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from lrlint.scheduler_facts import TORCH_SCHEDULERS, UNKNOWN_CLASS, Cadence, SchedulerFacts, SizeParameter

TORCH_SCHEDULER_PREFIX = "torch.optim.lr_scheduler."
TRANSFORMERS_PREFIXES = ("transformers.optimization.", "transformers.")


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # inspect.Parameter kind name
    has_default: bool
    default: Any = None

    @property
    def positional(self) -> bool:
        return self.kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")

    @property
    def keyword(self) -> bool:
        return self.kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")


@dataclass(frozen=True)
class SchedulerSpec:
    qualified_name: str
    short_name: str
    kind: str  # "class" or "factory"
    returns: str  # the torch class the constructor returns
    parameters: tuple[Parameter, ...]
    native_cadence: Cadence
    size_parameters: tuple[SizeParameter, ...]
    names: tuple[str, ...] = ()  # a factory that builds by name (`get_scheduler`): the names it accepts

    @property
    def accepts_var_keyword(self) -> bool:
        return any(p.kind == "VAR_KEYWORD" for p in self.parameters)

    @property
    def accepts_var_positional(self) -> bool:
        return any(p.kind == "VAR_POSITIONAL" for p in self.parameters)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def facts(self) -> SchedulerFacts:
        """What torch does with the class it builds (a factory: the class it returns)."""
        return TORCH_SCHEDULERS.get(self.returns, UNKNOWN_CLASS)

    @property
    def is_plateau(self) -> bool:
        return self.facts.follows_metric

    @property
    def state_is_position(self) -> bool:
        """Setting its position (`last_epoch`) restores it, given the optimizer's restored learning rates."""
        return self.facts.position_is_state


_TRANSFORMERS_SIZES = ("num_training_steps", "num_warmup_steps", "num_decay_steps", "num_stable_steps")


def _native_cadence(
    short_name: str, kind: str, returns: str, parameters: tuple[Parameter, ...]
) -> tuple[Cadence, tuple[SizeParameter, ...]]:
    if kind == "class" and short_name in TORCH_SCHEDULERS:
        facts = TORCH_SCHEDULERS[short_name]
        return facts.cadence, facts.sizes
    sizes = tuple(SizeParameter(p.name, 0) for p in parameters if p.name in _TRANSFORMERS_SIZES)
    if kind == "factory" and returns == "LambdaLR" and sizes:
        # Warmup and decay lengths counted in optimizer steps (a constant schedule has none).
        return Cadence.PER_ITERATION, sizes
    return Cadence.EITHER, ()


# `transformers.get_scheduler`'s names (and `SchedulerType` members) for the one class it builds
# that is not a per-iteration LambdaLR.
_PLATEAU_NAMES = frozenset({"reduce_lr_on_plateau", "reduce_on_plateau"})


def named_by_factory(spec: SchedulerSpec, name: str | None) -> SchedulerSpec:
    """What `get_scheduler(name, ...)` builds, given its name (a string or `SchedulerType` member):
    ReduceLROnPlateau for its plateau names, the factory's LambdaLR otherwise."""
    if spec.short_name != "get_scheduler" or name is None or name.lower() not in _PLATEAU_NAMES:
        return spec
    return replace(spec, returns="ReduceLROnPlateau", native_cadence=Cadence.EITHER, size_parameters=())


def _load_json(name: str) -> Any:
    return json.loads(resources.files("lrlint.data").joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def scheduler_specs() -> dict[str, SchedulerSpec]:
    specs = {}
    for qualified_name, entry in _load_json("signatures.json")["schedulers"].items():
        short_name = qualified_name.rsplit(".", 1)[1]
        parameters = tuple(Parameter(p["name"], p["kind"], "default" in p, p.get("default")) for p in entry["params"])
        cadence, sizes = _native_cadence(short_name, entry["kind"], entry["returns"], parameters)
        names = tuple(entry.get("names", ()))
        specs[short_name] = SchedulerSpec(
            qualified_name, short_name, entry["kind"], entry["returns"], parameters, cadence, sizes, names
        )
    return specs


@lru_cache(maxsize=1)
def _signatures_generated_from() -> dict[str, str]:
    """The versions of torch (and transformers) the shipped signatures were read from."""
    return dict(_load_json("signatures.json")["generated_from"])


def transformers_version_of_signatures() -> str:
    return _signatures_generated_from().get("transformers", "?")


def torch_version_of_signatures() -> str:
    return _signatures_generated_from()["torch"]


def version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def newest_torch() -> tuple[int, int]:
    return version_tuple(torch_version_of_signatures())


@dataclass(frozen=True)
class RemovedArgument:
    name: str
    deprecated: str
    removed: str
    advice: str
    # It was the positional parameter right after those that remain: `super().__init__(opt, -1, verbose)`.
    positional_after_remaining: bool
    never_in: frozenset[str]  # schedulers that never had it: passing it was always a TypeError


@lru_cache(maxsize=1)
def removed_arguments() -> dict[str, RemovedArgument]:
    entries = _load_json("removed_arguments.json")["arguments"]
    return {
        name: RemovedArgument(
            name,
            e["deprecated"],
            e["removed"],
            e["advice"],
            e.get("positional_after_remaining", False),
            frozenset(e.get("never_in", ())),
        )
        for name, e in entries.items()
    }


def removed_argument(spec: SchedulerSpec, name: str) -> RemovedArgument | None:
    """The deprecation record of `name` when the torch scheduler `spec` no longer accepts it."""
    entry = removed_arguments().get(name)
    if entry is None or spec.parameter(name) is not None or not _had(spec, entry):
        return None
    return entry


def removed_positional(spec: SchedulerSpec) -> RemovedArgument | None:
    """The removed parameter that followed the positional parameters `spec` still has, if any."""
    return next(
        (e for e in removed_arguments().values() if e.positional_after_remaining and _had(spec, e)),
        None,
    )


def _had(spec: SchedulerSpec, entry: RemovedArgument) -> bool:
    return spec.qualified_name.startswith(TORCH_SCHEDULER_PREFIX) and spec.short_name not in entry.never_in


def base_class_spec(qualified_name: str | None) -> SchedulerSpec | None:
    """The signature `super().__init__(...)` calls in a subclass of this torch scheduler class
    (a concrete scheduler, or the LRScheduler base)."""
    if not qualified_name or not qualified_name.startswith(TORCH_SCHEDULER_PREFIX):
        return None
    short = qualified_name[len(TORCH_SCHEDULER_PREFIX) :]
    return scheduler_specs().get("LRScheduler" if short == "_LRScheduler" else short)


def scheduler_spec(qualified_name: str | None) -> SchedulerSpec | None:
    """The scheduler (class or factory) a qualified name refers to, if any."""
    if not qualified_name:
        return None
    specs = scheduler_specs()
    if qualified_name.startswith(TORCH_SCHEDULER_PREFIX):
        spec = specs.get(qualified_name[len(TORCH_SCHEDULER_PREFIX) :])
        return spec if spec is not None and spec.kind == "class" else None
    for prefix in TRANSFORMERS_PREFIXES:
        if qualified_name.startswith(prefix):
            spec = specs.get(qualified_name[len(prefix) :])
            return spec if spec is not None and spec.kind == "factory" else None
    return None


_OPTIMIZER_MODULES = ("torch.optim.", "bitsandbytes.optim.", "apex.optimizers.", "torch_optimizer.")
_OPTIMIZER_NAMES = frozenset(
    {
        "transformers.AdamW",
        "transformers.Adafactor",
        "transformers.optimization.AdamW",
        "transformers.optimization.Adafactor",
        "timm.optim.create_optimizer_v2",
        "timm.optim.create_optimizer",
        "torch.distributed.optim.ZeroRedundancyOptimizer",
    }
)
_NOT_OPTIMIZERS = frozenset({"Optimizer"})


def is_optimizer_constructor(qualified_name: str | None) -> bool:
    """True when calling this qualified name returns an optimizer (torch.optim.Adam, ...)."""
    if not qualified_name:
        return False
    if qualified_name in _OPTIMIZER_NAMES:
        return True
    if not qualified_name.startswith(_OPTIMIZER_MODULES) or "lr_scheduler" in qualified_name:
        return False
    last = qualified_name.rsplit(".", 1)[1]
    return last[:1].isupper() and last not in _NOT_OPTIMIZERS and not last.endswith(("LR", "Scheduler"))


def is_scheduler_base_class(qualified_name: str | None) -> bool:
    """torch's scheduler base classes, which user code subclasses."""
    return qualified_name in {
        "torch.optim.lr_scheduler.LRScheduler",
        "torch.optim.lr_scheduler._LRScheduler",
    }
