"""What PyTorch Lightning does with a LightningModule, as far as its schedulers go.

Lightning (`lightning.pytorch`, `pytorch_lightning`) reads the optimizers and schedulers that
`configure_optimizers` returns, in one of its documented shapes, and under automatic
optimisation steps each scheduler itself: after every optimizer step with `"interval": "step"`,
after every training epoch otherwise. Under manual optimisation
(`self.automatic_optimization = False`) it steps none: the module's hooks do, through
`self.lr_schedulers()`. Lightning also calls the module's hooks at a known cadence
(`training_step` every batch, `on_train_epoch_end` every epoch). All of it is recognised by
qualified name (the module's bases), never by method names alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import libcst as cst

from lrlint.model.resolve import Context, Objects, Resolver, Role, TrackedObject
from lrlint.model.syntax import ELEMENT, AccessPath, ClassInfo, FunctionInfo, Guard, call_events, called_name
from lrlint.model.trace import EntryCall, FrameworkStep, StepCadence
from lrlint.model.values import ValueEvaluator, is_known

MODULE_BASES = frozenset(
    {
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "lightning.pytorch.core.module.LightningModule",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
        "pytorch_lightning.core.lightning.LightningModule",
    }
)

CALLBACK_BASES = frozenset(
    {
        "lightning.Callback",
        "lightning.pytorch.Callback",
        "lightning.pytorch.callbacks.Callback",
        "lightning.pytorch.callbacks.callback.Callback",
        "pytorch_lightning.Callback",
        "pytorch_lightning.callbacks.Callback",
        "pytorch_lightning.callbacks.base.Callback",
        "pytorch_lightning.callbacks.callback.Callback",
    }
)
# What a Callback's hooks read off their `trainer` argument: the modules' optimizers and schedulers.
_TRAINER_HOLDS = {"optimizers": Role.OPTIMIZER, "lr_scheduler_configs": Role.SCHEDULER, "lr_schedulers": Role.SCHEDULER}

# Hooks Lightning calls once per training batch, and once per training epoch.
PER_BATCH_HOOKS = frozenset(
    {
        "training_step",
        "on_train_batch_start",
        "on_train_batch_end",
        "on_before_backward",
        "on_after_backward",
        "on_before_optimizer_step",
        "optimizer_step",
        "on_before_zero_grad",
        "optimizer_zero_grad",
    }
)
PER_EPOCH_HOOKS = frozenset(
    {
        "on_train_epoch_start",
        "on_train_epoch_end",
        "training_epoch_end",
        "on_validation_epoch_end",
        "validation_epoch_end",
        "on_epoch_end",
    }
)
# The hook Lightning calls instead of `scheduler.step()` when the module overrides it.
SCHEDULER_STEP_HOOK = "lr_scheduler_step"
_MAX_DEPTH = 6  # helper calls and names followed from `configure_optimizers` to the returned values


@dataclass(frozen=True)
class SchedulerConfig:
    """One scheduler `configure_optimizers` returns, with what Lightning is told about it."""

    scheduler: cst.BaseExpression  # the expression that gives the scheduler
    context: Context  # where it is evaluated
    interval: str | None  # "step", "epoch", or None when it cannot be read
    interval_node: cst.BaseExpression | None  # the value of "interval", if the config gives one
    monitor: cst.BaseExpression | None  # the metric's name: in the scheduler dict, or beside a bare scheduler
    ignored: bool = False  # under "scheduler" in the optimizer dict: Lightning warns and never steps it
    frequency: int | None = 1  # "frequency": stepped every that many intervals; None when it cannot be read
    # A "monitor" beside a scheduler dict: Lightning reads it only for a bare scheduler.
    ignored_monitor: cst.BaseExpression | None = None
    # The list it is returned in with other schedulers (`[optimizer], [warmup, cosine]`), and its
    # place there: Lightning steps all of that list's schedulers, not one of them.
    together: tuple[cst.CSTNode, int] | None = None

    def objects(self, resolver: Resolver, path: AccessPath = ()) -> Objects:
        found = resolver.objects(self.scheduler, self.context, path)
        return found if found or path else _of_unknown_class(resolver, self.scheduler, self.context)


def _of_unknown_class(resolver: Resolver, expr: cst.BaseExpression, context: Context) -> Objects:
    """What Lightning finds in a scheduler's place is a scheduler: built by a call lrlint cannot read
    (`LinearWarmupCosineAnnealingLR(optimizer, ...)` of an unseen module, `instantiate(cfg)(optimizer=opt)`)
    that is handed the optimizer, it is one of a class lrlint does not know."""
    values = resolver.bound_values(expr, context) if isinstance(expr, cst.Name) else [(expr, context)]
    found: set[TrackedObject] = set()
    for value, where in values:
        if not isinstance(value, cst.Call):
            continue
        optimizers = frozenset().union(
            *(resolver.objects_of_role(arg.value, where, Role.OPTIMIZER) for arg in value.args if not arg.star)
        )
        if optimizers:
            found.add(resolver.framework_scheduler(value, optimizers, called_name(value.func) or "scheduler", where))
    return frozenset(found)


@dataclass(frozen=True)
class Configuration:
    """What `configure_optimizers` returns, resolved."""

    optimizers: tuple[tuple[cst.BaseExpression, Context], ...]
    schedulers: tuple[SchedulerConfig, ...]


def is_lightning_module(resolver: Resolver, class_info: ClassInfo) -> bool:
    return not MODULE_BASES.isdisjoint(resolver.external_bases(class_info))


def is_callback(resolver: Resolver, class_info: ClassInfo) -> bool:
    return not CALLBACK_BASES.isdisjoint(resolver.external_bases(class_info))


def trainer_attribute(
    resolver: Resolver, attribute: cst.Attribute, context: Context, path: AccessPath
) -> Objects | None:
    """`trainer.optimizers`, `trainer.lr_scheduler_configs` in a hook of a Lightning Callback: what the
    LightningModules of the file configure (the callback is written for them); None for anything else."""
    role = _TRAINER_HOLDS.get(attribute.attr.value)
    function = context.function
    if role is None or function.class_info is None or not isinstance(attribute.value, cst.Name):
        return None
    params = function.positional_params(bound_method=True)
    if not params or params[0].name.value != attribute.value.value or not is_callback(resolver, function.class_info):
        return None
    return _configured_in_the_file(resolver, role, path)


def held_by_the_trainer(resolver: Resolver, function: FunctionInfo) -> Objects:
    """Everything a Callback's hook can reach through its `trainer`: the file's modules' optimizers
    and schedulers (empty for any other function)."""
    if function.class_info is None or not is_callback(resolver, function.class_info):
        return frozenset()
    return _configured_in_the_file(resolver, Role.OPTIMIZER, ()) | _configured_in_the_file(resolver, Role.SCHEDULER, ())


def _configured_in_the_file(resolver: Resolver, role: Role, path: AccessPath) -> Objects:
    modules = [c for c in resolver.index.classes.values() if is_lightning_module(resolver, c)]
    return frozenset().union(*(configured_objects(resolver, module, role, path, True) for module in modules))


def automatic_optimization(resolver: Resolver, class_info: ClassInfo) -> bool:
    """False when the module (or a class related to it) sets `self.automatic_optimization = False`,
    or defines an `automatic_optimization` property that returns False."""
    for related in resolver.related_classes(class_info):
        values = related.attributes.get("automatic_optimization", [])
        if any(_is_false(value.value) for value in values):
            return False
        prop = related.methods.get("automatic_optimization")
        if prop is not None and any(_is_false(returned) for returned in prop.returns):
            return False
    return True


def only_under_manual_optimisation(guards: tuple[Guard, ...]) -> bool:
    """Code under `if not self.automatic_optimization:` (or in the `else` of its positive test): a
    module whose mode is configurable steps by hand only when Lightning does not."""
    for guard in guards:
        test = guard.test
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, negated = test.expression, not guard.negated
        else:
            negated = guard.negated
        if negated and isinstance(test, cst.Attribute) and test.attr.value == "automatic_optimization":
            return True
    return False


def _is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def entry_call(resolver: Resolver, function: FunctionInfo) -> EntryCall | None:
    """How Lightning calls `function`, a method of a LightningModule: at what cadence, with what."""
    class_info = function.class_info
    if class_info is None or not is_lightning_module(resolver, class_info):
        return None
    name = function.name
    params = [p.name.value for p in function.positional_params(bound_method=True)]
    if name in PER_BATCH_HOOKS:  # optimizer_step(self, epoch, batch_idx, optimizer, ...) gets the optimizer
        bindings = _bound("optimizer" if "optimizer" in params else None, resolver, class_info, Role.OPTIMIZER)
        return EntryCall(StepCadence.PER_BATCH, bindings, description=f"Lightning calls {name} every batch")
    if name in PER_EPOCH_HOOKS:
        return EntryCall(StepCadence.PER_EPOCH, description=f"Lightning calls {name} every epoch")
    if name == SCHEDULER_STEP_HOOK:  # lr_scheduler_step(self, scheduler, metric): each configured scheduler
        bindings = _bound(params[0] if params else None, resolver, class_info, Role.SCHEDULER)
        return EntryCall(None, bindings, steps_for_framework=True, description=f"Lightning calls {name}")
    return None


def _bound(param: str | None, resolver: Resolver, class_info: ClassInfo, role: Role) -> tuple[tuple[str, Objects], ...]:
    objects = configured_objects(resolver, class_info, role, ()) if param is not None else frozenset()
    return ((param, objects),) if param is not None and objects else ()


def configuration(resolver: Resolver, class_info: ClassInfo) -> Configuration:
    """The optimizers and schedulers the module's `configure_optimizers` returns (empty if unknown)."""

    def derive() -> Configuration:
        method = resolver.method(class_info, "configure_optimizers")
        reader = _Reader(resolver)
        for returned in method.returns if method is not None else []:
            reader.optim_conf(returned, Context(method), 0)  # type: ignore[arg-type]
        return Configuration(tuple(reader.optimizers), tuple(reader.schedulers))

    return resolver.derived(("lightning configuration", class_info), derive)


