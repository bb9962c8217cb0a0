"""Reading the code's arguments without running it: the model's evaluator, permissive.

What the code leaves open is assumed and stated (argparse and parameter defaults, `len(loader)`,
values given with --set, the defaults a lookup states), or refused with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import Assignment

from lrlint.model import Frame, StepCadence, TrainingModel
from lrlint.model.syntax import dotted_name
from lrlint.model.values import MISSING, ValueEvaluator


class CannotSimulate(Exception):
    """The reason, shown as `cannot simulate: <reason>`."""


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
        """What the strict evaluator leaves unknown: assumed and stated, or refused."""
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
            value, origin = field_value
            self.assumptions.append(f"{code} = {self.model.code(value)} ({origin})")
            return self.value(value)
        stated = _stated_default(expr)
        if stated is not None:
            self.assumptions.append(f"{code} = {self.model.code(stated)} (the default it states)")
            return self.value(stated)
        default = self.model.values_by_default.default_of(expr)
        if default is not None:
            self.assumptions.append(f"{code} = {self.model.code(default)} (its argparse default)")
            return self.value(default)
        if isinstance(expr, cst.Call) and dotted_name(expr.func) == "len" and len(expr.args) == 1:
            self.assumptions.append(f"{code} = {self.steps_per_epoch} (--steps-per-epoch)")
            return self.steps_per_epoch
        passed = self._passed(expr) if isinstance(expr, cst.Name) else None
        if passed is not None:
            return passed
        literal = self._literal_entry(expr) if isinstance(expr, cst.Subscript) else None
        if literal is not None:
            return self.value(literal)
        default = self._parameter_default(expr) if isinstance(expr, cst.Name) else None
        if default is not None:
            self.assumptions.append(f"{code} = {self.model.code(default)} (the parameter's default)")
            return self.value(default)
        raise CannotSimulate(f"`{code}` is not known before the run")

    def _passed(self, name: cst.Name) -> object:
        """A parameter of the function the code runs in: the value its caller passes (`fit(cfg, 3)`)."""
        frame = self.frame
        if frame is None or not any(p.name.value == name.value for p in frame.function.params):
            return None
        argument = frame.argument(name.value)
        if argument is None:
            return None
        outer, self.frame = self.frame, frame.parent
        saved, self.bindings = self.bindings, {}
        try:
            return self.value(argument)
        finally:
            self.frame, self.bindings = outer, saved

    def _literal_entry(self, subscript: cst.Subscript) -> cst.BaseExpression | None:
        """`config["lr"]` where `config` is a dict literal the code builds: that entry's value."""
        keys = [e.slice.value for e in subscript.slice if isinstance(e.slice, cst.Index)]
        if len(keys) != 1 or not isinstance(keys[0], cst.SimpleString) or not isinstance(subscript.value, cst.Name):
            return None
        table = self._values.bound_expression(subscript.value)
        if table is None and self.frame is not None:
            argument = self.frame.argument(subscript.value.value)
            table = self._values.bound_expression(argument) if isinstance(argument, cst.Name) else argument
        if not isinstance(table, cst.Dict):
            return None
        wanted = keys[0].evaluated_value
        return next(
            (
                element.value
                for element in table.elements
                if isinstance(element, cst.DictElement)
                and isinstance(element.key, cst.SimpleString)
                and element.key.evaluated_value == wanted
            ),
            None,
        )

    def _parameter_default(self, name: cst.Name) -> cst.BaseExpression | None:
        scope = self.model.metadata.scope(name)
        assignments = list(scope[name.value]) if scope is not None else []
        node = assignments[0].node if len(assignments) == 1 and isinstance(assignments[0], Assignment) else None
        return node.default if isinstance(node, cst.Param) and node.star == "" else None

    def _field_default(self, attribute: cst.Attribute) -> tuple[cst.BaseExpression, str] | None:
        """`cfg.lr` where `cfg = Config(...)` builds a class of the file: the keyword the call passes,
        else the class body's `lr: float = 0.1` (a dataclass field, a class attribute)."""
        if not isinstance(attribute.value, cst.Name):
            return None
        built = self._values.bound_expression(attribute.value)
        if not (isinstance(built, cst.Call) and isinstance(built.func, cst.Name)):
            return None
        name = attribute.attr.value
        passed = next((arg.value for arg in built.args if arg.keyword is not None and arg.keyword.value == name), None)
        if passed is not None:
            return passed, f"passed to {built.func.value}(...)"
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
                return value, f"{built.func.value}'s default"
        return None

    def _file_function(self, call: cst.Call) -> cst.FunctionDef | None:
        """The module-level function of the file a call names (`get_lr(it)`), if there is one."""
        name = call.func.value if isinstance(call.func, cst.Name) else None
        found = [f.node for f in self.model.index.functions.values() if f.qualname == name and f.class_info is None]
        return found[0] if len(found) == 1 and isinstance(found[0], cst.FunctionDef) else None

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
        found = [f.node for f in self.model.index.functions.values() if f.qualname == name.value]
        function = found[0] if len(found) == 1 and isinstance(found[0], cst.FunctionDef) else None
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
                result = self._run(cst.SimpleStatementSuite(body=statement.body), name)
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
