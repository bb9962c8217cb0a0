"""Every rule's VALID and INVALID examples, run through the whole engine."""

from __future__ import annotations

import pytest

from lrlint.config import Settings
from lrlint.rules import ALL_RULES
from tests.expectations import expected_in_text, reported_in_code

CASES = [
    pytest.param(rule, kind, index, code, id=f"{rule.code}-{kind}-{index}")
    for rule in ALL_RULES
    for kind, examples in (("valid", rule.VALID), ("invalid", rule.INVALID))
    for index, code in enumerate(examples)
]


@pytest.mark.parametrize(("rule", "kind", "index", "code"), CASES)
def test_example(rule, kind, index, code):
    reported = reported_in_code(code, Settings(select=(rule.code,)))
    expected = expected_in_text(code) if kind == "invalid" else set()
    assert expected or kind == "valid", "an INVALID example must mark its findings with # expect:"
    assert {e for e in expected if e[2] == rule.code} == expected, "examples only expect their own rule"
    assert reported == expected


def test_every_rule_has_examples_and_documentation():
    for rule in ALL_RULES:
        assert rule.VALID and rule.INVALID, rule.code
        assert rule.documentation().count("\n") >= 3, rule.code
        assert rule.summary and rule.name and rule.code.startswith("LR")
