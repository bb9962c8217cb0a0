"""Compile-time values: literals, module constants, simple arithmetic and conditions over them.

Names can also be given values from outside (`bindings`): the loop counters of a first
iteration, when a rule asks whether a guarded step runs then. Anything else is `MISSING`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping

import libcst as cst

from lrlint.model.metadata import Metadata
from lrlint.model.scopes import Binding
from lrlint.model.syntax import AttributeWrite, SyntaxIndex, dotted_name, walk

MISSING = object()


class NotKnown(Exception):
    """A value the code leaves open, for an evaluator that raises rather than answer MISSING."""


_MAX_DEPTH = 20

_BINARY: dict[type, Callable[[float, float], float]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Power: operator.pow,
    cst.Modulo: operator.mod,
}
_COMPARISONS: dict[type, Callable[[object, object], bool]] = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,  # type: ignore[dict-item]
    cst.LessThanEqual: operator.le,  # type: ignore[dict-item]
    cst.GreaterThan: operator.gt,  # type: ignore[dict-item]
    cst.GreaterThanEqual: operator.ge,  # type: ignore[dict-item]
    cst.In: lambda item, container: item in container,  # type: ignore[operator]
    cst.NotIn: lambda item, container: item not in container,  # type: ignore[operator]
}
_CONSTANTS = {"True": True, "False": False, "None": None}
# Named constants and pure functions of the standard library, by dotted or qualified name: the
# common cosine `0.5 * (1 + math.cos(math.pi * e / T))` must evaluate.
_MATH_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "math.tau": math.tau, "math.inf": math.inf}
_PURE_FUNCTIONS: dict[str, Callable[..., object]] = {
    "int": int,
    "float": float,
    "round": round,
    "min": min,
    "max": max,
    "abs": abs,
    **{
        f"math.{name}": getattr(math, name)
        for name in ("ceil", "floor", "sqrt", "exp", "log", "log2", "log10", "cos", "sin", "tan", "pow", "fabs")
    },
}
# An evaluator's answer for what it cannot evaluate itself (an expression of the code): a value,
# MISSING, or an exception that says why (simulate's CannotSimulate).
Leaf = Callable[[cst.BaseExpression], object]


# The names parsed command-line options go by (`args = parser.parse_args()`); a config object's
# attribute of the same name as an option is not that option.
_PARSED = frozenset({"args", "opt", "opts", "arguments", "flags", "cli_args", "parsed_args"})


def parsed_option(expr: cst.BaseExpression) -> str | None:
    """`args.lr`: the option "lr", for the names parsed options go by."""
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value in _PARSED:
        return expr.attr.value
    return None


class ValueEvaluator:
    """Evaluates an expression only from literals, names bound once to literals, and `bindings`."""

    def __init__(
        self,
        index: SyntaxIndex,
        metadata: Metadata,
        attribute_defaults: Mapping[str, cst.BaseExpression] | None = None,
        leaf: Leaf | None = None,
    ) -> None:
        self.index = index
        self.metadata = metadata
        # `args.step_size` -> the argparse default of `--step-size`, for evaluators that assume them
        self.attribute_defaults = attribute_defaults or {}
        # Strict (rules): what is not known is MISSING. Permissive (simulate): `leaf` assumes a value
        # for it and says so, or raises.
        self.leaf = leaf
        self._names: dict[int, set[str]] = {}  # by node: the nodes live as long as the tree
        self._literals: dict[int, object] = {}

    def named(self, node: cst.BaseExpression) -> set[str]:
        """`math.cos` however it is imported (`import math as m`: `m.cos`), or as written; read once
        per node, as a schedule function is evaluated at every step."""
        found = self._names.get(id(node))
        if found is None:
            found = self._names[id(node)] = {dotted_name(node), *self.metadata.qualified_names(node)} - {""}
        return found

    def literal(self, node: cst.Integer | cst.Float | cst.SimpleString) -> object:
        if id(node) not in self._literals:
            self._literals[id(node)] = node.evaluated_value
        return self._literals[id(node)]

    def default_of(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The default assumed for `args.<name>`, if this evaluator assumes one."""
        option = parsed_option(expr)
        return self.option_default(option) if option is not None else None

    def option_default(self, option: str) -> cst.BaseExpression | None:
        """What a run without flags has in the parsed option `option`: its argparse default, or what
        the code sets it to (`args.total_steps = args.epochs * args.iters`, once, unconditionally);
        None when the code changes it otherwise (`args.lr *= world_size`, under an `if`)."""
        if not self.attribute_defaults:
            return None
        writes = self.option_writes(option)
        if not writes:
            return self.attribute_defaults.get(option)
        (write,) = writes if len(writes) == 1 else (None,)
        if write is None or write.value is None or write.conditional or _reads_attribute(write.value, option):
            return None
        return write.value

    def option_writes(self, option: str) -> list[AttributeWrite]:
        """`args.<option> = ...` in the code, on parsed command-line options."""
        writes = self.index.attribute_writes.get(option, [])
        return [w for w in writes if isinstance(w.target.value, cst.Name) and w.target.value.value in _PARSED]

    def value(
        self,
        expr: cst.BaseExpression | None,
        bindings: Mapping[str, object] | None = None,
        counts_nonnegative: bool = False,
    ) -> object:
        """The value, or `MISSING` when it is not known at lint time.

        With `counts_nonnegative`, a name or attribute whose value is unknown is taken to be a count
        (an epoch number, a number of warmup epochs): `0 <= warmup_epochs` holds, `0 > n` does not.
        """
        if expr is None:
            return MISSING
        try:
            return _Evaluation(self, bindings or {}, counts_nonnegative).value(expr, depth=0)
        except (ArithmeticError, TypeError, ValueError, OverflowError):
            return MISSING

    def constant(self, name: cst.Name, depth: int) -> object:
        """The value of a name bound once, to something evaluable without bindings."""
        bound = self.bound_expression(name)
        return MISSING if bound is None else _Evaluation(self, {}, False).value(bound, depth + 1)

    def bound_expression(self, name: cst.Name) -> cst.BaseExpression | None:
        """The expression a name is bound to, when its scope binds it once, by a plain assignment."""
        scope = self.metadata.scope(name)
        if scope is None:
            return None
        assignments = list(scope[name.value])
        if len(assignments) != 1 or not isinstance(assignments[0], Binding):
            return None
        node = assignments[0].node
        bound = self.index.name_values.get(node) if isinstance(node, cst.Name) else None
        if bound is None:
            return None
        value: cst.BaseExpression = bound.value
        for position in bound.path:  # `warmup, total = 100, 1000`: the element of a literal tuple
            if not isinstance(value, (cst.Tuple, cst.List)) or not isinstance(position, int):
                return None
            if position >= len(value.elements):
                return None
            element = value.elements[position]
            if isinstance(element, cst.StarredElement):
                return None
            value = element.value
        return value


