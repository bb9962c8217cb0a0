"""The rule interface: one class per rule, carrying its documentation and its examples.

A rule's docstring is its documentation (`lrlint rule CODE` prints it). `VALID` and `INVALID`
are code examples: every INVALID example marks each line the rule must report with a trailing
`# expect: CODE` comment, and a VALID example must produce no finding of the rule. The test
suite runs them all (tests/test_rule_examples.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from lrlint.catalog import SchedulerSpec
from lrlint.config import Settings
from lrlint.findings import Severity
from lrlint.model import SourceNeed, TrainingModel

# An autofix: nodes of the linted module, each replaced by a new node or removed. Only fixes that
# are unambiguous are offered; lrlint applies them with `--fix` and shows them with `--diff`.
Fix = Mapping[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel]


def constructor_name(call: cst.Call, spec: SchedulerSpec) -> str:
    """How messages name a constructor: `StepLR()`, or `StepLR.__init__()` for `super().__init__(...)`."""
    is_init = isinstance(call.func, cst.Attribute) and call.func.attr.value == "__init__"
    return f"{spec.short_name}.__init__()" if is_init else f"{spec.short_name}()"


@dataclass(frozen=True)
class Report:
    node: cst.CSTNode
    message: str
    fix: Fix | None = None
    severity: Severity | None = None  # when this finding is graver or milder than the rule's usual one


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]  # one line, for `lrlint rule --all` and the README table
    # What a file must contain for this rule to report in it; the prefilter skips parsing the files
    # that meet no enabled rule's needs. Stated by every rule (tests/test_prefilter.py).
    needs: ClassVar[frozenset[SourceNeed]]
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    def check(self, model: TrainingModel) -> Iterator[Report]:
        raise NotImplementedError

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")
