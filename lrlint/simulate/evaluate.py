"""Reading the code's arguments without running it: the model's evaluator, permissive.

What the code leaves open is assumed and stated (argparse and parameter defaults, `len(loader)`,
values given with --set, the defaults a lookup states), or refused with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import libcst as cst

from lrlint.model import Frame, Guard, StepCadence, TrainingModel
from lrlint.model.scopes import Binding
from lrlint.model.syntax import conditions, dotted_name, subscript_key, walk
from lrlint.model.values import MISSING, NotKnown, ValueEvaluator, parsed_option


class CannotSimulate(NotKnown):
    """The reason, shown as `cannot simulate: <reason>[: <remedy>]`."""

    def __init__(self, reason: str, remedy: str = "") -> None:
        super().__init__(f"{reason}: {remedy}" if remedy else reason)
        self.reason = reason


class StoppedByTorch(ValueError):
    """torch raised while the schedule was stepped (OneCycleLR past its total_steps)."""

    def __init__(self, message: str, rates: list[float]) -> None:
        super().__init__(message)
        self.rates = rates  # before each period that ran, and after the last one


# What ends one schedule's simulation: lrlint's own reason, or torch refusing the code's arguments
# (the TypeError of LR201/LR202, the ValueError of LR203).
REFUSALS = (CannotSimulate, TypeError, ValueError, ArithmeticError)


def refusal(error: Exception) -> str:
    return str(error) if isinstance(error, CannotSimulate | StoppedByTorch) else f"torch refuses the arguments: {error}"


_NO_RETURN = object()


@dataclass(frozen=True)
class Given:
    """What the user tells simulate about the run: the cadence of steps lrlint does not see, the base
    LR, values the code reads (--set, and a run configuration's dotted keys), a metric curve."""

    cadence: StepCadence | None = None
    lr: float | None = None
    values: Mapping[str, object] = field(default_factory=dict)  # --set NAME=VALUE, by the code as written
    metric: tuple[float, ...] = ()  # --metric FILE: what ReduceLROnPlateau is stepped with, one value a step
    config: Mapping[str, object] = field(default_factory=dict)  # --config FILE, flattened: "train.lr" -> 0.1
    config_name: str = ""


NOTHING_GIVEN = Given()


def flattened(table: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """`{"train": {"lr": 0.1}}` -> `{"train.lr": 0.1}`: a run configuration's keys as dotted paths."""
    found: dict[str, object] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found |= flattened(value, path + ".")
        else:
            found[path] = value
    return found


_PATH_PART = re.compile(r"""\.(\w+)|\[\s*["'](\w+)["']\s*\]""")


def _configured_key(code: str, config: Mapping[str, object]) -> str | None:
    """The configuration key the code reads: `cfg.train.lr` and `config["train"]["lr"]` read
    `train.lr` (the object they start from is the configuration; any object before it, too)."""
    if not config:
        return None
    parts = [attribute or key for attribute, key in _PATH_PART.findall(code)]
    for start in range(len(parts)):
        key = ".".join(parts[start:])
        if key in config:
            return key
    return None


def _branch_block(branch: cst.If | cst.Else | cst.BaseSuite) -> cst.BaseSuite | cst.BaseStatement:
    """The block an `if`'s branch runs: the `else` body, or the `elif` as a statement of its own."""
    return branch.body if isinstance(branch, cst.Else) else branch


class _Assignment(Protocol):
    """A name's or an attribute's assignment, where it runs."""

    @property
    def value(self) -> cst.BaseExpression | None: ...
    @property
    def guards(self) -> tuple[Guard, ...]: ...
    @property
    def in_loop(self) -> bool: ...


@dataclass(frozen=True)
class _Default:
    """An option's argparse default, the value it holds before the code assigns it."""

    value: cst.BaseExpression
    guards: tuple[Guard, ...] = ()
    in_loop: bool = False


_SHELL_WORD = re.compile(r"[\w.=]+")
_MAX_FOLLOWED = 8  # names and parameters followed to what they hold


def _is_parameter(name: cst.Name, frame: Frame) -> bool:
    return any(param.name.value == name.value for param in frame.function.params)


def _how_to_give(code: str) -> str:
    """`give it with --set 'config["lr"]=VALUE'`, quoted for a shell when it needs it."""
    setting = f"{written_key(code)}=VALUE"
    return f"give it with --set {setting if _SHELL_WORD.fullmatch(setting) else repr(setting)}"


def written_key(code: str) -> str:
    """How --set names a value of the code: `cfg.TRAIN.LR`, `config["lr"]` (spaces and quote style aside)."""
    return "".join(code.split()).replace("'", '"')


def _stated_default(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The default a lookup states: `cfg.get("lr", 0.1)`, `getattr(cfg, "lr", 0.1)`,
    `os.environ.get("LR", "0.1")` (its default, the value of a run that does not set it)."""
    if not isinstance(expr, cst.Call) or len(expr.args) not in (2, 3):
        return None
    if any(arg.keyword is not None or arg.star for arg in expr.args):
        return None
    name = dotted_name(expr.func)
    if name == "getattr" and len(expr.args) == 3:
        return expr.args[2].value
    if name.endswith(".get") and len(expr.args) == 2:
        return expr.args[1].value
    return None


@dataclass
class SafeEvaluator:
    """The model's evaluator, permissive: what the code leaves open is assumed and stated (argparse
    and parameter defaults, `len(loader)` as --steps-per-epoch), a one-parameter lambda becomes a
    function of the step, and anything else is refused with its reason. Never `eval`."""

    model: TrainingModel
    steps_per_epoch: int
    given: Given = field(default_factory=Given)  # what the user says: --set, --config
    frame: Frame | None = None  # the call the evaluated code runs in: a parameter is what its caller passes
    assumptions: list[str] = field(default_factory=list)
    bindings: dict[str, Any] = field(default_factory=dict)  # a lambda's parameter, while it is called
    _resolving: set[str] = field(default_factory=set)  # names whose run-at-the-defaults value is being read
    _read_once: dict[tuple[int, int], object] = field(default_factory=dict)  # (node, frame) -> value
    _names_read: dict[int, set[str]] = field(default_factory=dict)  # node -> the names in it

    def __post_init__(self) -> None:
        self._values = ValueEvaluator(self.model.index, self.model.metadata, leaf=self._assumed)

    def value(self, expr: cst.BaseExpression) -> Any:
        found = self._values.value(expr, self.bindings)
        if found is MISSING:
            raise CannotSimulate(f"`{self.model.code(expr)}` cannot be evaluated before the run")
        return found

    def condition(self, test: cst.BaseExpression) -> bool:
        return bool(self.value(test))

    def _assumed(self, expr: cst.BaseExpression) -> object:
        """What the strict evaluator leaves unknown: assumed and stated, or refused. A name or an
        attribute that does not depend on the step is read once, not at every step of a schedule."""
        if self._reads_bindings(expr):
            return self._read(expr)
        key = (id(expr), id(self.frame))
        if key not in self._read_once:
            self._read_once[key] = self._read(expr)
        return self._read_once[key]

    def _reads_bindings(self, expr: cst.BaseExpression) -> bool:
        if not self.bindings:
            return False
        names = self._names_read.get(id(expr))
        if names is None:
            names = self._names_read[id(expr)] = {n.value for n in walk(expr) if isinstance(n, cst.Name)}
        return not names.isdisjoint(self.bindings)

    def _read(self, expr: cst.BaseExpression) -> object:
        code = self.model.code(expr)
        if isinstance(expr, cst.Lambda):
            return self._function(expr)
        if written_key(code) in self.given.values:
            self.assumptions.append(f"{code} = {self.given.values[written_key(code)]!r} (--set)")
            return self.given.values[written_key(code)]
        key = _configured_key(code, self.given.config)
        if key is not None:
            self.assumptions.append(f"{code} = {self.given.config[key]!r} ({key} in {self.given.config_name})")
            return self.given.config[key]
        function = self._file_function(expr) if isinstance(expr, cst.Call) else None
        if function is not None:
            assert isinstance(expr, cst.Call)
            return self._called(function, expr)
        field_value = self._field_default(expr) if isinstance(expr, cst.Attribute) else None
        if field_value is not None:
            value, origin, frame = field_value
            self.assumptions.append(f"{code} = {self.model.code(value)} ({origin})")
            return self._value_in(value, frame)
        stated = _stated_default(expr)
        if stated is not None:
            self.assumptions.append(f"{code} = {self.model.code(stated)} (the default it states)")
            return self.value(stated)
        default = self.model.values_by_default.default_of(expr) or self._option_default(expr)
        if default is not None:
            argparse = any(default is given for given in self.model.argparse_defaults.values())
            origin = "its argparse default" if argparse else f"as the code sets it, {self.model.where(default)}"
            self.assumptions.append(f"{code} = {self.model.code(default)} ({origin})")
            return self._value_in(default, None)
        written = self._written_option(expr)
        if written is not None:
            value, decided = written
            self.assumptions.append(f"{code} = {self.model.code(value)} (a run at the defaults: {decided})")
            return self._value_in(value, None)
        flag = self._flag_default(expr)
        if flag is not None:
            self.assumptions.append(f"{code} = {flag} (its argparse default: the flag is not given)")
            return flag
        if isinstance(expr, cst.Call) and dotted_name(expr.func) == "len" and len(expr.args) == 1:
            self.assumptions.append(f"{code} = {self.steps_per_epoch} (--steps-per-epoch)")
            return self.steps_per_epoch
        passed = self._passed(expr) if isinstance(expr, cst.Name) else None
        if passed is not None:
            return passed
        literal = self._literal_entry(expr) if isinstance(expr, cst.Subscript) else None
        if literal is not None:
            return literal
        fresh = self._fresh_run_value(expr) if isinstance(expr, cst.Name) else None
        if fresh is not None:
            value, skipped = fresh
            self.assumptions.append(f"{code} = {self.model.code(value)} (a run at the defaults: {skipped})")
            return self.value(value)
        default = self._parameter_default(expr) if isinstance(expr, cst.Name) else None
        if default is not None:
            self.assumptions.append(f"{code} = {self.model.code(default)} (the parameter's default)")
            return self.value(default)
        raise CannotSimulate(f"`{code}` is not known before the run", _how_to_give(code))

    def _value_in(self, expr: cst.BaseExpression, frame: Frame | None) -> object:
        """The value of code that runs in `frame` (a caller's argument, a dict its caller built)."""
        outer, self.frame = self.frame, frame
        saved, self.bindings = self.bindings, {}
        try:
            return self.value(expr)
        finally:
            self.frame, self.bindings = outer, saved

    def _origin(self, expr: cst.BaseExpression) -> tuple[cst.BaseExpression, Frame | None]:
        """What a name holds, followed through names bound once and through the parameters of the
        calls the code runs in (`train(cfg)` with `cfg = Config(...)`), with the frame it runs in."""
        frame = self.frame
        for _ in range(_MAX_FOLLOWED):
            if not isinstance(expr, cst.Name):
                break
            bound = self._values.bound_expression(expr)
            argument = frame.argument(expr.value) if frame is not None and _is_parameter(expr, frame) else None
            if bound is not None:
                expr = bound
            elif argument is not None and frame is not None:
                expr, frame = argument, frame.parent
            else:
                break
        return expr, frame

    def _passed(self, name: cst.Name) -> object:
        """A parameter of the function the code runs in: the value its caller passes (`fit(cfg, 3)`)."""
        frame = self.frame
        if frame is None or not _is_parameter(name, frame):
            return None
        argument = frame.argument(name.value)
        return None if argument is None else self._value_in(argument, frame.parent)

    def _literal_entry(self, subscript: cst.Subscript) -> object:
        """`config["lr"]` where `config` is a dict literal the code builds: that entry's value."""
        key = subscript_key(subscript)
        table, frame = self._origin(subscript.value)
        if key is None or not isinstance(table, cst.Dict):
            return None
        entry = next(
            (
                element.value
                for element in table.elements
                if isinstance(element, cst.DictElement)
                and isinstance(element.key, cst.SimpleString)
                and element.key.evaluated_value == key
            ),
            None,
        )
        return None if entry is None else self._value_in(entry, frame)

    def _option_default(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """`config["lr"]` with `config = vars(parser.parse_args())`, `cfg.lr` with `cfg = get_args()`
        returning them: the argparse default of that option."""
        option = self._option(expr)
        return self.model.values_by_default.option_default(option) if option is not None else None

    def _option(self, expr: cst.BaseExpression) -> str | None:
        """The parsed command-line option `expr` reads: `args.lr`, `config["lr"]` of `vars(args)`."""
        if (option := parsed_option(expr)) is not None:
            return option
        if isinstance(expr, cst.Attribute):
            option, holder = expr.attr.value, expr.value
        elif isinstance(expr, cst.Subscript) and (key := subscript_key(expr)) is not None:
            option, holder = key, expr.value
        else:
            return None
        return option if self._holds_options(holder) else None

    def _written_option(self, expr: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
        """`args.world_size = 1` under `if args.local_rank == -1:` and `= get_world_size()` under its
        `else`, in one function: the one a run at the defaults takes, after the argparse default."""
        option = self._option(expr)
        writes = self.model.values_by_default.option_writes(option) if option is not None else []
        if not writes or len({id(write.function) for write in writes}) != 1:
            return None
        default = self.model.argparse_defaults.get(option) if option is not None else None
        return self._assigned_at_defaults([*([_Default(default)] if default is not None else []), *writes], None)

    def _flag_default(self, expr: cst.BaseExpression) -> bool | None:
        """`args.resume` of `add_argument("--resume", action="store_true")`: False, unless the code sets it."""
        option = self._option(expr)
        if option is None or self.model.values_by_default.option_writes(option):
            return None
        return self.model.argparse_flags.get(option)

    def _holds_options(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """The parsed command line: `parser.parse_args()`, `vars(...)` of it, a function of the file
        that returns it, or a name or parameter bound to one of those."""
        expr, frame = self._origin(expr)
        if not isinstance(expr, cst.Call) or depth > _MAX_FOLLOWED:
            return False
        name = dotted_name(expr.func)
        if name.endswith(".parse_args"):
            return True
        outer, self.frame = self.frame, frame
        try:
            if name == "vars" and len(expr.args) == 1:
                return self._holds_options(expr.args[0].value, depth + 1)
            function = self._file_function(expr)
            returns = self.model.index.functions[function].returns if function is not None else []
            return len(returns) == 1 and self._holds_options(returns[0], depth + 1)
        finally:
            self.frame = outer

    def _fresh_run_value(self, name: cst.Name) -> tuple[cst.BaseExpression, str] | None:
        """`start_epoch = 0`, then `if args.resume: start_epoch = checkpoint["epoch"]`: the value of a
        run at the defaults, when every assignment after the last unconditional one is under an `if`
        that is false there; with the tests that were false."""
        if name.value in self._resolving:  # `if not done: done = ...`: its own test
            return None
        self._resolving.add(name.value)
        try:
            return self._value_at_defaults(name)
        finally:
            self._resolving.discard(name.value)

    def _value_at_defaults(self, name: cst.Name) -> tuple[cst.BaseExpression, str] | None:
        scope = self.model.metadata.scope(name)
        assignments = list(scope[name.value]) if scope is not None else []
        bound = [
            self.model.index.name_values.get(a.node)
            if isinstance(a, Binding) and isinstance(a.node, cst.Name)
            else None
            for a in assignments
        ]
        if len(bound) < 2 or any(b is None or b.path for b in bound):
            return None
        ordered = sorted((b for b in bound if b is not None), key=lambda b: self._binding_order[b.value])
        return self._assigned_at_defaults(ordered, name.value)

    def _assigned_at_defaults(
        self, ordered: Sequence[_Assignment], name: str | None
    ) -> tuple[cst.BaseExpression, str] | None:
        """The assignment, of several in the order they run, whose value a run at the defaults keeps:
        each `if` around one is evaluated (with `name` at the value it has there) and must be decided;
        none may be in a loop or a `+=`. With the tests that decided, as the reason."""
        current: cst.BaseExpression | None = None
        decided: list[str] = []
        for assignment in ordered:
            tests = conditions(assignment.guards)
            if assignment.in_loop or assignment.value is None:
                return None
            deciding = self._deciding_guard(tests, name, current) if tests else None
            if tests and deciding is None:
                return None
            if deciding is not None:
                guard, holds = deciding
                decided.append(f"`if {self.model.code(guard.test)}` is {str(holds != guard.negated).lower()}")
                current = assignment.value if holds else current
            else:
                current = assignment.value
        return (current, ", ".join(dict.fromkeys(decided))) if current is not None and decided else None

    def _deciding_guard(
        self, tests: tuple[Guard, ...], name: str | None, current: cst.BaseExpression | None
    ) -> tuple[Guard, bool] | None:
        """Whether every test holds, with `name` at its value so far, and the test that decides it
        (the first that fails, else the last); None when one cannot be told."""
        saved = dict(self.bindings)
        try:
            if name is not None and current is not None:
                self.bindings[name] = self.value(current)
            for guard in tests:
                if self.condition(guard.test) == guard.negated:
                    return guard, False
            return tests[-1], True
        except CannotSimulate:
            return None
        finally:
            self.bindings.clear()
            self.bindings.update(saved)

    @cached_property
    def _binding_order(self) -> dict[cst.BaseExpression, int]:
        return {bound.value: order for order, bound in enumerate(self.model.index.name_values.values())}

    def _parameter_default(self, name: cst.Name) -> cst.BaseExpression | None:
        scope = self.model.metadata.scope(name)
        assignments = list(scope[name.value]) if scope is not None else []
        node = assignments[0].node if len(assignments) == 1 and isinstance(assignments[0], Binding) else None
        return node.default if isinstance(node, cst.Param) and node.star == "" else None

    def _field_default(self, attribute: cst.Attribute) -> tuple[cst.BaseExpression, str, Frame | None] | None:
        """`cfg.lr` where `cfg = Config(...)` builds a class of the file: the keyword the call passes,
        else the class body's `lr: float = 0.1` (a dataclass field, a class attribute)."""
        if not isinstance(attribute.value, cst.Name):
            return None
        built, frame = self._origin(attribute.value)
        if not (isinstance(built, cst.Call) and isinstance(built.func, cst.Name)):
            return None
        name = attribute.attr.value
        passed = next((arg.value for arg in built.args if arg.keyword is not None and arg.keyword.value == name), None)
        if passed is not None:
            return passed, f"passed to {built.func.value}(...)", frame
        classes = [c for c in self.model.index.classes.values() if c.name == built.func.value]
        if len(classes) != 1 or any(arg.keyword is None for arg in built.args):
            return None  # positional arguments would need the field order
        for statement in classes[0].node.body.body:
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
            value: cst.BaseExpression | None = None
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == name:
                value = small.value
            elif isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                value = small.value if isinstance(target, cst.Name) and target.value == name else None
            if value is not None:
                return value, f"{built.func.value}'s default", None
        return None

    def _file_function(self, call: cst.Call) -> cst.FunctionDef | None:
        """The function of the file a call names (`get_lr(it)`), if there is one."""
        return self._defined_function(call.func) if isinstance(call.func, cst.Name) else None

    def _defined_function(self, name: cst.Name) -> cst.FunctionDef | None:
        """The `def` a name refers to where it is used, at module level or nested in a function."""
        scope = self.model.metadata.scope(name)
        assignments = list(scope[name.value]) if scope is not None else []
        node = assignments[0].node if len(assignments) == 1 and isinstance(assignments[0], Binding) else None
        return node if isinstance(node, cst.FunctionDef) else None

    def _called(self, function: cst.FunctionDef, call: cst.Call) -> object:
        """The value a function of pure arithmetic returns (`def get_lr(it): if it < warmup: return ...`),
        run statement by statement by this evaluator: assignments, `if`, `return`, nothing else."""
        params = list(function.params.params)
        positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if len(positional) > len(params) or any(arg.star for arg in call.args):
            raise CannotSimulate(f"`{self.model.code(call)}`: arguments lrlint cannot bind")
        env: dict[str, Any] = {}
        for param, arg in zip(params, positional, strict=False):
            env[param.name.value] = self.value(arg.value)
        keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
        for param in params[len(positional) :]:
            given = keywords.get(param.name.value, param.default)
            if given is None:
                raise CannotSimulate(f"`{self.model.code(call)}` leaves `{param.name.value}` unbound")
            env[param.name.value] = self.value(given)
        return self.run_function(function, env)

    def run_function(self, function: cst.FunctionDef, env: dict[str, Any]) -> object:
        """Run a function of the file with its parameters bound in `env`: its returned value."""
        outer, self.bindings = self.bindings, env
        try:
            result = self._run(function.body, function.name.value)
        finally:
            self.bindings = outer
        if result is _NO_RETURN:
            raise CannotSimulate(f"`{function.name.value}` returns nothing lrlint can see")
        return result

    def step_function(self, name: cst.Name) -> Callable[[int], float] | None:
        """`LambdaLR(opt, lr_lambda)` with `def lr_lambda(epoch): ...` in the file: a function of the step."""
        function = self._defined_function(name)
        if function is None or len(function.params.params) != 1:
            return None
        parameter = function.params.params[0].name.value

        def call(step: int) -> float:
            return float(self.run_function(function, {parameter: step}))  # type: ignore[arg-type]

        call(0)  # refuse now what cannot be evaluated
        return call

    def _run(self, block: cst.BaseSuite | cst.BaseStatement, name: str) -> object:
        statements = block.body if isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)) else [block]
        for statement in statements:
            if isinstance(statement, cst.If):
                branch = statement.body if self.condition(statement.test) else statement.orelse
                result = _NO_RETURN if branch is None else self._run(_branch_block(branch), name)
            elif isinstance(statement, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                result = next(
                    (found for small in statement.body if (found := self._small(small, name)) is not _NO_RETURN),
                    _NO_RETURN,
                )
            else:
                result = self._small(statement, name)
            if result is not _NO_RETURN:
                return result
        return _NO_RETURN

    def _small(self, statement: cst.CSTNode, name: str) -> object:
        if isinstance(statement, cst.Return) and statement.value is not None:
            return self.value(statement.value)
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
            target = statement.targets[0].target
            if isinstance(target, cst.Name):
                self.bindings[target.value] = self.value(statement.value)
                return _NO_RETURN
        if isinstance(statement, cst.Pass) or (
            isinstance(statement, cst.Expr) and isinstance(statement.value, cst.SimpleString)
        ):
            return _NO_RETURN
        raise CannotSimulate(f"`{name}` does more than arithmetic (`{self.model.code(statement)}`)")

    def _function(self, function: cst.Lambda) -> Callable[[int], float]:
        """A one-parameter lambda of pure arithmetic, evaluated by this evaluator at every call."""
        params = function.params.params
        extra = function.params.posonly_params or function.params.kwonly_params or function.params.star_kwarg
        if len(params) != 1 or isinstance(function.params.star_arg, cst.Param) or extra:
            raise CannotSimulate(f"`{self.model.code(function)}` does not take just the step number")
        name = params[0].name.value

        def call(step: int) -> float:
            self.bindings[name] = step
            try:
                return float(self.value(function.body))
            finally:
                del self.bindings[name]

        call(0)  # refuse now, not in the middle of torch's constructor, what cannot be evaluated
        return call