class _Evaluation:
    """One evaluation: the evaluator's constants, the caller's bindings and assumptions."""

    def __init__(self, evaluator: ValueEvaluator, bindings: Mapping[str, object], counts_nonnegative: bool) -> None:
        self.evaluator = evaluator
        self.bindings = bindings
        self.counts_nonnegative = counts_nonnegative

    def value(self, expr: cst.BaseExpression, depth: int) -> object:
        return self._value(expr, self.bindings, depth)

    def _value(self, expr: cst.BaseExpression, bindings: Mapping[str, object], depth: int) -> object:
        if depth > _MAX_DEPTH:
            return MISSING
        if isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString)):
            return self.evaluator.literal(expr)
        if isinstance(expr, cst.Name):
            if expr.value in bindings:
                return bindings[expr.value]
            if expr.value in _CONSTANTS:
                return _CONSTANTS[expr.value]
            found = self.evaluator.constant(expr, depth)
            return found if found is not MISSING else self._leaf(expr)
        if isinstance(expr, cst.IfExp):
            test = self._value(expr.test, bindings, depth + 1)
            return MISSING if test is MISSING else self._value(expr.body if test else expr.orelse, bindings, depth + 1)
        if isinstance(expr, cst.Call):
            return self._call(expr, bindings, depth)
        if isinstance(expr, cst.Attribute) and self._named(expr) & _MATH_CONSTANTS.keys():
            return _MATH_CONSTANTS[min(self._named(expr) & _MATH_CONSTANTS.keys())]
        if isinstance(expr, cst.UnaryOperation):
            return self._unary(expr, bindings, depth)
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr, bindings, depth)
        if isinstance(expr, cst.Comparison):
            return self._comparison(expr, bindings, depth)
        if isinstance(expr, cst.BooleanOperation):
            return self._boolean(expr, bindings, depth)
        default = self.evaluator.default_of(expr)
        if default is not None:
            return self._value(default, {}, depth + 1)
        if isinstance(expr, (cst.List, cst.Tuple)):
            items = [self._value(e.value, bindings, depth + 1) for e in expr.elements if isinstance(e, cst.Element)]
            if len(items) != len(expr.elements) or any(item is MISSING for item in items):
                return MISSING
            return items
        return self._leaf(expr)

    def _leaf(self, expr: cst.BaseExpression) -> object:
        return self.evaluator.leaf(expr) if self.evaluator.leaf is not None else MISSING

    def _named(self, node: cst.BaseExpression) -> set[str]:
        return self.evaluator.named(node)

    def _call(self, call: cst.Call, bindings: Mapping[str, object], depth: int) -> object:
        names = {name.removeprefix("builtins.") for name in self._named(call.func)}
        function = next((_PURE_FUNCTIONS[name] for name in sorted(names) if name in _PURE_FUNCTIONS), None)
        if function is None or any(arg.keyword is not None or arg.star for arg in call.args):
            return self._leaf(call)
        arguments = [self._value(arg.value, bindings, depth + 1) for arg in call.args]
        return MISSING if any(a is MISSING for a in arguments) else function(*arguments)

    def _unary(self, expr: cst.UnaryOperation, bindings: Mapping[str, object], depth: int) -> object:
        operand = self._value(expr.expression, bindings, depth + 1)
        if operand is MISSING:
            return MISSING
        if isinstance(expr.operator, cst.Not):
            return not operand
        if isinstance(expr.operator, cst.Minus) and _is_number(operand):
            return -operand  # type: ignore[operator]
        if isinstance(expr.operator, cst.Plus) and _is_number(operand):
            return operand
        return MISSING

    def _binary(self, expr: cst.BinaryOperation, bindings: Mapping[str, object], depth: int) -> object:
        apply = _BINARY.get(type(expr.operator))
        left, right = self._value(expr.left, bindings, depth + 1), self._value(expr.right, bindings, depth + 1)
        if apply is None or not (_is_number(left) and _is_number(right)):
            return MISSING
        if isinstance(expr.operator, cst.Power) and abs(right) > 64:  # type: ignore[arg-type]
            return MISSING
        return apply(left, right)  # type: ignore[arg-type]

    def _comparison(self, expr: cst.Comparison, bindings: Mapping[str, object], depth: int) -> object:
        left_node, left = expr.left, self._value(expr.left, bindings, depth + 1)
        for target in expr.comparisons:
            compare = _COMPARISONS.get(type(target.operator))
            right = self._value(target.comparator, bindings, depth + 1)
            if compare is None:
                return MISSING
            if left is MISSING or right is MISSING:
                decided = self._against_a_count(left_node, left, target.operator, target.comparator, right)
                if decided is not True:
                    return decided  # False, or MISSING
            elif not compare(left, right):
                return False
            left_node, left = target.comparator, right
        return True

    def _against_a_count(
        self,
        left_node: cst.BaseExpression,
        left: object,
        operator_: cst.BaseCompOp,
        right_node: cst.BaseExpression,
        right: object,
    ) -> object:
        """`0 <= n` / `n >= 0` hold and `0 > n` / `n < 0` do not, for an unknown count `n`."""
        if not self.counts_nonnegative:
            return MISSING
        if left == 0 and right is MISSING and isinstance(right_node, (cst.Name, cst.Attribute, cst.Subscript)):
            return {cst.LessThanEqual: True, cst.GreaterThan: False}.get(type(operator_), MISSING)
        if right == 0 and left is MISSING and isinstance(left_node, (cst.Name, cst.Attribute, cst.Subscript)):
            return {cst.GreaterThanEqual: True, cst.LessThan: False}.get(type(operator_), MISSING)
        return MISSING

    def _boolean(self, expr: cst.BooleanOperation, bindings: Mapping[str, object], depth: int) -> object:
        """`and` / `or`, knowing the result when one side decides it although the other is unknown."""
        decisive = isinstance(expr.operator, cst.Or)  # True decides an `or`, False an `and`
        left = self._value(expr.left, bindings, depth + 1)
        if left is not MISSING and bool(left) is decisive:
            return decisive  # as Python does, without evaluating the right side (simulate would refuse it)
        right = self._value(expr.right, bindings, depth + 1)
        if right is not MISSING and bool(right) is decisive:
            return decisive
        if left is MISSING or right is MISSING:
            return MISSING
        return not decisive