@dataclass(frozen=True)
class LightningSetup:
    """A LightningModule of the file, as Lightning will run it."""

    class_info: ClassInfo
    automatic: bool  # automatic optimisation: Lightning steps what configure_optimizers returns
    configuration: Configuration
    asks_for_schedulers: bool  # some method calls `self.lr_schedulers()` (manual stepping)


def setups(resolver: Resolver, classes: list[ClassInfo]) -> list[LightningSetup]:
    return [
        LightningSetup(
            class_info,
            automatic_optimization(resolver, class_info),
            configuration(resolver, class_info),
            _asks_for_schedulers(resolver, class_info),
        )
        for class_info in classes
        if is_lightning_module(resolver, class_info)
    ]


def _asks_for_schedulers(resolver: Resolver, class_info: ClassInfo) -> bool:
    return any(
        isinstance(event.call.func, cst.Attribute) and event.call.func.attr.value == "lr_schedulers"
        for related in resolver.related_classes(class_info)
        for method in related.methods.values()
        for event in call_events(method.events)
    )


def framework_steps(resolver: Resolver, modules: list[LightningSetup]) -> Iterator[FrameworkStep]:
    """The schedulers Lightning steps itself: those of modules under automatic optimisation."""
    for setup in modules:
        if not setup.automatic:
            continue
        for config in setup.configuration.schedulers:
            schedulers = frozenset(o for o in config.objects(resolver) if o.role is Role.SCHEDULER)
            if config.ignored or config.interval is None or not schedulers:
                continue
            per_batch = config.interval == "step"
            yield FrameworkStep(
                schedulers,
                StepCadence.PER_BATCH if per_batch else StepCadence.PER_EPOCH,
                config.interval_node or config.scheduler,
                _how(config),
                "Lightning",
                'return it with "interval": "epoch", or size it in optimizer steps'
                if per_batch
                else 'return it with "interval": "step"',
                "step it only by hand under automatic_optimization = False",
                every=config.frequency,
            )


