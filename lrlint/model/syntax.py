"""First pass over a module: functions, classes, loops, calls and assignments, in source order.

This pass is purely structural. It records, for every function (and the module body), the
calls and loops it contains with the `if` conditions that guard them, so that later passes can
replay an iteration in program order. It never decides what an object is; `resolve.py` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import cast

import libcst as cst


@dataclass(frozen=True, eq=False)
class Guard:
    """An `if` condition (or its negation, in the else branch) that an event runs under."""

    test: cst.BaseExpression
    negated: bool


@dataclass(eq=False)
class CallEvent:
    call: cst.Call
    guards: tuple[Guard, ...]
    contexts: tuple[cst.WithItem, ...]


@dataclass(eq=False)
class LoopEvent:
    node: cst.For | cst.While
    body: list[Event]
    guards: tuple[Guard, ...]
    contexts: tuple[cst.WithItem, ...]

    @property
    def iterated(self) -> cst.BaseExpression:
        """The iterable of a `for`, the condition of a `while`."""
        return self.node.iter if isinstance(self.node, cst.For) else self.node.test

    @property
    def target(self) -> cst.BaseExpression | None:
        return self.node.target if isinstance(self.node, cst.For) else None


@dataclass(eq=False)
class LrWriteEvent:
    """`group["lr"] = value`: a learning rate written by hand."""

    target: cst.Subscript
    guards: tuple[Guard, ...]
    contexts: tuple[cst.WithItem, ...]
    value: cst.BaseExpression | None = None  # what is written (None for `group["lr"] *= 0.1`)


Event = CallEvent | LoopEvent | LrWriteEvent


@dataclass(eq=False)
class FunctionInfo:
    node: cst.FunctionDef | cst.Module
    qualname: str
    class_info: ClassInfo | None
    params: tuple[cst.Param, ...] = ()
    events: list[Event] = field(default_factory=list)
    returns: list[cst.BaseExpression] = field(default_factory=list)
    # Expressions whose value leaves lrlint's sight: stored in containers, subscripts, attributes
    # of other objects, or returned.
    escapes: list[cst.BaseExpression] = field(default_factory=list)
    # `self.<name> = value`: what this method keeps on its instance, for whatever method uses it later.
    stores: list[AttributeValue] = field(default_factory=list)
    # `assert isinstance(scheduler, LRScheduler)`: the classes a name is asserted to have, by name.
    asserted: dict[str, cst.BaseExpression] = field(default_factory=dict)
    contains_loop: bool = False

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @cached_property
    def self_name(self) -> str | None:
        """The name of the instance parameter of a method (`self`), None elsewhere (asked at every
        method call the analysis resolves)."""
        if self.class_info is None or not self.params or not isinstance(self.node, cst.FunctionDef):
            return None
        if self.decorated_as("staticmethod") or self.decorated_as("classmethod"):
            return None
        return self.params[0].name.value

    def decorated_as(self, name: str) -> bool:
        """`@classmethod`, `@torch.no_grad()`: the function carries this decorator (by dotted name)."""
        node = self.node
        return isinstance(node, cst.FunctionDef) and any(dotted_name(d.decorator) == name for d in node.decorators)

    def positional_params(self, bound_method: bool) -> list[cst.Param]:
        return list(self.params[1:] if bound_method and self.self_name else self.params)


# Where a value sits inside another: tuple positions, a dict's string keys (`schedulers["g"]`), and
# two steps beyond them: one element of what a `for` iterates (a list's, a tuple's, a set's), and
# one value of a dict (`.values()`, the second of `.items()`).
AccessPath = tuple[int | str, ...]
ELEMENT = -1
VALUE = -2


@dataclass(frozen=True, eq=False)
class AttributeValue:
    """`self.<name> = value` (or one element of a tuple unpacked into it) inside a method."""

    value: cst.BaseExpression
    path: AccessPath
    function: FunctionInfo


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    name: str
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    attributes: dict[str, list[AttributeValue]] = field(default_factory=dict)
    # `self.<name>.append(value)` in a method: elements of the container kept there.
    elements: dict[str, list[AttributeValue]] = field(default_factory=dict)
    # `scheduler: LRScheduler` in the class body, `self.scheduler: LRScheduler = ...` in a method.
    annotations: dict[str, cst.BaseExpression] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class NameValue:
    """What a Name target was assigned: `value`, or element `path` of it when unpacked."""

    value: cst.BaseExpression
    path: AccessPath
    function: FunctionInfo
    guards: tuple[Guard, ...] = ()  # the `if`s around the assignment within its function
    in_loop: bool = False


@dataclass(frozen=True, eq=False)
class AttributeWrite:
    """`args.total_steps = args.epochs * len(loader)`: an attribute written on an object other than `self`."""

    target: cst.Attribute
    value: cst.BaseExpression | None  # None for `+=` and the like
    function: FunctionInfo
    guards: tuple[Guard, ...]  # the `if`s around it within its function
    in_loop: bool

    @property
    def conditional(self) -> bool:
        """Under an `if` (other than `if __name__ == "__main__":`) or in a loop of its function."""
        return self.in_loop or bool(conditions(self.guards))


@dataclass(eq=False)
class SyntaxIndex:
    module: FunctionInfo
    functions: dict[cst.FunctionDef, FunctionInfo] = field(default_factory=dict)
    classes: dict[cst.ClassDef, ClassInfo] = field(default_factory=dict)
    name_values: dict[cst.Name, NameValue] = field(default_factory=dict)
    # `for scheduler in schedulers:`: the loop's targets, bound to an element of what it iterates.
    loop_targets: dict[cst.Name, NameValue] = field(default_factory=dict)
    # `schedulers.append(value)`: values appended to a local container, by (function, name).
    appended: dict[tuple[FunctionInfo, str], list[cst.BaseExpression]] = field(default_factory=dict)
    param_owner: dict[cst.Param, FunctionInfo] = field(default_factory=dict)
    # `checkpoint["scheduler"] = value`: values stored into a named container, by (function, name),
    # each with its key (None unless a string literal).
    item_assignments: dict[tuple[FunctionInfo, str], list[tuple[str | None, cst.BaseExpression]]] = field(
        default_factory=dict
    )
    # `scheduler.last_epoch = value`: attributes written on objects other than `self`, by attribute name.
    attribute_writes: dict[str, list[AttributeWrite]] = field(default_factory=dict)

    def all_functions(self) -> list[FunctionInfo]:
        return [self.module, *self.functions.values()]


def _names_in(node: cst.CSTNode) -> list[cst.BaseExpression]:
    """Names and attribute chains (`self.scheduler`) used in an expression."""
    return [child for child in walk(node) if isinstance(child, (cst.Name, cst.Attribute))]


def subscript_index(node: cst.Subscript) -> cst.BaseExpression | None:
    """The expression of `x[expr]`: one plain index (not a slice, not several)."""
    if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return node.slice[0].slice.value
    return None


def subscript_key(node: cst.Subscript) -> str | None:
    """The string key of `x["key"]`, else None."""
    key = subscript_index(node)
    return string_value(key) if key is not None else None


def string_value(node: cst.BaseExpression) -> str | None:
    """The str a string literal stands for (None for bytes, and for anything but a plain string
    literal). A plain `"key"` is read off its text: LibCST's `evaluated_value` runs
    `ast.literal_eval`, a parse per string."""
    if not isinstance(node, cst.SimpleString):
        return None
    raw = node.value
    if raw[:1] in ("'", '"') and raw[:3] not in ("'''", '"""') and "\\" not in raw:
        return raw[1:-1]
    value = node.evaluated_value
    return value if isinstance(value, str) else None


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and every node below it but formatting (whitespace, commas, brackets), in source order."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(child_nodes(current)))


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children in source order (LibCST's `children`), without the formatting ones;
    several times cheaper than `children`, which rebuilds the node to collect them."""
    found: list[cst.CSTNode] = []
    node_types = subclasses(cst.CSTNode)  # a set lookup, where `isinstance(value, cst.CSTNode)` is an ABC check
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind in node_types:
            found.append(value)
        elif kind is tuple or kind is list:
            found.extend(child for child in value if type(child) in node_types)
    return found


@cache
def subclasses(base: type) -> frozenset[type]:
    """`base` and every class derived from it, for `type(node) in ...` (LibCST's node classes are
    ABCs: an `isinstance` with them costs several times a set lookup)."""
    found: set[type] = set()
    pending: list[type] = [base]
    while pending:
        kind = pending.pop()
        found.add(kind)
        pending.extend(kind.__subclasses__())
    return frozenset(found)


# Fields that hold only formatting: never walked.
_FORMATTING = frozenset(
    {
        "lpar",
        "rpar",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "comma",
        "semicolon",
        "dot",
        "colon",
        "first_colon",
        "second_colon",
        "equal",
        "header",
        "footer",
        "leading_lines",
        "lines_after_decorators",
        "leading_whitespace",
        "trailing_whitespace",
        "newline",
        "indent",
        "whitespace_after_arg",
        "asynchronous",
        "posonly_ind",
    }
)
# Fields in source order, where it is not the order the node declares them in.
_SOURCE_ORDER = {
    cst.IfExp: ("body", "test", "orelse"),
    cst.FormattedStringExpression: ("expression", "conversion", "format_spec"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.Arg: ("keyword", "value"),
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.ImportFrom: ("module", "names"),  # not `relative`: its dots are formatting nodes
    cst.TypeAlias: ("name", "type_parameters", "value"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.MatchCase: ("pattern", "guard", "body"),
}


@cache
def _child_fields(node_type: type[cst.CSTNode]) -> tuple[str, ...]:
    if node_type in _SOURCE_ORDER:
        return _SOURCE_ORDER[node_type]
    declared = (f.name for f in dataclasses.fields(node_type))
    return tuple(name for name in declared if name not in _FORMATTING and not name.startswith("whitespace"))


def is_main_test(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"`: true in every run of the script."""
    return "__main__" in cst.Module([]).code_for_node(test)


def called_name(func: cst.BaseExpression) -> str:
    """The name a call uses: `step` for `scheduler.step(...)`, `train` for `train(...)`; "" otherwise."""
    if isinstance(func, cst.Name):
        return func.value
    return func.attr.value if isinstance(func, cst.Attribute) else ""


def positional_values(call: cst.Call) -> list[cst.BaseExpression]:
    """The values of the call's positional arguments, in order (`*args` aside)."""
    return [arg.value for arg in call.args if arg.keyword is None and not arg.star]


def call_argument(call: cst.Call, keyword: str, position: int | None = None) -> cst.BaseExpression | None:
    """The argument a call passes for a parameter: by its keyword, else at its position among the
    positional arguments (`None`: keyword only)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    if position is None:
        return None
    positional = positional_values(call)
    return positional[position] if position < len(positional) else None


def is_super_call(node: cst.BaseExpression) -> bool:
    """`super()` (with or without arguments)."""
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def dotted_name(node: cst.BaseExpression) -> str:
    """`torch.optim.SGD` for that attribute chain (or a call of it); "" when it is not a plain chain."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted_name(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return dotted_name(node.func)
    return ""


class _ExpressionScanner:
    """Collects calls in evaluation order (post-order) and values put into containers.

    It does not enter lambdas, nested functions or classes: their code runs elsewhere.
    """

    def __init__(self) -> None:
        self.calls: list[cst.Call] = []
        self.contained: list[cst.BaseExpression] = []

    def scan(self, node: cst.CSTNode) -> None:
        kind = type(node)  # compared, not isinstance-tested: this runs for every node of the module
        if kind is cst.Lambda:
            # A lambda runs later, elsewhere (a callback): what it uses leaves lrlint's sight.
            self.contained.extend(_names_in(cast(cst.Lambda, node).body))
            return
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            return
        if kind is cst.Element or kind is cst.DictElement or kind is cst.Yield:
            value = cast("cst.Element | cst.DictElement | cst.Yield", node).value
            if type(value) in subclasses(cst.BaseExpression):
                self.contained.append(cast(cst.BaseExpression, value))
        elif kind is cst.ListComp or kind is cst.SetComp or kind is cst.GeneratorExp:
            self.contained.append(cast("cst.ListComp | cst.SetComp | cst.GeneratorExp", node).elt)
        elif kind is cst.DictComp:
            self.contained.append(cast(cst.DictComp, node).value)
        elif kind is cst.Attribute and cast(cst.Attribute, node).attr.value == "step":
            # `scheduler.step` handed on uncalled (a hook, a callback list): whoever holds it steps it.
            self.contained.append(cast(cst.Attribute, node).value)
        if kind is cst.Call:
            self._scan_call(cast(cst.Call, node))
            self.calls.append(cast(cst.Call, node))
            return
        for child in child_nodes(node):
            self.scan(child)

    def _scan_call(self, call: cst.Call) -> None:
        func = call.func
        for child in child_nodes(call):
            if child is func and type(func) is cst.Attribute and func.attr.value == "step":
                self.scan(func.value)  # `x.step()` calls the method: no bound method handed on
            else:
                self.scan(child)


class _Builder:
    def __init__(self, module: cst.Module) -> None:
        self.index = SyntaxIndex(FunctionInfo(module, "<module>", None))
        # The class whose body is being walked, with the function that body runs in.
        self._current_class: tuple[ClassInfo, FunctionInfo] | None = None
        # Where the assignment being bound is: the `if`s around it, inside how many loops.
        self._binding_guards: tuple[Guard, ...] = ()
        self._loop_depth = 0

    def build(self) -> SyntaxIndex:
        module = self.index.module
        assert isinstance(module.node, cst.Module)
        module.events = self._block(module.node.body, module, (), ())
        return self.index

    # -- statements -------------------------------------------------------------------------

    def _block(
        self,
        statements: Sequence[cst.BaseStatement] | Sequence[cst.BaseSmallStatement],
        function: FunctionInfo,
        guards: tuple[Guard, ...],
        contexts: tuple[cst.WithItem, ...],
    ) -> list[Event]:
        events: list[Event] = []
        for statement in statements:
            events.extend(self._statement(statement, function, guards, contexts))
        return events

    def _suite(
        self,
        suite: cst.BaseSuite,
        function: FunctionInfo,
        guards: tuple[Guard, ...],
        contexts: tuple[cst.WithItem, ...],
    ) -> list[Event]:
        return self._block(suite.body, function, guards, contexts)

    def _statement(
        self, node: cst.CSTNode, function: FunctionInfo, guards: tuple[Guard, ...], contexts: tuple[cst.WithItem, ...]
    ) -> list[Event]:
        if isinstance(node, cst.SimpleStatementLine):
            return self._block(node.body, function, guards, contexts)
        if isinstance(node, cst.FunctionDef):
            self._function(node, function)
            return self._expressions(list(node.decorators), function, guards, contexts)
        if isinstance(node, cst.ClassDef):
            return self._class(node, function, guards, contexts)
        if isinstance(node, cst.If):
            return self._if(node, function, guards, contexts)
        if isinstance(node, (cst.For, cst.While)):
            return self._loop(node, function, guards, contexts)
        if isinstance(node, cst.With):
            events = self._expressions([item.item for item in node.items], function, guards, contexts)
            self._binding_guards = guards
            for item in node.items:
                if item.asname is not None:
                    self._bind(item.asname.name, item.item, (), function)
            return events + self._suite(node.body, function, guards, contexts + tuple(node.items))
        if isinstance(node, (cst.Try, cst.TryStar)):
            events = self._suite(node.body, function, guards, contexts)
            for handler in node.handlers:
                events += self._suite(handler.body, function, guards, contexts)
            for extra in (node.orelse, node.finalbody):
                if extra is not None:
                    events += self._suite(extra.body, function, guards, contexts)
            return events
        if isinstance(node, cst.Match):
            events = self._expressions([node.subject], function, guards, contexts)
            for case in node.cases:
                events += self._suite(case.body, function, guards + (Guard(node.subject, False),), contexts)
            return events
        return self._small_statement(node, function, guards, contexts)

    def _small_statement(
        self, node: cst.CSTNode, function: FunctionInfo, guards: tuple[Guard, ...], contexts: tuple[cst.WithItem, ...]
    ) -> list[Event]:
        targets: list[cst.BaseExpression] = []
        self._binding_guards = guards
        if isinstance(node, cst.Assign):
            targets = [target.target for target in node.targets]
            for target in targets:
                self._bind(target, node.value, (), function)
        elif isinstance(node, cst.AnnAssign):
            self._annotate(node, function)
            if node.value is not None:
                targets = [node.target]
                self._bind(node.target, node.value, (), function)
        elif isinstance(node, cst.Assert):
            asserted = _isinstance_test(node.test)
            if asserted is not None and isinstance(asserted[0], cst.Name):
                function.asserted[asserted[0].value] = asserted[1]
        elif isinstance(node, cst.AugAssign):
            targets = [node.target]
        elif isinstance(node, cst.Return) and node.value is not None:
            function.returns.append(node.value)
            function.escapes.append(node.value)
        elif isinstance(node, cst.Expr):
            self._record_append(node, function)
        events = self._expressions([node], function, guards, contexts)
        value = node.value if isinstance(node, (cst.Assign, cst.AnnAssign)) else None
        for target in targets:
            if isinstance(target, cst.Attribute) and not self._is_self(target.value, function):
                write = AttributeWrite(target, value, function, guards, self._loop_depth > 0)
                self.index.attribute_writes.setdefault(target.attr.value, []).append(write)
        writes = [t for t in targets if isinstance(t, cst.Subscript) and subscript_key(t) == "lr"]
        return events + [LrWriteEvent(target, guards, contexts, value) for target in writes]

    def _if(
        self, node: cst.If, function: FunctionInfo, guards: tuple[Guard, ...], contexts: tuple[cst.WithItem, ...]
    ) -> list[Event]:
        events = self._expressions([node.test], function, guards, contexts)
        events += self._suite(node.body, function, guards + (Guard(node.test, False),), contexts)
        if isinstance(node.orelse, cst.If):
            events += self._if(node.orelse, function, guards + (Guard(node.test, True),), contexts)
        elif isinstance(node.orelse, cst.Else):
            events += self._suite(node.orelse.body, function, guards + (Guard(node.test, True),), contexts)
        return events

    def _loop(
        self,
        node: cst.For | cst.While,
        function: FunctionInfo,
        guards: tuple[Guard, ...],
        contexts: tuple[cst.WithItem, ...],
    ) -> list[Event]:
        function.contains_loop = True
        body: list[Event] = []
        if isinstance(node, cst.For):
            before = self._expressions([node.iter], function, guards, contexts)
            self._bind_iteration(node.target, node.iter, (ELEMENT,), function, guards)
        else:
            before = []
            body = self._expressions([node.test], function, (), ())
        self._loop_depth += 1
        try:
            body += self._suite(node.body, function, (), ())
        finally:
            self._loop_depth -= 1
        events: list[Event] = [*before, LoopEvent(node, body, guards, contexts)]
        if node.orelse is not None:
            events += self._suite(node.orelse.body, function, guards, contexts)
        return events

    def _function(self, node: cst.FunctionDef, enclosing: FunctionInfo) -> None:
        class_info = self._class_of_method(enclosing)
        prefix = "" if enclosing.qualname == "<module>" else f"{enclosing.qualname}."
        qualname = f"{class_info.name}.{node.name.value}" if class_info else f"{prefix}{node.name.value}"
        params = (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
        info = FunctionInfo(node, qualname, class_info, params)
        self.index.functions[node] = info
        for param in params:
            self.index.param_owner[param] = info
        if class_info is not None:
            class_info.methods.setdefault(node.name.value, info)
        outer_loops, self._loop_depth = self._loop_depth, 0  # its body runs when it is called
        try:
            info.events = self._suite(node.body, info, (), ())
        finally:
            self._loop_depth = outer_loops

    def _class_of_method(self, enclosing: FunctionInfo) -> ClassInfo | None:
        if self._current_class is not None and self._current_class[1] is enclosing:
            return self._current_class[0]
        return None

    def _class(
        self, node: cst.ClassDef, function: FunctionInfo, guards: tuple[Guard, ...], contexts: tuple[cst.WithItem, ...]
    ) -> list[Event]:
        info = ClassInfo(node, node.name.value)
        self.index.classes[node] = info
        previous = self._current_class
        self._current_class = (info, function)
        try:
            events = self._suite(node.body, function, guards, contexts)
        finally:
            self._current_class = previous
        return self._expressions([*node.bases, *node.decorators], function, guards, contexts) + events

    # -- expressions and bindings --------------------------------------------------------------

    def _expressions(
        self,
        nodes: Sequence[cst.CSTNode],
        function: FunctionInfo,
        guards: tuple[Guard, ...],
        contexts: tuple[cst.WithItem, ...],
    ) -> list[Event]:
        scanner = _ExpressionScanner()
        for node in nodes:
            scanner.scan(node)
        function.escapes.extend(scanner.contained)
        return [CallEvent(call, guards, contexts) for call in scanner.calls]

    def _bind(
        self, target: cst.BaseExpression, value: cst.BaseExpression, path: AccessPath, function: FunctionInfo
    ) -> None:
        if isinstance(target, cst.Name):
            in_loop = self._loop_depth > 0
            self.index.name_values[target] = NameValue(value, path, function, self._binding_guards, in_loop)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for position, element in enumerate(target.elements):
                if isinstance(element, cst.StarredElement):
                    return
                self._bind(element.value, value, (*path, position), function)
        elif isinstance(target, cst.Attribute) and self._is_self(target.value, function):
            assert function.class_info is not None
            stored = AttributeValue(value, path, function)
            function.class_info.attributes.setdefault(target.attr.value, []).append(stored)
            function.stores.append(stored)
        elif not path:
            function.escapes.append(value)
            if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
                assigned = (subscript_key(target), value)
                self.index.item_assignments.setdefault((function, target.value.value), []).append(assigned)

    def _bind_iteration(
        self,
        target: cst.BaseExpression,
        iterated: cst.BaseExpression,
        path: AccessPath,
        function: FunctionInfo,
        guards: tuple[Guard, ...],
    ) -> None:
        """`for scheduler in schedulers:`, `for name, scheduler in schedulers.items():`."""
        if isinstance(target, cst.Name):
            self.index.loop_targets[target] = NameValue(iterated, path, function, guards, in_loop=True)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for position, element in enumerate(target.elements):
                if isinstance(element, cst.StarredElement):
                    return
                self._bind_iteration(element.value, iterated, (*path, position), function, guards)

    def _record_append(self, node: cst.Expr, function: FunctionInfo) -> None:
        """`schedulers.append(scheduler)` or `self.schedulers.append(scheduler)`."""
        call = node.value
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            return
        if call.func.attr.value != "append" or len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
            return
        container, value = call.func.value, call.args[0].value
        if isinstance(container, cst.Name):
            self.index.appended.setdefault((function, container.value), []).append(value)
        elif isinstance(container, cst.Attribute) and self._is_self(container.value, function):
            assert function.class_info is not None
            function.class_info.elements.setdefault(container.attr.value, []).append(
                AttributeValue(value, (), function)
            )

    def _annotate(self, node: cst.AnnAssign, function: FunctionInfo) -> None:
        """Record a class attribute's declared type: in the class body, or on `self` in a method."""
        target, annotation = node.target, node.annotation.annotation
        in_body = self._current_class is not None and self._current_class[1] is function
        if in_body and isinstance(target, cst.Name):
            assert self._current_class is not None
            self._current_class[0].annotations[target.value] = annotation
        elif isinstance(target, cst.Attribute) and self._is_self(target.value, function):
            assert function.class_info is not None
            function.class_info.annotations[target.attr.value] = annotation

    @staticmethod
    def _is_self(node: cst.BaseExpression, function: FunctionInfo) -> bool:
        return isinstance(node, cst.Name) and function.self_name is not None and node.value == function.self_name


def _isinstance_test(test: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """`isinstance(x, T)`, and `issubclass(x.__class__, T)` or `issubclass(type(x), T)` that mean
    the same: (x, T)."""
    if not (isinstance(test, cst.Call) and isinstance(test.func, cst.Name)):
        return None
    if len(test.args) != 2 or any(arg.keyword is not None or arg.star for arg in test.args):
        return None
    tested, classes = test.args[0].value, test.args[1].value
    if test.func.value == "isinstance":
        return tested, classes
    of = _class_of(tested) if test.func.value == "issubclass" else None
    return (of, classes) if of is not None else None


def _class_of(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """`x.__class__` or `type(x)`: x."""
    if isinstance(expr, cst.Attribute) and expr.attr.value == "__class__":
        return expr.value
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "type":
        alone = len(expr.args) == 1 and expr.args[0].keyword is None and not expr.args[0].star
        return expr.args[0].value if alone else None
    return None


def class_test(guard: Guard) -> tuple[cst.BaseExpression, cst.BaseExpression, bool] | None:
    """The object, the classes and whether the guard holds when the object is of those classes:
    `if isinstance(x, (A, B)):`, `if type(x) is A:`, `if type(x) != A:` (False: it holds when it is not)."""
    tested = _isinstance_test(guard.test)
    if tested is not None:
        return *tested, not guard.negated
    exact = _type_comparison(guard.test)
    if exact is None:
        return None
    obj, classes, equal = exact
    return obj, classes, equal != guard.negated


def _type_comparison(test: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression, bool] | None:
    """`type(x) == T` / `x.__class__ is T` (True) or `type(x) != T` / `type(x) is not T` (False): (x, T, _)."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    tested, target = _class_of(test.left), test.comparisons[0]
    if tested is None:
        return None
    if isinstance(target.operator, (cst.Equal, cst.Is)):
        return tested, target.comparator, True
    if isinstance(target.operator, (cst.NotEqual, cst.IsNot)):
        return tested, target.comparator, False
    return None


def tests_presence_of(guard: Guard, expr: cst.BaseExpression) -> bool:
    """`if scheduler:` or `if scheduler is not None:` (or the `else` of `if scheduler is None:`) around
    `scheduler.step()`: whenever there is a scheduler to step, the step runs, so the condition says
    nothing about when. A conjunction counts only when every part tests `expr`."""
    if guard.negated:
        return _tests_absence(guard.test, expr)
    parts = _conjuncts(guard.test)
    return all(part.deep_equals(expr) or _compares_with_none(part, expr, cst.IsNot) for part in parts)


def _tests_absence(test: cst.BaseExpression, expr: cst.BaseExpression) -> bool:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return test.expression.deep_equals(expr)
    return _compares_with_none(test, expr, cst.Is)


def _compares_with_none(test: cst.BaseExpression, expr: cst.BaseExpression, operator: type[cst.BaseCompOp]) -> bool:
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    none = isinstance(target.comparator, cst.Name) and target.comparator.value == "None"
    return none and isinstance(target.operator, operator) and test.left.deep_equals(expr)


def _conjuncts(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return [*_conjuncts(test.left), *_conjuncts(test.right)]
    return [test]


def conditions(guards: tuple[Guard, ...]) -> tuple[Guard, ...]:
    """The tests that make code conditional: `if __name__ == "__main__":` runs in every run."""
    return tuple(guard for guard in guards if not is_main_test(guard.test))


def _equality(test: cst.BaseExpression) -> tuple[cst.BaseExpression, object] | None:
    """`x == "cosine"`: (x, "cosine"), for a literal string or number on the right."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal) or not isinstance(target.comparator, (cst.SimpleString, cst.Integer)):
        return None
    return test.left, target.comparator.evaluated_value


def exclusive(first: tuple[Guard, ...], second: tuple[Guard, ...]) -> bool:
    """Code under `first` and code under `second` cannot both run: one is under `if c:` and the other
    under its `else`, or they test one value against two constants (`if cfg.sched == "cosine":` and
    `elif cfg.sched == "plateau":`), the way a run's configuration picks one scheduler."""
    for one_test, one_negated in map(_polarity, first):
        for other_test, other_negated in map(_polarity, second):
            if one_negated != other_negated and one_test.deep_equals(other_test):
                return True
            if one_negated or other_negated:
                continue
            tested, against = _equality(one_test), _equality(other_test)
            if tested and against and tested[1] != against[1] and tested[0].deep_equals(against[0]):
                return True
    return False


def _polarity(guard: Guard) -> tuple[cst.BaseExpression, bool]:
    """The guard's condition without its `not`s, and whether the code runs when it is false:
    `if not warmup:` runs where the `else` of `if warmup:` does."""
    test, negated = guard.test, guard.negated
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, not negated
    return test, negated


def build_syntax_index(module: cst.Module) -> SyntaxIndex:
    return _Builder(module).build()


def call_events(events: list[Event]) -> Iterator[CallEvent]:
    """Every call event, loops flattened, in source order."""
    for event in events:
        if isinstance(event, LoopEvent):
            yield from call_events(event.body)
        elif isinstance(event, CallEvent):
            yield event
