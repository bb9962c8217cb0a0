"""How many times a run steps a scheduler, as a count lrlint can compare with the schedule's size.

A `Count` is a polynomial over the values lrlint cannot evaluate, each named by its source text
(`len(train_loader)`, `cfg.epochs`): `OneCycleLR(epochs=10, steps_per_epoch=len(loader))` is
`10 * len(loader)` steps, and a step in `for batch in loader:` inside `for epoch in range(20):` runs
`20 * len(loader)` times, whatever `len(loader)` is. Names a parameter receives are read at the call
site, so `len(loader)` in `train_one_epoch(model, train_loader, ...)` is `len(train_loader)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import libcst as cst

from lrlint.model.syntax import Guard, called_name, positional_values
from lrlint.model.trace import Frame, Loop, LoopKind, StepCadence, Trace, TraceItem, guard_names
from lrlint.model.values import ValueEvaluator

Term = tuple[str, ...]  # the unknown factors of one term, sorted
_MAX_DEPTH = 12
# Calls that pass their first argument's count through: rounding, progress bars, iteration.
_SAME_COUNT = frozenset({"int", "round", "ceil", "floor"})
_WRAPS_ITERABLE = frozenset({"enumerate", "tqdm", "iter", "progress_bar", "track"})
_RANGES = frozenset({"range", "trange"})


@dataclass(frozen=True)
class Count:
    terms: tuple[tuple[Term, Fraction], ...]  # sorted by term, no zero coefficients

    @staticmethod
    def of(number: Fraction | int) -> Count:
        return Count((((), Fraction(number)),) if number else ())

    @staticmethod
    def symbol(text: str) -> Count:
        return Count((((text,), Fraction(1)),))

    @staticmethod
    def _normal(terms: dict[Term, Fraction]) -> Count:
        return Count(tuple(sorted((term, c) for term, c in terms.items() if c)))

    def __add__(self, other: Count) -> Count:
        terms = dict(self.terms)
        for term, c in other.terms:
            terms[term] = terms.get(term, Fraction(0)) + c
        return Count._normal(terms)

    def __sub__(self, other: Count) -> Count:
        return self + other.scaled(Fraction(-1))

    def __mul__(self, other: Count) -> Count:
        terms: dict[Term, Fraction] = {}
        for left, a in self.terms:
            for right, b in other.terms:
                term = _product(left, right)
                terms[term] = terms.get(term, Fraction(0)) + a * b
        return Count._normal(terms)

    def scaled(self, factor: Fraction) -> Count:
        return Count._normal({term: c * factor for term, c in self.terms})

    def divided(self, other: Count) -> Count | None:
        """`self / other` when `other` is one term (`len(loader) / accum`), None for a sum or zero."""
        if len(other.terms) != 1:
            return None
        ((divisor, c),) = other.terms
        inverse = Count(((tuple(_inverse(f) for f in divisor), 1 / c),))
        return self * inverse

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        ordered = sorted(self.terms, key=lambda pair: not pair[0])  # the constant last: `epochs * n + 1`
        return " + ".join(_term_text(term, c) for term, c in ordered).replace("+ -", "- ")

    def evaluated(self, value_of: Callable[[str], Fraction | None]) -> Fraction | None:
        """The count with each unknown factor given a value (`len(loader)` -> 100); None if one has none."""
        total = Fraction(0)
        for term, coefficient in self.terms:
            product = coefficient
            for factor in term:
                value = value_of(factor.removeprefix("/"))
                if value is None or value == 0:
                    return None
                product = product / value if factor.startswith("/") else product * value
            total += product
        return total

    @property
    def number(self) -> Fraction | None:
        """The value, when no unknown factor remains."""
        if not self.terms:
            return Fraction(0)
        return self.terms[0][1] if len(self.terms) == 1 and not self.terms[0][0] else None

    def ratio_to(self, other: Count) -> Fraction | None:
        """c such that self = c * other, when there is one (the unknowns cancel out)."""
        if not other.terms:
            return None
        term, c = other.terms[0]
        mine = dict(self.terms)
        ratio = mine.get(term, Fraction(0)) / c
        return ratio if ratio and self == other.scaled(ratio) else None


def _inverse(factor: str) -> str:
    return factor[1:] if factor.startswith("/") else "/" + factor


def _product(left: Term, right: Term) -> Term:
    """The factors of two terms multiplied: `x` and `/x` cancel."""
    factors = list(left)
    for factor in right:
        if _inverse(factor) in factors:
            factors.remove(_inverse(factor))
        else:
            factors.append(factor)
    return tuple(sorted(factors))


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 11th, 22nd."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _term_text(term: Term, coefficient: Fraction) -> str:
    if not term:
        return _number_text(coefficient)
    above = [f for f in term if not f.startswith("/")]
    below = [f[1:] for f in term if f.startswith("/")]
    if coefficient.numerator != 1 or not above:
        above.insert(0, str(coefficient.numerator))
    if coefficient.denominator != 1:
        below.insert(0, str(coefficient.denominator))
    return " * ".join(above) + "".join(f" / {f}" for f in below)


def _number_text(number: Fraction) -> str:
    return str(number.numerator) if number.denominator == 1 else f"{float(number):g}"


class Counter:
    """Reads expressions as counts, in the frame of the replay they run in."""

    def __init__(self, values: ValueEvaluator, code_of: Callable[[cst.CSTNode], str]) -> None:
        self.values = values
        self.code_of = code_of

    def count(self, expr: cst.BaseExpression, frame: Frame | None, depth: int = 0) -> Count | None:
        if depth > _MAX_DEPTH:
            return None
        value = self.values.value(expr)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return Count.of(Fraction(str(value)) if isinstance(value, float) else value)
        if isinstance(expr, cst.BinaryOperation):
            return self._arithmetic(expr, frame, depth)
        if isinstance(expr, cst.Call):
            return self._call(expr, frame, depth)
        if isinstance(expr, cst.Name):
            aliased = self._alias(expr, frame)
            if aliased is not None:
                return self.count(aliased[0], aliased[1], depth + 1)
        if isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript)):
            return Count.symbol(self.code_of(expr))
        return None

    def _arithmetic(self, expr: cst.BinaryOperation, frame: Frame | None, depth: int) -> Count | None:
        left, right = self.count(expr.left, frame, depth + 1), self.count(expr.right, frame, depth + 1)
        if left is None or right is None:
            return None
        operator = expr.operator
        if isinstance(operator, cst.Add):
            return left + right
        if isinstance(operator, cst.Subtract):
            return left - right
        if isinstance(operator, cst.Multiply):
            return left * right
        if isinstance(operator, (cst.Divide, cst.FloorDivide)):  # a floor is within one step of the quotient
            return left.divided(right) if right.number != 0 else None
        return None

    def _call(self, call: cst.Call, frame: Frame | None, depth: int) -> Count | None:
        name = called_name(call.func)
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return None
        argument = call.args[0].value
        if name == "len":
            return Count.symbol(f"len({self.iterable_text(argument, frame)})")
        return self.count(argument, frame, depth + 1) if name in _SAME_COUNT else None

    def _alias(self, name: cst.Name, frame: Frame | None) -> tuple[cst.BaseExpression, Frame | None] | None:
        """What a name stands for: the argument its parameter received, or the one value it is bound to."""
        if frame is not None and any(p.name.value == name.value for p in frame.function.params):
            argument = frame.argument(name.value)
            return (argument, frame.parent) if argument is not None else None
        bound = self.values.bound_expression(name)
        return (bound, frame) if bound is not None else None

    def iterable_text(self, expr: cst.BaseExpression, frame: Frame | None, depth: int = 0) -> str:
        """The source text of a data source, through parameters and plain aliases (`loader = train_loader`)."""
        if isinstance(expr, cst.Name) and depth < _MAX_DEPTH:
            aliased = self._alias(expr, frame)
            if aliased is not None and isinstance(aliased[0], (cst.Name, cst.Attribute)):
                return self.iterable_text(aliased[0], aliased[1], depth + 1)
        return self.code_of(expr)

    def iterations(self, loop: Loop) -> Count | None:
        """How many times a `for` loop runs: a `range`, or the length of what it iterates."""
        if not isinstance(loop.node, cst.For):
            return None
        return self._iterations(loop.node.iter, loop.frame, 0)

    def _iterations(self, iterated: cst.BaseExpression, frame: Frame | None, depth: int) -> Count | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(iterated, cst.Call):
            name = called_name(iterated.func)
            positional = positional_values(iterated)
            if name in _RANGES:
                return self._range(positional, frame, depth)
            if name in _WRAPS_ITERABLE and positional:
                return self._iterations(positional[0], frame, depth + 1)
            return None
        if isinstance(iterated, cst.Name):
            aliased = self._alias(iterated, frame)
            bound, bound_frame = aliased if aliased is not None else (None, None)
            if isinstance(bound, cst.Call) and called_name(bound.func) in _RANGES | _WRAPS_ITERABLE:
                return self._iterations(bound, bound_frame, depth + 1)  # `progress = tqdm(loader)`
        if isinstance(iterated, (cst.Name, cst.Attribute)):
            return Count.symbol(f"len({self.iterable_text(iterated, frame)})")
        return None

    def _range(self, positional: list[cst.BaseExpression], frame: Frame | None, depth: int) -> Count | None:
        if not 1 <= len(positional) <= 2:
            return None
        stop = self.count(positional[-1], frame, depth + 1)
        start = self.count(positional[0], frame, depth + 1) if len(positional) == 2 else Count.of(0)
        # `range(start_epoch, epochs)` is `epochs - start_epoch`, which no schedule's size is a multiple
        # of: a resumed run stays unknown; `range(start, start + 200)` is 200 whatever `start` is.
        return stop - start if stop is not None and start is not None else None


@dataclass(frozen=True)
class RunLength:
    """How many times a run takes one scheduler step, and how: the loops and conditions around it."""

    steps: Count
    epochs: Count  # iterations of the epoch loop (1 without one)
    per_epoch: Count  # steps in one epoch
    cadence: StepCadence
    every: Count | None  # under gradient accumulation, the optimizer steps once every `every` batches
    unconditional: bool  # no condition besides accumulation, no `break` or `return`: exactly `steps`
    epoch_loop: Loop | None
    batch_loop: Loop | None
    stopped_by: cst.If | None = None  # `if epoch > 40: break`, which ends the epoch loop early


def run_length(counter: Counter, trace: Trace, item: TraceItem) -> RunLength | None:
    """The steps `item` takes over the run, when its loops are an epoch loop, a batch loop or both."""
    loops = item.loops
    kinds = [loop.kind for loop in loops]
    if kinds not in ([LoopKind.EPOCH], [LoopKind.BATCH], [LoopKind.EPOCH, LoopKind.BATCH]):
        return None
    epoch_loop = loops[0] if kinds[0] is LoopKind.EPOCH else None
    batch_loop = loops[-1] if kinds[-1] is LoopKind.BATCH else None
    epochs = counter.iterations(epoch_loop) if epoch_loop is not None else Count.of(1)
    batches = counter.iterations(batch_loop) if batch_loop is not None else Count.of(1)
    if epochs is None or batches is None:
        return None
    stop = _stopped_at(counter, epoch_loop) if epoch_loop is not None else None
    if stop is not None and epochs.number is not None and stop[0] < epochs.number:
        epochs = Count.of(stop[0])  # `if epoch > 40: break` at the top of a loop over range(80)
    every, conditional = _accumulation(counter, item, loops[0])
    per_epoch = batches if every is None else batches.divided(every)
    if per_epoch is None:
        return None
    cadence = StepCadence.PER_BATCH if batch_loop is not None else StepCadence.PER_EPOCH
    decided = stop[1] if stop is not None else None
    exits = any(_leaves_early(loop, decided) for loop in loops)
    unconditional = not conditional and not exits
    stopped_by = stop[2] if stop is not None else None
    return RunLength(
        epochs * per_epoch, epochs, per_epoch, cadence, every, unconditional, epoch_loop, batch_loop, stopped_by
    )


def _accumulation(counter: Counter, item: TraceItem, outermost: Loop) -> tuple[Count | None, bool]:
    """The `k` of a `% k == 0` condition around the step, and whether another condition may skip it."""
    every: Count | None = None
    conditional = False
    written = set().union(*(_written_in(loop) for loop in item.loops))
    counters = set().union(*(loop.target_names() for loop in item.loops))
    for guard in item.guards_inside(outermost):
        divisor = _modulo_divisor(guard)
        if divisor is not None and every is None:
            every = counter.count(divisor, item.frame)
            conditional |= every is None
        elif guard_names(guard) & (counters | written | {"sync_gradients"}):
            conditional = True
    return every, conditional


def _modulo_divisor(guard: Guard) -> cst.BaseExpression | None:
    """`k` in `(step + 1) % k == 0` (or `not step % k`)."""
    test = guard.test
    if guard.negated:
        return None
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test = test.expression
    elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        zero = isinstance(comparison.comparator, cst.Integer) and comparison.comparator.value == "0"
        if not (zero and isinstance(comparison.operator, cst.Equal)):
            return None
        test = test.left
    else:
        return None
    if isinstance(test, cst.BinaryOperation) and isinstance(test.operator, cst.Modulo):
        return test.right
    return None


def _written_in(loop: Loop) -> set[str]:
    """Names (and attribute names) the loop assigns: a condition on them may change from one iteration to the next."""
    written: set[str] = set()
    for statement, _ in _small_statements(loop.node.body):
        if isinstance(statement, cst.Assign):
            targets = [t.target for t in statement.targets]
        elif isinstance(statement, (cst.AugAssign, cst.AnnAssign)):
            targets = [statement.target]
        else:
            continue
        written.update(name for target in targets for name in _target_names(target))
    return written


def _target_names(target: cst.BaseExpression) -> Iterator[str]:
    """`step` for `step`, `global_step` for `self.global_step`, `state` for `state["n"]`, lower-case."""
    if isinstance(target, cst.Name):
        yield target.value.lower()
    elif isinstance(target, cst.Attribute):
        yield target.attr.value.lower()
    elif isinstance(target, cst.Subscript):
        yield from _target_names(target.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_names(element.value)


def _leaves_early(loop: Loop, decided: cst.Break | None = None) -> bool:
    """A `break` of this loop (other than one whose iteration lrlint decided), or a `return` inside it:
    the run may end before the loop does."""
    return any(
        isinstance(statement, cst.Return) or (isinstance(statement, cst.Break) and not nested)
        for statement, nested in _small_statements(loop.node.body)
        if statement is not decided
    )


_FIRST_TRUE = {cst.GreaterThan: 1, cst.GreaterThanEqual: 0, cst.Equal: 0}  # `e > c` first holds at c + 1


def _stopped_at(counter: Counter, loop: Loop) -> tuple[Fraction, cst.Break, cst.If] | None:
    """`if epoch > 40: break` as the first statement of `for epoch in range(...)`: how many
    iterations run (41, from 0), that `break` and its `if`."""
    node, targets = loop.node, loop.target_names()
    if not isinstance(node, cst.For) or not isinstance(node.body, cst.IndentedBlock) or not node.body.body:
        return None
    first = node.body.body[0]
    if not isinstance(first, cst.If) or first.orelse is not None or not isinstance(first.test, cst.Comparison):
        return None
    exits = [s for s, nested in _small_statements(first.body) if isinstance(s, cst.Break) and not nested]
    test = first.test
    if not exits or len(test.comparisons) != 1 or type(test.comparisons[0].operator) not in _FIRST_TRUE:
        return None
    if not (isinstance(test.left, cst.Name) and test.left.value.lower() in targets):
        return None
    bound = counter.count(test.comparisons[0].comparator, loop.frame)
    start = _range_start(counter, node.iter, loop)
    if bound is None or bound.number is None or start is None or bound.number.denominator != 1:
        return None
    runs = bound.number + _FIRST_TRUE[type(test.comparisons[0].operator)] - start
    return (runs, exits[0], first) if runs >= 0 else None


def _range_start(counter: Counter, iterated: cst.BaseExpression, loop: Loop) -> Fraction | None:
    if not (isinstance(iterated, cst.Call) and called_name(iterated.func) in _RANGES and iterated.args):
        return None
    if len(iterated.args) == 1:
        return Fraction(0)
    start = counter.count(iterated.args[0].value, loop.frame)
    return start.number if start is not None else None


def _small_statements(block: cst.BaseSuite) -> Iterator[tuple[cst.BaseSmallStatement, bool]]:
    """The simple statements of a block and of the blocks nested in it (not in nested functions or
    classes), each with whether a loop inside the block encloses it. Statements only: walking every
    expression node of a long loop body costs more than the rest of the analysis."""
    stack: list[tuple[cst.CSTNode, bool]] = [(block, False)]
    while stack:
        node, nested = stack.pop()
        if isinstance(node, cst.BaseSmallStatement):
            yield node, nested
        elif isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite, cst.SimpleStatementLine)):
            stack.extend((child, nested) for child in node.body)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            continue
        else:
            inner = nested or isinstance(node, (cst.For, cst.While))
            stack.extend((child, inner) for child in _blocks(node))


def _blocks(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The blocks and branches of a compound statement (`if`, `for`, `while`, `with`, `try`, `match`)."""
    found: list[cst.CSTNode] = []
    for attribute in ("body", "orelse", "finalbody"):
        value = getattr(node, attribute, None)
        if isinstance(value, (cst.BaseSuite, cst.If, cst.Else, cst.Finally)):
            found.append(value)
    found.extend(getattr(node, "handlers", ()))
    found.extend(getattr(node, "cases", ()))
    return found
