"""The prefilter skips parsing only where no rule can report: checked on everything we have.

By design it also skips the syntax check (LR000) of files that never mention a scheduler.
"""

from __future__ import annotations

import pytest

import lrlint.engine
from lrlint.rules import ALL_RULES
from tests.expectations import Expected, reported_in_code, reported_in_file
from tests.test_fixtures import FIXTURE_FILES

EXAMPLES = [code for rule in ALL_RULES for code in (*rule.VALID, *rule.INVALID)]


def rule_findings(found: Expected) -> Expected:
    return {finding for finding in found if finding[2] != "LR000"}


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_prefilter_hides_no_finding_in_fixtures(path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_prefilter = reported_in_file(path)
    monkeypatch.setattr(lrlint.engine, "may_contain_findings", lambda code: True)
    assert reported_in_file(path) == with_prefilter


def test_prefilter_hides_no_rule_finding_in_rule_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    with_prefilter = [rule_findings(reported_in_code(code)) for code in EXAMPLES]
    monkeypatch.setattr(lrlint.engine, "may_contain_findings", lambda code: True)
    assert [rule_findings(reported_in_code(code)) for code in EXAMPLES] == with_prefilter


def test_files_without_schedulers_are_not_parsed() -> None:
    assert reported_in_code("def broken(:\n") == set()
    assert reported_in_code("# lr_scheduler\ndef broken(:\n") == {(None, 2, "LR000")}
