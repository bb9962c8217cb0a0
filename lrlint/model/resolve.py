"""What an expression refers to: the optimizers, schedulers and in-file class instances it can be.

Resolution is demand-driven and flow-insensitive: a name stands for every value assigned to it
in its scope (`if cfg.x: s = StepLR(...) else: s = OneCycleLR(...)` gives both). Function
parameters take the objects of the arguments at the call being analysed (a `Context`); a
parameter with no known argument is unknown, and unknown objects are never reported on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar

import libcst as cst

from lrlint.catalog import (
    SchedulerSpec,
    is_optimizer_constructor,
    is_scheduler_base_class,
    named_by_factory,
    scheduler_spec,
)
from lrlint.model.metadata import Metadata
from lrlint.model.scopes import Binding
from lrlint.model.syntax import (
    ELEMENT,
    VALUE,
    AccessPath,
    ClassInfo,
    FunctionInfo,
    NameValue,
    SyntaxIndex,
    call_argument,
    call_events,
    called_name,
    is_super_call,
    positional_values,
    string_value,
    subscript_index,
)
from lrlint.scheduler_facts import TORCH_SCHEDULERS, UNKNOWN_CLASS, SchedulerFacts
from lrlint.signature import BoundArguments, bind_arguments

T = TypeVar("T")
MAX_CALL_DEPTH = 8
# Parameters named as a scheduler or an optimizer: `scheduler`, `lr_scheduler`, `warmup_scheduler`, `sched`;
# `optimizer`, `optim`, `d_optimizer` (not `scheduler_name`, `optimizer_idx`, nor `opt`, often options).
_SCHEDULER_NAME = re.compile(r"^(lr_)?sched(uler)?$|^\w+_(lr_)?sched(uler)?$")
_OPTIMIZER_NAME = re.compile(r"^optim(izer)?$|^\w+_optim(izer)?$")
_OPTIMIZER_BASES = frozenset({"torch.optim.Optimizer", "torch.optim.optimizer.Optimizer"})
# Resolution follows chains of assignments (`h = f(h)` a hundred times in generated code);
# past this many nested look-ups the object is treated as unknown, which rules never report on.
MAX_RESOLUTION_DEPTH = 150
# How deep inside containers an object is looked for (`self.schedulers["g"]`, `pairs[0][1]`). Data code
# indexes its own results (`x = x[0]` in a loop): each look-up would go one level deeper.
MAX_PATH_LENGTH = 3
DEEPSPEED_INITIALIZE = "deepspeed.initialize"  # its results: lrlint/model/deepspeed.py
# Calls that hand their arguments back unchanged, positionally (Accelerate, apex.amp, Fabric).
_PASSTHROUGH_METHODS = frozenset({"prepare", "initialize", "setup", "prepare_optimizer", "prepare_scheduler"})


class Role(Enum):
    OPTIMIZER = "optimizer"
    SCHEDULER = "scheduler"
    INSTANCE = "instance"  # an instance of a class defined in the file


class Evidence(Enum):
    """How lrlint knows what an object is."""

    CONSTRUCTED = "constructed"  # its construction is in sight: StepLR(...), torch.optim.SGD(...)
    ANNOTATED = "annotated"  # a parameter declared as a torch class: `scheduler: LRScheduler`
    FACTORY = "factory"  # returned by a call lrlint cannot see, named for schedulers, given the optimizer
    NAMED = "named"  # a parameter named as one (`scheduler`, `lr_scheduler`, `optimizer`), nothing more


@dataclass(frozen=True, eq=False)
class TrackedObject:
    role: Role
    call: cst.CSTNode  # where it is constructed; for objects not built in sight, the parameter or factory call
    name: str  # StepLR, SGD, the in-file class name, or the parameter's name
    function: FunctionInfo  # where the construction is written
    spec: SchedulerSpec | None = None  # torch schedulers and transformers factories
    arguments: BoundArguments | None = None
    optimizers: frozenset[TrackedObject] = frozenset()
    children: tuple[TrackedObject, ...] = ()  # of SequentialLR / ChainedScheduler
    class_info: ClassInfo | None = None  # instances and in-file scheduler subclasses
    evidence: Evidence = Evidence.CONSTRUCTED
    torch_class: bool = True  # a torch class (or a subclass of one); False when the class is unknown

    @property
    def facts(self) -> SchedulerFacts:
        """What torch does with its class: the spec's, else the class named (a declared type)."""
        return self.spec.facts if self.spec is not None else TORCH_SCHEDULERS.get(self.name, UNKNOWN_CLASS)

    def overrides(self, method: str) -> bool:
        """A class of the project (a scheduler subclass) defines `method` itself."""
        return self.class_info is not None and method in self.class_info.methods

    @property
    def named_at_run_time(self) -> bool:
        """`get_scheduler(args.lr_scheduler_type, ...)`: the class is picked by a name lrlint cannot read,
        so it may be ReduceLROnPlateau rather than the factories' LambdaLR."""
        if self.spec is None or self.spec.short_name != "get_scheduler" or self.arguments is None:
            return False
        return _literal_name(self.arguments.expression("name")) is None


Objects = frozenset[TrackedObject]
NOTHING: Objects = frozenset()


class Context(NamedTuple):
    """A function being analysed, with what its parameters are bound to at this call (a tuple:
    built and hashed for every resolution, as a memo key)."""

    function: FunctionInfo
    bindings: tuple[tuple[str, Objects], ...] = ()
    depth: int = 0

    def bound(self, name: str) -> Objects | None:
        return next((objects for param, objects in self.bindings if param == name), None)


@dataclass(frozen=True)
class Callee:
    function: FunctionInfo
    context: Context


class ProjectLookup(Protocol):
    """The other modules of the linted project, as far as resolution needs them."""

    def resolver_of(self, info: FunctionInfo | ClassInfo) -> Resolver | None: ...

    def lookup(
        self, importer: Resolver, qualified_name: str, through_reexports: bool = False
    ) -> FunctionInfo | ClassInfo | None: ...