def _how(config: SchedulerConfig) -> str:
    if config.frequency != 1:
        every = f"{config.frequency} " if config.frequency is not None else "a number of "
        unit = "optimizer steps" if config.interval == "step" else "epochs"
        return f'Lightning steps this scheduler every {every}{unit} ("interval": "{config.interval}", "frequency")'
    if config.interval == "step":
        return 'Lightning steps this scheduler after every optimizer step ("interval": "step")'
    if config.interval_node is not None:
        return 'Lightning steps this scheduler once per epoch ("interval": "epoch")'
    return 'Lightning steps this scheduler once per epoch ("interval" is "epoch" by default)'


def configured_objects(
    resolver: Resolver, class_info: ClassInfo, role: Role, path: AccessPath, always_a_list: bool = False
) -> Objects:
    """What `self.optimizers()` / `self.lr_schedulers()` return: all of them, or the one at `path`
    (a lone one is returned bare, unless `always_a_list`, as `trainer.optimizers` gives it)."""
    config = configuration(resolver, class_info)
    sources: list[Callable[[AccessPath], Objects]] = (
        [partial(resolver.objects, expr, context) for expr, context in config.optimizers]
        if role is Role.OPTIMIZER
        else [partial(scheduler.objects, resolver) for scheduler in config.schedulers]
    )
    if path:
        index = path[0]
        if index != ELEMENT:  # `for scheduler in self.lr_schedulers():` takes each of them
            chosen = sources[index] if isinstance(index, int) and 0 <= index < len(sources) else None
            sources = [chosen] if chosen is not None and (len(sources) > 1 or always_a_list) else []
        path = path[1:]
    return frozenset(o for source in sources for o in source(path) if o.role is role)