def _reads_attribute(expr: cst.BaseExpression, attribute: str) -> bool:
    return any(isinstance(node, cst.Attribute) and node.attr.value == attribute for node in walk(expr))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_known(value: object) -> bool:
    return value is not MISSING


def argparse_defaults(calls: Iterable[cst.Call]) -> dict[str, cst.BaseExpression]:
    """`parser.add_argument("--lr-step", default=30)` -> {"lr_step": 30}, for `args.lr_step`."""
    defaults = {}
    for call in calls:
        if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_argument"):
            continue
        keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword}
        name = _option_name(call, keywords)
        if name is not None and "default" in keywords:
            defaults[name] = _typed(keywords["default"], keywords.get("type"))
    return defaults


def argparse_flags(calls: Iterable[cst.Call]) -> dict[str, bool]:
    """`parser.add_argument("--resume", action="store_true")` -> {"resume": False}: what a run
    without the flag has."""
    flags = {}
    for call in calls:
        if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "add_argument"):
            continue
        keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword}
        action = keywords.get("action")
        stored = {"store_true": False, "store_false": True}.get(
            action.evaluated_value if isinstance(action, cst.SimpleString) else None  # type: ignore[arg-type]
        )
        name = _option_name(call, keywords)
        if stored is not None and name is not None and "default" not in keywords:
            flags[name] = stored
    return flags


def _typed(default: cst.BaseExpression, type_: cst.BaseExpression | None) -> cst.BaseExpression:
    """argparse converts a string default with the option's type: `type=int, default="200"` is 200."""
    if isinstance(default, cst.SimpleString) and isinstance(type_, cst.Name) and type_.value in ("int", "float"):
        return cst.Call(func=cst.Name(type_.value), args=[cst.Arg(default)])
    return default


def _option_name(call: cst.Call, keywords: Mapping[str, cst.BaseExpression]) -> str | None:
    """Where argparse stores an option: `dest=`, else its first long flag (`--lr-step`: lr_step)."""
    dest = keywords.get("dest")
    if isinstance(dest, cst.SimpleString) and isinstance(dest.evaluated_value, str):
        return dest.evaluated_value
    flags = [arg.value.evaluated_value for arg in call.args if isinstance(arg.value, cst.SimpleString)]
    long_flags = [flag for flag in flags if isinstance(flag, str) and flag.startswith("--")]
    return long_flags[0][2:].replace("-", "_") if long_flags else None