@dataclass
class Resolver:
    index: SyntaxIndex
    metadata: Metadata
    path: Path | None = None  # the module's file, to resolve its imports of the project's modules
    project: ProjectLookup | None = None
    _memo: dict[tuple[int, Context, AccessPath], Objects] = field(default_factory=dict)
    _in_progress: set[tuple[int, Context, AccessPath]] = field(default_factory=set)
    _called: dict[tuple[int, Context], tuple[FunctionInfo, bool] | None] = field(default_factory=dict)
    _constructed: dict[tuple[int, Objects], TrackedObject] = field(default_factory=dict)
    _instantiations: dict[ClassInfo, list[tuple[cst.Call, FunctionInfo]]] = field(default_factory=dict)
    _external_bases: dict[ClassInfo, frozenset[str]] = field(default_factory=dict)
    _mro: dict[tuple[ClassInfo, bool], list[ClassInfo]] = field(default_factory=dict)
    facts: dict[object, object] = field(default_factory=dict)  # derived once per module (frameworks' views)

    # -- public ------------------------------------------------------------------------------

    def objects(self, expr: cst.BaseExpression, context: Context, path: AccessPath = ()) -> Objects:
        owner = self._owner(context.function)
        if owner is not self:
            return owner.objects(expr, context, path)
        key = (id(expr), context, path)
        if key in self._memo:
            return self._memo[key]
        if key in self._in_progress or context.depth > MAX_CALL_DEPTH or len(path) > MAX_PATH_LENGTH:
            return NOTHING
        if len(self._in_progress) > MAX_RESOLUTION_DEPTH:
            return NOTHING  # not memoised: a shallower look-up may still resolve it
        self._in_progress.add(key)
        try:
            result = self._objects(expr, context, path)
        finally:
            self._in_progress.discard(key)
        self._memo[key] = result
        return result

    def begin_file(self) -> None:
        """Another file's analysis starts: the functions calls name are looked up again, so that the
        modules those look-ups consult count among that file's dependencies."""
        self._called.clear()

    def derived(self, key: object, derive: Callable[[], T]) -> T:
        """What `derive` makes of this module, made once and kept (a framework's view of it)."""
        if key not in self.facts:
            self.facts[key] = derive()
        return self.facts[key]  # type: ignore[return-value]

    def callee(self, call: cst.Call, context: Context) -> Callee | None:
        """The function of this file (or of an imported project module) that the call runs."""
        owner = self._owner(context.function)
        if owner is not self:
            return owner.callee(call, context)
        target = self._function_called(call.func, context) or self._handed_through_package(call, context)
        if target is None:
            return None
        function, bound_method = target
        return Callee(function, self._bind_call(call, function, bound_method, context))

    def called_function(self, call: cst.Call, context: Context) -> FunctionInfo | None:
        """The function the call runs, without resolving its arguments."""
        owner = self._owner(context.function)
        if owner is not self:
            return owner.called_function(call, context)
        target = self._function_called(call.func, context)
        return target[0] if target is not None else None

    def function_named(self, expr: cst.BaseExpression, context: Context) -> tuple[FunctionInfo, bool] | None:
        """The function or method `expr` names (`lr_lambda`, `self.warmup`), and whether it is bound."""
        owner = self._owner(context.function)
        if owner is not self:
            return owner.function_named(expr, context)
        return self._function_called(expr, context)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        return self.metadata.qualified_names(node)

    def has_project_base(self, class_info: ClassInfo) -> bool:
        """A base class of `class_info` is defined in another module of the project."""
        return any(self._owner(base) is not self for base in self._base_classes(class_info, include_own=False))

    def constructs_scheduler(self, call: cst.Call, function: FunctionInfo) -> bool:
        """The call builds a torch scheduler (or transformers schedule, or an in-file subclass)."""
        if any(scheduler_spec(name) for name in self.qualified_names(call.func)):
            return True
        local = isinstance(call.func, cst.Name) and any(
            isinstance(a.node, cst.ClassDef) for a in self._assignments(call.func)
        )  # a class of this file: deciding this must not load other modules
        class_info = self._class_called(call.func, Context(function)) if local else None
        return class_info is not None and self._is_scheduler_subclass(class_info)

    def constructs_project_scheduler(self, call: cst.Call) -> bool:
        """The call builds an instance of a scheduler class imported from another module of the project
        (`HalvingStepLR(optimizer, 10)` with `class HalvingStepLR(StepLR)` in `schedulers.py`)."""
        func = call.func
        if not isinstance(func, cst.Name) or not func.value[:1].isupper():
            return False  # a class by the naming convention: only those are worth loading a module for
        imported = self._imported(func)
        return isinstance(imported, ClassInfo) and self._is_scheduler_subclass(imported)

    def constructed(self) -> list[TrackedObject]:
        return list(self._constructed.values())

    # -- resolution ----------------------------------------------------------------------------

    def _objects(self, expr: cst.BaseExpression, context: Context, path: AccessPath) -> Objects:
        if path and path[0] in (ELEMENT, VALUE) and isinstance(expr, _CONTAINERS):
            held = _contained(expr, path[0])
            return frozenset().union(*(self.objects(element, context, path[1:]) for element in held))
        if isinstance(expr, cst.Subscript):
            key = _literal_key(expr)
            return self.objects(expr.value, context, (key, *path)) if key is not None else NOTHING
        if isinstance(expr, cst.Dict) and path and isinstance(path[0], str):
            values = [
                e.value for e in expr.elements if isinstance(e, cst.DictElement) and string_value(e.key) == path[0]
            ]
            return self.objects(values[-1], context, path[1:]) if values else NOTHING
        if isinstance(expr, (cst.Tuple, cst.List)) and path:
            elements, index = expr.elements, path[0]
            if isinstance(index, int) and 0 <= index < len(elements) and isinstance(elements[index], cst.Element):
                return self.objects(elements[index].value, context, path[1:])
            return NOTHING
        if isinstance(expr, cst.Call):
            return self._call_objects(expr, context, path)
        if isinstance(expr, cst.Name):
            return self._name_objects(expr, context, path)
        if isinstance(expr, cst.Attribute):
            return self._attribute_objects(expr, context, path)
        if isinstance(expr, cst.IfExp):
            return self.objects(expr.body, context, path) | self.objects(expr.orelse, context, path)
        if isinstance(expr, cst.NamedExpr):
            return self.objects(expr.value, context, path)
        return NOTHING

    def _call_objects(self, call: cst.Call, context: Context, path: AccessPath) -> Objects:
        names = self.qualified_names(call.func)
        spec = next((s for s in map(scheduler_spec, names) if s is not None), None)
        if spec is not None:
            return frozenset({self._scheduler(call, spec, context)}) if not path else NOTHING
        if any(is_optimizer_constructor(name) for name in names):
            return frozenset({self._optimizer(call, context)}) if not path else NOTHING
        if path and DEEPSPEED_INITIALIZE in names:
            from lrlint.model import deepspeed  # its view of the call is built on this resolver

            return deepspeed.returned(self, call, context, path)
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in _PASSTHROUGH_METHODS:
            return self._passthrough(call, context, path)
        iterated = _iterated_through(call, path)
        if iterated is not None:
            container, element = iterated
            return self.objects(container, context, element)
        configured = self._configured(call, context, path)
        if configured is not None:
            return configured
        target = self._function_called(call.func, context)
        through = self._through_package(call, context) if target is None else None  # looked up once
        if isinstance(through, FunctionInfo):
            target = through, False
        if target is not None:
            function, bound_method = target
            callee = self._bind_call(call, function, bound_method, context)
            return frozenset().union(*(self.objects(value, callee, path) for value in function.returns))
        class_info = self._class_called(call.func, context) or (through if isinstance(through, ClassInfo) else None)
        if class_info is not None and not path:
            return frozenset({self._instance(call, class_info, context)})
        return NOTHING if path else self._factory_result(call, context)

    def _factory_result(self, call: cst.Call, context: Context) -> Objects:
        """`build_lr_scheduler(cfg, optimizer)`: a call lrlint cannot see into (or whose class it cannot
        name), named for schedulers, that receives a tracked optimizer (and no scheduler) returns a
        scheduler of that optimizer, of a class lrlint does not know; one of torch's when the code
        picks it from torch's module by name (`getattr(torch.optim.lr_scheduler, cfg.name)`)."""
        torch_class = self._picks_a_torch_scheduler(call.func, context)
        name = called_name(call.func) or ("getattr(lr_scheduler, ...)" if torch_class else "")
        if "sched" in context.function.name.lower() and self._returned(call, context.function):
            name = context.function.name  # `return SCHEDULERS[cfg.name](optimizer)` in `build_scheduler`
        if "sched" not in name.lower() and not torch_class:
            return NOTHING
        received = frozenset().union(*(self.objects(arg.value, context) for arg in call.args if not arg.star))
        optimizers = frozenset(o for o in received if o.role is Role.OPTIMIZER)
        if not optimizers or any(o.role is Role.SCHEDULER for o in received):
            return NOTHING
        return frozenset(
            {
                self._construct(
                    call, optimizers, Role.SCHEDULER, name, context, evidence=Evidence.FACTORY, torch_class=torch_class
                )
            }
        )

    def _returned(self, call: cst.Call, function: FunctionInfo) -> bool:
        """The function returns what the call returns: `return cls(...)`, or `scheduler = cls(...)` and
        `return scheduler`."""
        return any(
            value is call or (isinstance(value, cst.Name) and any(b.value is call for b in self._bound_values(value)))
            for value in function.returns
        )

    def _picks_a_torch_scheduler(self, func: cst.BaseExpression, context: Context) -> bool:
        """`getattr(torch.optim.lr_scheduler, cfg.name)`, or a name bound to it: one of torch's scheduler
        classes, chosen at run time."""
        if isinstance(func, cst.Name):
            return any(
                value.function is context.function and not value.path and self._is_getattr_of_schedulers(value.value)
                for value in self._bound_values(func)
            )
        return self._is_getattr_of_schedulers(func)

    def _bound_values(self, name: cst.Name) -> Iterator[NameValue]:
        """What the assignments that reach `name` assign (`x = value`, `a, x = pair`)."""
        for assignment in self._assignments(name):
            value = self.index.name_values.get(assignment.node) if isinstance(assignment.node, cst.Name) else None
            if value is not None:
                yield value

    def _is_getattr_of_schedulers(self, expr: cst.BaseExpression) -> bool:
        if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "getattr"):
            return False
        return bool(expr.args) and "torch.optim.lr_scheduler" in self.qualified_names(expr.args[0].value)

    def _configured(self, call: cst.Call, context: Context, path: AccessPath) -> Objects | None:
        """`self.lr_schedulers()` / `self.optimizers()` in a LightningModule: what configure_optimizers returns."""
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in ("lr_schedulers", "optimizers")):
            return None
        owner = self._self_class(func.value, context)
        from lrlint.model import lightning  # imported here: lightning's view is built on this resolver

        if owner is None or not lightning.is_lightning_module(self, owner):
            return None
        role = Role.SCHEDULER if func.attr.value == "lr_schedulers" else Role.OPTIMIZER
        return lightning.configured_objects(self, owner, role, path)

    def _passthrough(self, call: cst.Call, context: Context, path: AccessPath) -> Objects:
        positional = positional_values(call)
        if not path and len(positional) == 1:
            return self.objects(positional[0], context)
        if path[:1] == (ELEMENT,):
            return frozenset().union(*(self.objects(value, context, path[1:]) for value in positional))
        if path and isinstance(path[0], int) and 0 <= path[0] < len(positional):
            return self.objects(positional[path[0]], context, path[1:])
        return NOTHING

    def _name_objects(self, name: cst.Name, context: Context, path: AccessPath) -> Objects:
        found: Objects = NOTHING
        for assignment in self._assignments(name):
            node = assignment.node
            if isinstance(node, cst.Param):
                found |= self._param_objects(node, context, path)
                continue
            if not isinstance(node, cst.Name):
                continue
            value = self.index.name_values.get(node) or self.index.loop_targets.get(node)
            if value is None:
                continue
            where = context if value.function is context.function else Context(value.function, depth=context.depth)
            found |= self.objects(value.value, where, value.path + path)
            if path[:1] == (ELEMENT,):
                appended = self.index.appended.get((value.function, name.value), [])
                found |= frozenset().union(*(self.objects(item, where, path[1:]) for item in appended))
        return found

    def _param_objects(self, param: cst.Param, context: Context, path: AccessPath) -> Objects:
        owner = self.index.param_owner.get(param)
        if owner is None:
            return NOTHING
        name = param.name.value
        if owner is context.function:
            bound = context.bound(name)
            if bound is not None:
                return bound if not path else NOTHING
        if owner.name == "__init__" and owner.class_info is not None and not path:
            return self._constructor_argument(owner, name, context.depth) or self._declared(param, owner, context)
        return self._declared(param, owner, context) if not path else NOTHING

    def _declared(self, param: cst.Param, owner: FunctionInfo, context: Context) -> Objects:
        """A parameter with nothing bound to it, declared as a torch scheduler or optimizer
        (`scheduler: ReduceLROnPlateau`, or `assert isinstance(scheduler, LRScheduler)` in the
        function) or named as one (`lr_scheduler`, `optimizer`)."""
        name = param.name.value
        declared = param.annotation.annotation if param.annotation is not None else owner.asserted.get(name)
        if declared is not None:
            annotated = self.declared_type(declared, param, owner)
            if annotated:
                return annotated
        role = (
            Role.SCHEDULER if _SCHEDULER_NAME.match(name) else Role.OPTIMIZER if _OPTIMIZER_NAME.match(name) else None
        )
        if role is None:
            return NOTHING
        named = self._construct(param, NOTHING, role, name, Context(owner), evidence=Evidence.NAMED, torch_class=False)
        return frozenset({named})

    def declared_type(self, annotation: cst.BaseExpression, origin: cst.CSTNode, function: FunctionInfo) -> Objects:
        """The torch schedulers or optimizers a type (an annotation, an isinstance tuple) names: one
        object per class, a torch class whose construction lrlint does not see, placed at `origin`."""
        found = set()
        for node in _names_in_annotation(annotation):
            for qualified in self.qualified_names(node):
                spec = scheduler_spec(qualified)
                if spec is not None or is_scheduler_base_class(qualified):
                    role = Role.SCHEDULER
                elif qualified in _OPTIMIZER_BASES or is_optimizer_constructor(qualified):
                    role = Role.OPTIMIZER
                else:
                    continue
                short = qualified.rsplit(".", 1)[-1]
                declared = self._construct(
                    origin, NOTHING, role, short, Context(function), spec=spec, evidence=Evidence.ANNOTATED, key=node
                )
                found.add(declared)
        return frozenset(found)

    def _constructor_argument(self, init: FunctionInfo, name: str, depth: int) -> Objects:
        """What `__init__(..., name=...)` receives, over every instantiation in the file."""
        assert init.class_info is not None
        found: Objects = NOTHING
        for call, caller in self._class_instantiations(init.class_info):
            bound = self._bind_call(call, init, True, Context(caller, depth=depth))
            found |= bound.bound(name) or NOTHING
        return found

    def _attribute_objects(self, attribute: cst.Attribute, context: Context, path: AccessPath) -> Objects:
        owner = self._self_class(attribute.value, context)
        if owner is None:
            from lrlint.model import lightning  # imported here: lightning's view is built on this resolver

            held_by_trainer = lightning.trainer_attribute(self, attribute, context, path)
            if held_by_trainer is not None:
                return held_by_trainer
            held = self.objects(attribute.value, context)
            if attribute.attr.value == "optimizer" and not path:
                # `scheduler.optimizer`: the one it drives; `opt.optimizer` of a wrapped optimizer
                # (Lightning's LightningOptimizer, Accelerate's AcceleratedOptimizer): the optimizer itself.
                driven: Objects = frozenset().union(*(o.optimizers for o in held if o.role is Role.SCHEDULER))
                driven |= frozenset(o for o in held if o.role is Role.OPTIMIZER)
                if driven:
                    return driven
            if attribute.attr.value == "scheduler" and not path:
                # `config.scheduler` of Lightning's `trainer.lr_scheduler_configs[0]`, `.scheduler` of
                # Accelerate's AcceleratedScheduler: the scheduler itself.
                wrapped = frozenset(o for o in held if o.role is Role.SCHEDULER)
                if wrapped:
                    return wrapped
            instances = [o for o in held if o.role is Role.INSTANCE]
            classes = [o.class_info for o in instances if o.class_info is not None]
        else:
            classes = [owner]
            instances = list(context.bound(context.function.self_name or "") or ())
        found: Objects = NOTHING
        for class_info in classes:
            found |= self._assigned(class_info, attribute.attr.value, instances, context.depth, path)
        if found or path:
            return found
        for class_info in classes:  # nothing assigned lrlint can resolve: what the class declares it to be
            for related in self._related_classes(class_info):
                declared = related.annotations.get(attribute.attr.value)
                if declared is not None:
                    found |= self.declared_type(declared, declared, context.function)
        return found

    def kept_on_instance(self, context: Context) -> Objects:
        """Everything the instance whose method `context` runs keeps in its attributes (`self.<name>`),
        as its class and the classes related to it assign them."""
        function = context.function
        if function.class_info is None or function.self_name is None:
            return NOTHING
        instances = list(context.bound(function.self_name) or ())
        names = {name for related in self._related_classes(function.class_info) for name in related.attributes}
        return frozenset().union(
            *(self._assigned(function.class_info, name, instances, context.depth, ()) for name in names)
        )

    def _assigned(
        self, class_info: ClassInfo, name: str, instances: list[TrackedObject], depth: int, path: AccessPath
    ) -> Objects:
        """What `self.<name> = ...` in the class (or a class related to it) assigns."""
        found: Objects = NOTHING
        for related in self._related_classes(class_info):
            for value in related.attributes.get(name, []):
                for where in self._writing_contexts(value.function, instances, depth):
                    found |= self.objects(value.value, where, value.path + path)
            for value in related.elements.get(name, []) if path[:1] == (ELEMENT,) else ():
                for where in self._writing_contexts(value.function, instances, depth):
                    found |= self.objects(value.value, where, path[1:])
        return found

    def _writing_contexts(self, writer: FunctionInfo, instances: list[TrackedObject], depth: int) -> list[Context]:
        """Where `self.<name> = ...` in `writer` is evaluated: for the `__init__` that instances built in
        another module than their class run, with each construction's arguments (which
        `_constructor_argument`, reading the class's module, cannot see); else with nothing bound."""
        # `self` is bound too, so that `self.<name>` read in that `__init__` (`make(self.optimizer)`)
        # comes from the same construction.
        constructions = [
            self._owner(o.function)._bind_call(o.call, writer, True, Context(o.function, depth=depth), frozenset({o}))
            for o in self._built_elsewhere(instances)
            if isinstance(o.call, cst.Call) and o.class_info and self.method(o.class_info, "__init__") is writer
        ]
        return constructions or [Context(writer, depth=depth)]

    def _built_elsewhere(self, objects: Iterable[TrackedObject]) -> Objects:
        """Instances constructed (in sight) in another module than the one defining their class."""
        return frozenset(
            o
            for o in objects
            if o.role is Role.INSTANCE
            and o.class_info is not None
            and isinstance(o.call, cst.Call)
            and self._owner(o.function) is not self._owner(o.class_info)
        )

    # -- constructions -------------------------------------------------------------------------

    def _scheduler(self, call: cst.Call, spec: SchedulerSpec, context: Context) -> TrackedObject:
        arguments = bind_arguments(call, spec)
        spec = named_by_factory(spec, _literal_name(arguments.expression("name")))
        children = self._child_schedulers(arguments, context)
        optimizer_expr = arguments.expression("optimizer")
        optimizers = self.objects_of_role(optimizer_expr, context, Role.OPTIMIZER) if optimizer_expr else NOTHING
        if not optimizers:
            optimizers = frozenset().union(*(child.optimizers for child in children))
        return self._construct(
            call,
            optimizers,
            Role.SCHEDULER,
            spec.short_name,
            context,
            spec=spec,
            arguments=arguments,
            children=children,
        )

    def _child_schedulers(self, arguments: BoundArguments, context: Context) -> tuple[TrackedObject, ...]:
        listed = arguments.expression("schedulers")
        if not isinstance(listed, (cst.List, cst.Tuple)):
            return ()
        children: list[TrackedObject] = []
        for element in listed.elements:
            children.extend(self.objects_of_role(element.value, context, Role.SCHEDULER))
        return tuple(children)

    def _optimizer(self, call: cst.Call, context: Context) -> TrackedObject:
        names = sorted(self.qualified_names(call.func))
        return self._construct(call, NOTHING, Role.OPTIMIZER, names[0].rsplit(".", 1)[-1], context)

    def _instance(self, call: cst.Call, class_info: ClassInfo, context: Context) -> TrackedObject:
        if not self._is_scheduler_subclass(class_info):
            return self._construct(call, NOTHING, Role.INSTANCE, class_info.name, context, class_info=class_info)
        optimizer_expr = call_argument(call, "optimizer", 0)
        optimizers = self.objects_of_role(optimizer_expr, context, Role.OPTIMIZER) if optimizer_expr else NOTHING
        # A warmup wrapper's `after_scheduler=`: the wrapper's own step() steps it.
        wrapped = (self.objects_of_role(arg.value, context, Role.SCHEDULER) for arg in call.args if not arg.star)
        children = tuple(frozenset().union(*wrapped))
        return self._construct(
            call, optimizers, Role.SCHEDULER, class_info.name, context, class_info=class_info, children=children
        )

    def _construct(
        self,
        call: cst.CSTNode,
        optimizers: Objects,
        role: Role,
        name: str,
        context: Context,
        *,
        key: cst.CSTNode | None = None,
        **details: object,
    ) -> TrackedObject:
        """The one object built at `call` on these optimizers (`key`: one of several declared at one place)."""
        key_ = (id(key if key is not None else call), optimizers)
        if key_ not in self._constructed:
            self._constructed[key_] = TrackedObject(
                role,
                call,
                name,
                context.function,
                optimizers=optimizers,
                **details,  # type: ignore[arg-type]
            )
        return self._constructed[key_]

    def framework_scheduler(self, call: cst.Call, optimizers: Objects, name: str, context: Context) -> TrackedObject:
        """A scheduler a framework builds at `call` from its own configuration (of a class lrlint cannot see)."""
        return self._construct(
            call, optimizers, Role.SCHEDULER, name, context, evidence=Evidence.FACTORY, torch_class=False
        )

    def objects_of_role(self, expr: cst.BaseExpression, context: Context, role: Role) -> Objects:
        return frozenset(o for o in self.objects(expr, context) if o.role is role)

    # -- functions, methods, classes ----------------------------------------------------------

    def _owner(self, info: FunctionInfo | ClassInfo) -> Resolver:
        """The resolver of the module that defines `info` (this one, or an imported module's)."""
        if self.project is None or info in self._defined_here:
            return self
        return self.project.resolver_of(info) or self

    @cached_property
    def _defined_here(self) -> frozenset[FunctionInfo | ClassInfo]:
        return frozenset([*self.index.all_functions(), *self.index.classes.values()])

    def _imported(self, node: cst.BaseExpression, through_reexports: bool = False) -> FunctionInfo | ClassInfo | None:
        """A function or class that `node` names through an import of a project module (and, for base
        classes, through the package `__init__.py` files that re-export it)."""
        if self.project is None:
            return None
        for name in sorted(self.metadata.qualified_names(node, imported_only=True)):
            found = self.project.lookup(self, name, through_reexports)
            if found is not None:
                return found
        return None

    def _assignments(self, name: cst.Name) -> Iterator[Binding]:
        scope = self.metadata.scope(name)
        if scope is None:
            return iter(())
        return (a for a in scope[name.value] if isinstance(a, Binding))

    def _handed_through_package(self, call: cst.Call, context: Context) -> tuple[FunctionInfo, bool] | None:
        """A function of the project that a package re-exports (`from trainer import train_one_epoch`,
        defined in trainer/loops.py), for a call that hands it an optimizer or a scheduler."""
        found = self._through_package(call, context)
        return (found, False) if isinstance(found, FunctionInfo) else None

    def _through_package(self, call: cst.Call, context: Context) -> FunctionInfo | ClassInfo | None:
        """What a package's `__init__.py` re-exports under the called name, for a call that hands over
        an optimizer or a scheduler. Only such calls can matter, and following every re-export loads
        modules for nothing (a quarter more time on a dense project)."""
        func = call.func
        if not isinstance(func, (cst.Name, cst.Attribute)) or self.project is None:
            return None
        if not any(o.role is not Role.INSTANCE for arg in call.args for o in self.objects(arg.value, context)):
            return None
        return self._imported(func, through_reexports=True)

    def _function_called(self, func: cst.BaseExpression, context: Context) -> tuple[FunctionInfo, bool] | None:
        """The in-file function or method `func` names, and whether it is called as a bound method
        (asked again for every access path into the call's result: `batch["ids"]` of a loader's)."""
        key = (id(func), context)
        if key not in self._called:
            self._called[key] = self._find_function_called(func, context)
        return self._called[key]

    def _find_function_called(self, func: cst.BaseExpression, context: Context) -> tuple[FunctionInfo, bool] | None:
        if isinstance(func, cst.Name):
            for assignment in self._assignments(func):
                if isinstance(assignment.node, cst.FunctionDef) and assignment.node in self.index.functions:
                    return self.index.functions[assignment.node], False
            imported = self._imported(func)
            return (imported, False) if isinstance(imported, FunctionInfo) else None
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        owner = self._self_class(func.value, context)
        if owner is not None:
            found = self._overriding_method(func.value, method, context) or self._find_method(owner, method, True)
            return (found, True) if found is not None else None
        owner = self._super_class(func.value, context)
        if owner is not None:
            found = self._find_method(owner, method, include_own=False)
            return (found, True) if found is not None else None
        for instance in self.objects(func.value, context):
            if instance.role is Role.INSTANCE and instance.class_info is not None:
                found = self._find_method(instance.class_info, method, include_own=True)
                if found is not None:
                    return found, True
        # `Tests._run(...)`, `Base.__init__(self, ...)`: classes by the naming convention, which keeps
        # `np.array(...)` and `os.path.join(...)` from looking up modules.
        receiver = func.value
        named_as_class = isinstance(receiver, cst.Name) and receiver.value[:1].isupper()
        through_class = self._class_called(receiver, context) if named_as_class else None
        if through_class is not None:
            found = self._find_method(through_class, method, include_own=True)
            return (found, False) if found is not None and not found.decorated_as("classmethod") else None
        imported = self._imported(func)  # engine.train_one_epoch(...) after `import engine`
        return (imported, False) if isinstance(imported, FunctionInfo) else None

    def _class_called(
        self, func: cst.BaseExpression, context: Context, through_reexports: bool = False
    ) -> ClassInfo | None:
        if isinstance(func, cst.Name):
            for assignment in self._assignments(func):
                if isinstance(assignment.node, cst.ClassDef) and assignment.node in self.index.classes:
                    return self.index.classes[assignment.node]
        imported = self._imported(func, through_reexports) if isinstance(func, (cst.Name, cst.Attribute)) else None
        return imported if isinstance(imported, ClassInfo) else None

    def _base_class(self, base: cst.Arg) -> ClassInfo | None:
        """A base class of the project; re-exports are followed for bases (there are few of them)."""
        return self._class_called(base.value, Context(self.index.module), through_reexports=True)

    def _bind_call(
        self, call: cst.Call, function: FunctionInfo, bound_method: bool, context: Context, instance: Objects = NOTHING
    ) -> Context:
        """The context `function` runs in for `call`: its parameters bound to the arguments' objects, and
        `self` to `instance` (a construction) or to the receiver (`trainer.fit()`) when built in
        another module, whose attributes come from that construction."""
        params = function.positional_params(bound_method)
        by_name = {p.name.value for p in function.params}
        bindings: dict[str, Objects] = {}
        position = 0
        for arg in call.args:
            if arg.star:
                break
            if arg.keyword is not None:
                if arg.keyword.value in by_name:
                    bindings[arg.keyword.value] = self.objects(arg.value, context)
                continue
            if position < len(params) and params[position].star not in ("*", "**"):
                bindings[params[position].name.value] = self.objects(arg.value, context)
            position += 1
        if bound_method and function.self_name is not None:
            receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
            held = self.objects(receiver, context) if receiver is not None else NOTHING
            bindings[function.self_name] = instance or self._built_elsewhere(held) | _of_subclasses(held, function)
        frozen = tuple(sorted((name, objects) for name, objects in bindings.items() if objects))
        return Context(function, frozen, context.depth + 1)

    def _self_class(self, node: cst.BaseExpression, context: Context) -> ClassInfo | None:
        function = context.function
        if isinstance(node, cst.Name) and function.self_name == node.value:
            return function.class_info
        return None

    def _overriding_method(self, receiver: cst.BaseExpression, method: str, context: Context) -> FunctionInfo | None:
        """`self.method()` in a base class's method, replayed for an instance of a subclass: the
        subclass's override runs (`BaseTrainer.train` calling the `_train_epoch` of `Trainer`), when
        every instance `self` stands for agrees on it."""
        assert isinstance(receiver, cst.Name)
        classes = {o.class_info for o in context.bound(receiver.value) or () if o.class_info is not None}
        found = {self._find_method(class_info, method, include_own=True) for class_info in classes}
        return found.pop() if len(found) == 1 else None

    def _super_class(self, node: cst.BaseExpression, context: Context) -> ClassInfo | None:
        return context.function.class_info if is_super_call(node) else None

    def _find_method(self, class_info: ClassInfo, name: str, include_own: bool) -> FunctionInfo | None:
        mro = self._base_classes(class_info, include_own)
        for candidate in mro:
            if name in candidate.methods:
                return candidate.methods[name]
        # A base class calling a hook that only a subclass of this file defines.
        for candidate in self._subclasses(class_info):
            if name in candidate.methods:
                return candidate.methods[name]
        return None

    def _base_classes(self, class_info: ClassInfo, include_own: bool = True) -> list[ClassInfo]:
        owner = self._owner(class_info)
        if owner is not self:
            return owner._base_classes(class_info, include_own)
        key = (class_info, include_own)
        if key not in self._mro:
            self._mro[key] = []  # a class that names itself as its base, through others
            ordered: list[ClassInfo] = [class_info] if include_own else []
            for base in class_info.node.bases:
                base_info = self._base_class(base)
                if base_info is not None and base_info is not class_info and base_info not in ordered:
                    ordered.extend(b for b in self._base_classes(base_info) if b not in ordered)
            self._mro[key] = ordered
        return self._mro[key]

    def _subclasses(self, class_info: ClassInfo) -> list[ClassInfo]:
        return self._subclasses_by_base.get(class_info, [])

    @cached_property
    def _subclasses_by_base(self) -> dict[ClassInfo, list[ClassInfo]]:
        """The classes of this module deriving from each class, its own or another module's."""
        found: dict[ClassInfo, list[ClassInfo]] = {}
        for subclass in self.index.classes.values():
            for base in self._base_classes(subclass):
                if base is not subclass:
                    found.setdefault(base, []).append(subclass)
        return found

    def _related_classes(self, class_info: ClassInfo) -> list[ClassInfo]:
        return self._base_classes(class_info) + self._subclasses(class_info)

    def _is_scheduler_subclass(self, class_info: ClassInfo) -> bool:
        return any(is_scheduler_base_class(n) or scheduler_spec(n) for n in self.external_bases(class_info))

    def external_bases(self, class_info: ClassInfo) -> frozenset[str]:
        """Qualified names of the bases from outside the project, through the project's own classes:
        `torch.optim.lr_scheduler.LRScheduler`, `lightning.pytorch.LightningModule`."""
        owner = self._owner(class_info)
        if owner is not self:
            return owner.external_bases(class_info)
        if class_info not in self._external_bases:
            self._external_bases[class_info] = frozenset()  # a class that names itself as its base
            found: set[str] = set()
            for base in class_info.node.bases:
                found |= self.qualified_names(base.value)
                base_info = self._base_class(base)
                if base_info is not None and base_info is not class_info:
                    found |= self.external_bases(base_info)
            self._external_bases[class_info] = frozenset(found)
        return self._external_bases[class_info]

    def method(self, class_info: ClassInfo, name: str) -> FunctionInfo | None:
        """The method `name` of the class, its own or inherited from a class of the project."""
        owner = self._owner(class_info)
        return owner._find_method(class_info, name, include_own=True)

    def related_classes(self, class_info: ClassInfo) -> list[ClassInfo]:
        owner = self._owner(class_info)
        return owner._related_classes(class_info)

    def assigned_values(self, expr: cst.BaseExpression, context: Context) -> list[tuple[cst.BaseExpression, Context]]:
        """What `name` or `self.<attribute>` was assigned (not unpacked), each with the context it is
        evaluated in: `accelerator = Accelerator(...)`, `self.trainer = Engine(update)`."""
        if isinstance(expr, cst.Name):
            return self.bound_values(expr, context)
        function = context.function
        if not isinstance(expr, cst.Attribute) or function.class_info is None:
            return []
        if not (isinstance(expr.value, cst.Name) and expr.value.value == function.self_name):
            return []
        return [
            (value.value, Context(value.function))
            for related in self.related_classes(function.class_info)
            for value in related.attributes.get(expr.attr.value, [])
            if not value.path
        ]

    def bound_values(self, name: cst.Name, context: Context) -> list[tuple[cst.BaseExpression, Context]]:
        """The expressions assigned to `name` (not unpacked), each with the context it is evaluated in."""
        owner = self._owner(context.function)
        if owner is not self:
            return owner.bound_values(name, context)
        found = []
        for assignment in self._assignments(name):
            value = self.index.name_values.get(assignment.node) if isinstance(assignment.node, cst.Name) else None
            if value is not None and not value.path:
                where = context if value.function is context.function else Context(value.function, depth=context.depth)
                found.append((value.value, where))
        return found

    def stored_items(self, name: cst.Name, function: FunctionInfo) -> dict[str, cst.BaseExpression]:
        """`name["key"] = value` in `function`, by key (the last value stored under each)."""
        owner = self._owner(function)
        if owner is not self:
            return owner.stored_items(name, function)
        return {key: value for key, value in self.index.item_assignments.get((function, name.value), []) if key}

    def calls_named(self, name: str) -> list[tuple[cst.Call, FunctionInfo]]:
        """The module's calls that may run a function or class called `name` (through an import
        alias too), each with the function whose body holds it: the only ones that can resolve to it."""
        return self._calls_by_name.get(name, [])

    def _class_instantiations(self, class_info: ClassInfo) -> list[tuple[cst.Call, FunctionInfo]]:
        """`Trainer(...)`, and `super().__init__(...)` in the `__init__` of a subclass, which hands the
        subclass's own constructor arguments on."""
        if class_info not in self._instantiations:
            self._instantiations[class_info] = [
                (call, function)
                for call, function in self._calls_by_name.get(class_info.name, [])
                if self._class_called(call.func, Context(function)) is class_info
            ] + self._base_initialisations.get(class_info, [])
        return self._instantiations[class_info]

    @cached_property
    def _base_initialisations(self) -> dict[ClassInfo, list[tuple[cst.Call, FunctionInfo]]]:
        """`super().__init__(...)` in the `__init__` of a class, by the class whose `__init__` it runs."""
        found: dict[ClassInfo, list[tuple[cst.Call, FunctionInfo]]] = {}
        for call, function in self._calls_by_name.get("__init__", []):
            if function.name != "__init__" or function.class_info is None:
                continue
            if not (isinstance(call.func, cst.Attribute) and is_super_call(call.func.value)):
                continue
            init = self._find_method(function.class_info, "__init__", include_own=False)
            if init is not None and init.class_info is not None:
                found.setdefault(init.class_info, []).append((call, function))
        return found

    @cached_property
    def _calls_by_name(self) -> dict[str, list[tuple[cst.Call, FunctionInfo]]]:
        """The module's calls by each name their callee may have, judged without loading any module:
        `Trainer` for `Trainer(...)`, `engine.Trainer(...)`, or `T(...)` after `import Trainer as T`."""
        found: dict[str, list[tuple[cst.Call, FunctionInfo]]] = {}
        for function in self.index.all_functions():
            for event in call_events(function.events):
                for name in self._names_of(event.call.func):
                    found.setdefault(name, []).append((event.call, function))
        return found

    def _names_of(self, func: cst.BaseExpression) -> set[str]:
        names = {name.rsplit(".", 1)[-1] for name in self.qualified_names(func)}  # an import alias
        if isinstance(func, cst.Name):
            names.add(func.value)
        elif isinstance(func, cst.Attribute):
            names.add(func.attr.value)
        return names