class _Reader:
    """Walks the returned value through names and helper calls, in Lightning's accepted shapes."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.optimizers: list[tuple[cst.BaseExpression, Context]] = []
        self.schedulers: list[SchedulerConfig] = []
        # `config = {"optimizer": opt}` then `config["lr_scheduler"] = scheduler`: by the dict's node.
        self._stored: dict[cst.BaseExpression, dict[str, cst.BaseExpression]] = {}

    def _items(self, node: cst.BaseExpression) -> dict[str, cst.BaseExpression] | None:
        items = _dict_items(node)
        return {**items, **self._stored.get(node, {})} if items is not None else None

    def optim_conf(self, expr: cst.BaseExpression, context: Context, depth: int) -> None:
        for value, where in self._values(expr, context, depth):
            items = self._items(value)
            if items is not None:
                self._optimizer_dict(items, where, depth)
            elif isinstance(value, (cst.List, cst.Tuple)):
                self._sequence(value, where, depth)
            else:
                self.optimizers.append((value, where))  # a bare optimizer

    def _optimizer_dict(self, items: dict[str, cst.BaseExpression], context: Context, depth: int) -> None:
        if "optimizer" in items:
            self.optimizers.append((items["optimizer"], context))
        monitor = items.get("monitor")
        if "lr_scheduler" in items:
            self._scheduler_conf(items["lr_scheduler"], context, monitor, depth)
        elif "scheduler" in items:
            self.schedulers.append(SchedulerConfig(items["scheduler"], context, None, None, monitor, ignored=True))

    def _sequence(self, value: cst.List | cst.Tuple, context: Context, depth: int) -> None:
        elements = [e.value for e in value.elements if isinstance(e, cst.Element)]
        optimizer_lists = list(self._values(elements[0], context, depth)) if len(elements) == 2 else []
        if optimizer_lists and all(isinstance(listed, (cst.List, cst.Tuple)) for listed, _ in optimizer_lists):
            for optimizers, where in optimizer_lists:  # [optimizers], schedulers
                assert isinstance(optimizers, (cst.List, cst.Tuple))
                self.optimizers.extend((e.value, where) for e in optimizers.elements if isinstance(e, cst.Element))
            for scheduler, where in self._values(elements[1], context, depth):
                if not isinstance(scheduler, (cst.List, cst.Tuple)):
                    self._scheduler_conf(scheduler, where, None, depth)
                    continue
                listed = [e.value for e in scheduler.elements if isinstance(e, cst.Element)]
                for place, item in enumerate(listed):
                    self._scheduler_conf(item, where, None, depth, (scheduler, place) if len(listed) > 1 else None)
            return
        for element in elements:  # optimizers, or one dict per optimizer
            self.optim_conf(element, context, depth + 1)

    def _scheduler_conf(
        self,
        expr: cst.BaseExpression,
        context: Context,
        monitor: cst.BaseExpression | None,
        depth: int,
        together: tuple[cst.CSTNode, int] | None = None,
    ) -> None:
        for value, where in self._values(expr, context, depth):
            items = self._items(value)
            if items is None:  # a bare scheduler, every default applies: named where the code returns it
                bare = SchedulerConfig(expr, context, "epoch", None, monitor, together=together)
                if bare not in self.schedulers:  # one per name, however many values reach it
                    self.schedulers.append(bare)
            elif "scheduler" in items:
                interval = items.get("interval")
                read = _interval(self.resolver, interval) if interval is not None else "epoch"
                given = items.get("monitor")
                frequency = _frequency(self.resolver, items["frequency"]) if "frequency" in items else 1
                config = SchedulerConfig(
                    items["scheduler"],
                    where,
                    read,
                    interval,
                    given,
                    frequency=frequency,
                    ignored_monitor=monitor if given is None else None,
                    together=together,
                )
                self.schedulers.append(config)

    def _values(
        self, expr: cst.BaseExpression, context: Context, depth: int
    ) -> Iterator[tuple[cst.BaseExpression, Context]]:
        """The expression, or what a name is bound to, or what a called helper of the project returns."""
        if depth > _MAX_DEPTH:
            return
        if isinstance(expr, cst.Name) and expr.value not in ("None", "True", "False"):
            bound = self.resolver.bound_values(expr, context)
            for value, where in bound:
                self._stored[value] = self.resolver.stored_items(expr, where.function)
                yield from self._values(value, where, depth + 1)
            if bound:
                return
        if isinstance(expr, cst.Call) and _dict_items(expr) is None:
            callee = self.resolver.callee(expr, context)
            if callee is not None:
                for returned in callee.function.returns:
                    yield from self._values(returned, callee.context, depth + 1)
                return
        yield expr, context


def _dict_items(node: cst.BaseExpression) -> dict[str, cst.BaseExpression] | None:
    """`{"key": value}` or `dict(key=value)` with string keys; None for anything else."""
    if isinstance(node, cst.Dict):
        items = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.SimpleString):
                return None  # `**other` or a computed key: the keys are not all known
            items[str(element.key.evaluated_value)] = element.value
        return items
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict":
        if any(arg.keyword is None for arg in node.args):
            return None
        return {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
    return None


def _interval(resolver: Resolver, node: cst.BaseExpression) -> str | None:
    value = ValueEvaluator(resolver.index, resolver.metadata).value(node)
    return value if is_known(value) and value in ("step", "epoch") else None


def _frequency(resolver: Resolver, node: cst.BaseExpression) -> int | None:
    value = ValueEvaluator(resolver.index, resolver.metadata).value(node)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None
