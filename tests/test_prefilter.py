"""The prefilter skips parsing only where no rule can report: checked on everything we have.

By design it also skips the syntax check (LR000) of files that never mention a scheduler.
"""

from __future__ import annotations

import json

import pytest

import lrlint.linter
from lrlint.prefilter import NEEDS_A_SCHEDULER, FileFacts, ProjectPrefilter, SourceNeed, may_contain_findings
from lrlint.rules import ALL_RULES
from tests.expectations import Expected, reported_in_code, reported_in_file
from tests.test_fixtures import PROJECT_DIRS, SINGLE_FILES, lint_project

EXAMPLES = [code for rule in ALL_RULES for code in (*rule.VALID, *rule.INVALID)]


def project_prefilter(texts: dict[str, str]) -> ProjectPrefilter:
    return ProjectPrefilter(FileFacts.of(code) for code in texts.values())


def rule_findings(found: Expected) -> Expected:
    return {finding for finding in found if finding[2] != "LR000"}


@pytest.mark.parametrize("path", SINGLE_FILES, ids=lambda p: p.name)
def test_prefilter_hides_no_finding_in_fixtures(path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_prefilter = reported_in_file(path)
    monkeypatch.setattr(lrlint.linter.Linter, "_relevant", lambda self, code: True)
    assert reported_in_file(path) == with_prefilter


def test_prefilter_hides_no_rule_finding_in_rule_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    with_prefilter = [rule_findings(reported_in_code(code)) for code in EXAMPLES]
    monkeypatch.setattr(lrlint.linter.Linter, "_relevant", lambda self, code: True)
    assert [rule_findings(reported_in_code(code)) for code in EXAMPLES] == with_prefilter


def test_files_without_schedulers_are_not_parsed() -> None:
    assert reported_in_code("def broken(:\n") == set()
    assert reported_in_code("from torch.optim import lr_scheduler\ndef broken(:\n") == {(None, 2, "LR000")}


@pytest.mark.parametrize(
    "code",
    [
        "import torch.optim.lr_scheduler\n",
        "from torch.optim.lr_scheduler import StepLR\n",
        "from torch.optim import (\n    SGD,\n    lr_scheduler as sched,\n)\n",
        "import torch\ns = torch.optim.lr_scheduler.StepLR(o, 1)\n",
        "self.lr_scheduler.step()\n",
        "from transformers import get_linear_schedule_with_warmup\n",
    ],
)
def test_prefilter_admits_every_spelling_of_a_scheduler(code: str) -> None:
    assert may_contain_findings(code)


@pytest.mark.parametrize(
    "code",
    [
        'SKIP = {"torch/optim/lr_scheduler.py"}\n',
        "# the lr_scheduler is stepped by the caller\n",
        "lr_scheduler = None\n",
        "import transformers\n",
    ],
)
def test_prefilter_skips_mentions_that_cannot_name_a_scheduler(code: str) -> None:
    assert not may_contain_findings(code)


def test_project_prefilter_ignores_constructions_in_docstrings() -> None:
    texts = {
        "opt.py": 'from torch.optim import lr_scheduler\nclass Opt:\n    """\n'
        "    >>> s = lr_scheduler.StepLR(o, 1)\n"
        '    """\n',
    }
    assert project_prefilter(texts).names == frozenset()


def test_project_prefilter_counts_subclasses_of_schedulers_as_schedulers() -> None:
    """Building `Halving(opt)` from `class Halving(StepLR)` builds a scheduler, as `StepLR(opt)` does."""
    texts = {
        "sched.py": "from torch.optim.lr_scheduler import LRScheduler, StepLR\n"
        "class Warmup(LRScheduler):\n    pass\nclass Halving(StepLR):\n    pass\nclass Other:\n    pass\n",
        "train.py": "from sched import Halving\npolicy = Halving(opt)\n",
    }
    prefilter = project_prefilter(texts)
    assert prefilter.names == frozenset({"Warmup", "Halving"})
    assert prefilter.relevant(FileFacts.of(texts["train.py"]))


def test_project_prefilter_counts_factory_functions_as_building_schedulers() -> None:
    """A LightningModule that returns `build_scheduler(optimizer)` of another module names no scheduler."""
    texts = {
        "schedules.py": "import torch\n\ndef build_scheduler(opt, n):\n"
        "    return torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=n)\n\ndef unrelated():\n    pass\n",
        "module.py": "from schedules import build_scheduler\nclass M(LightningModule):\n"
        "    def configure_optimizers(self):\n        return build_scheduler(o, 10)\n",
        "other.py": "from schedules import unrelated\nunrelated()\n",
    }
    prefilter = project_prefilter(texts)
    assert prefilter.names == frozenset({"build_scheduler"})
    assert prefilter.relevant(FileFacts.of(texts["module.py"]))
    assert not prefilter.relevant(FileFacts.of(texts["other.py"]))


@pytest.mark.parametrize("root", PROJECT_DIRS, ids=lambda p: p.name)
def test_project_prefilter_hides_no_finding(root, monkeypatch: pytest.MonkeyPatch) -> None:
    with_prefilter = lint_project(root)
    monkeypatch.setattr(lrlint.linter.Linter, "_relevant", lambda self, code: True)
    assert lint_project(root) == with_prefilter


def test_project_prefilter_follows_chains_of_imports() -> None:
    texts = {
        "pkg/base.py": "import torch\nclass Base:\n    def __init__(self):\n"
        "        self.s = torch.optim.lr_scheduler.StepLR(o, 1)\n",
        "pkg/mid.py": "from pkg.base import Base\nclass Mid(Base):\n    pass\n",
        "pkg/leaf.py": "from .mid import (\n    Mid,\n)\nclass Leaf(Mid):\n    def run(self):\n        self.s.step()\n",
        "pkg/unrelated.py": "import os\nprint(os.getcwd())\n",
    }
    prefilter = project_prefilter(texts)
    assert [p for p, code in texts.items() if prefilter.relevant(FileFacts.of(code))] == [
        "pkg/base.py",
        "pkg/mid.py",
        "pkg/leaf.py",
    ]


def test_file_facts_survive_the_cache_round_trip() -> None:
    code = "from .base import Base, Other as O\nclass Leaf(Base, O):\n    s = StepLR(o, 1)\n# lr_scheduler\n"
    facts = FileFacts.of(code)
    assert FileFacts.from_json(json.loads(json.dumps(facts.to_json()))) == facts


def test_every_rule_states_what_it_needs_in_a_file() -> None:
    assert all("needs" in vars(rule) and rule.needs for rule in ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_every_rule_example_a_rule_must_flag_passes_the_prefilter_its_needs_make(rule: type) -> None:
    for code in rule.INVALID:
        facts = FileFacts.of(code)
        assert ProjectPrefilter([facts], rule.needs).relevant(facts), code


def test_a_rule_that_needs_any_code_makes_the_prefilter_admit_every_file() -> None:
    facts = FileFacts.of("x = 1\n")
    assert not ProjectPrefilter([facts], NEEDS_A_SCHEDULER).relevant(facts)
    assert ProjectPrefilter([facts], frozenset({SourceNeed.ANY})).relevant(facts)