def _names_in_annotation(annotation: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The classes an annotation names: `X`, `Optional[X]`, `X | None`, `Union[X, Y]`, and the
    `(X, Y)` of an isinstance test."""
    if isinstance(annotation, (cst.Name, cst.Attribute)):
        return [annotation]
    if isinstance(annotation, cst.Tuple):
        return [name for element in annotation.elements for name in _names_in_annotation(element.value)]
    if isinstance(annotation, cst.BinaryOperation):
        return _names_in_annotation(annotation.left) + _names_in_annotation(annotation.right)
    if isinstance(annotation, cst.Subscript):
        return [
            name
            for element in annotation.slice
            if isinstance(element.slice, cst.Index)
            for name in _names_in_annotation(element.slice.value)
        ]
    return []


_CONTAINERS = (cst.List, cst.Tuple, cst.Set, cst.Dict, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_SAME_ELEMENTS = frozenset({"list", "tuple", "set", "sorted", "reversed", "iter"})  # `for s in list(schedulers)`


def _contained(expr: cst.BaseExpression, step: int) -> list[cst.BaseExpression]:
    """The expressions whose values `expr` holds: its elements (ELEMENT), or a dict's values (VALUE).
    Iterating a dict gives its keys, which are no tracked objects."""
    if isinstance(expr, cst.Dict):
        return [e.value for e in expr.elements if isinstance(e, cst.DictElement)] if step == VALUE else []
    if isinstance(expr, cst.DictComp):
        return [expr.value] if step == VALUE else []
    if step != ELEMENT:
        return []
    if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return [expr.elt]
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return [e.value for e in expr.elements if isinstance(e, cst.Element)]
    return []


def _iterated_through(call: cst.Call, path: AccessPath) -> tuple[cst.BaseExpression, AccessPath] | None:
    """What an element of the call's result is an element of: `schedulers.values()`, `d.items()`,
    `enumerate(schedulers)`, `zip(optimizers, schedulers)`, `list(schedulers)`."""
    if path[:1] != (ELEMENT,):
        return None
    func, rest = call.func, path[1:]
    positional = positional_values(call)
    if isinstance(func, cst.Attribute) and not call.args:
        if func.attr.value == "values":
            return func.value, (VALUE, *rest)
        if func.attr.value == "items" and rest[:1] == (1,):
            return func.value, (VALUE, *rest[1:])
        return None
    name = func.value if isinstance(func, cst.Name) else ""
    if name in _SAME_ELEMENTS and len(positional) == 1:
        return positional[0], path
    if name == "enumerate" and positional and rest[:1] == (1,):
        return positional[0], (ELEMENT, *rest[1:])
    position = rest[0] if rest else None
    if name == "zip" and isinstance(position, int) and 0 <= position < len(positional) == len(call.args):
        return positional[position], (ELEMENT, *rest[1:])
    return None


def _literal_key(subscript: cst.Subscript) -> int | str | None:
    """`x[0]` (a non-negative literal index) or `x["g"]` (a literal string key)."""
    key = subscript_index(subscript)
    if isinstance(key, cst.Integer):
        return int(key.value) if key.value.isdigit() else None
    return string_value(key) if key is not None else None


def _literal_name(expr: cst.BaseExpression | None) -> str | None:
    """`"cosine"` or `SchedulerType.COSINE`: a name written in the code."""
    if isinstance(expr, cst.Attribute):
        owner = expr.value.attr if isinstance(expr.value, cst.Attribute) else expr.value
        return expr.attr.value if isinstance(owner, cst.Name) and owner.value == "SchedulerType" else None
    return string_value(expr) if expr is not None else None


def _of_subclasses(instances: Objects, method: FunctionInfo) -> Objects:
    """Instances of another class than the one defining `method` (a subclass that inherits it): its
    `self.<hook>()` calls run that class's overrides."""
    return frozenset(o for o in instances if o.class_info is not None and o.class_info is not method.class_info)
