"""The first look (the standard library's parser) skips the model only where no rule can report.

Every fixture and rule example with a finding must be analysed; each reason to analyse is
checked on its own, and so are the files the first look exists to skip (an HF Trainer subclass
that names a scheduler only in an annotation).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lrlint.config import Settings
from lrlint.first_look import Outlines, needs_model
from lrlint.linter import Linter
from lrlint.module_files import ModuleFiles
from lrlint.rules import ALL_RULES
from lrlint.sources import MAX_FILE_BYTES, Source
from tests.expectations import expected_in_file, expected_in_text
from tests.test_fixtures import SINGLE_FILES

BUGGY_FILES = [path for path in SINGLE_FILES if path.suffix == ".py" and expected_in_file(path)]
INVALID_EXAMPLES = [code for rule in ALL_RULES for code in rule.INVALID if expected_in_text(code)]


def first_look(code: str, path: Path = Path("train.py")) -> bool:
    return needs_model(code, path, Outlines(ModuleFiles(), MAX_FILE_BYTES))


@pytest.mark.parametrize("path", BUGGY_FILES, ids=lambda p: p.name)
def test_every_fixture_with_a_finding_is_analysed(path: Path) -> None:
    assert first_look(path.read_text(encoding="utf-8"), path)


def test_every_rule_example_with_a_finding_is_analysed() -> None:
    assert len(INVALID_EXAMPLES) >= len(ALL_RULES)  # every rule shows at least one
    assert [code for code in INVALID_EXAMPLES if not first_look(code)] == []


HF_TRAINER_SUBCLASS = '''
import torch
from transformers import Trainer


class DistillTrainer(Trainer):
    """A trainer; the scheduler is [`~transformers.get_linear_schedule_with_warmup`] by default."""

    def __init__(
        self,
        model,
        args=None,
        optimizers: tuple[torch.optim.Optimizer | None, torch.optim.lr_scheduler.LambdaLR | None] = (None, None),
    ):
        super().__init__(model=model, args=args, optimizers=optimizers)

    def compute_loss(self, model, inputs):
        return model(**inputs).loss
'''


def test_a_trainer_subclass_naming_a_scheduler_only_in_annotations_is_skipped() -> None:
    assert not first_look(HF_TRAINER_SUBCLASS)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("from torch.optim.lr_scheduler import StepLR as Decay\ns = Decay(opt, 10)\n", id="alias"),
        pytest.param("import torch.optim.lr_scheduler as sch\ns = sch.OneCycleLR(opt, 0.1, 100)\n", id="module"),
        pytest.param("from transformers import get_scheduler\ns = get_scheduler('linear', opt)\n", id="factory"),
        pytest.param("from torch.optim.lr_scheduler import *\nStepLR(opt, 1)\n", id="star-import"),
        pytest.param("import torch\nclass Warm(torch.optim.lr_scheduler.LRScheduler):\n    pass\n", id="subclass"),
        pytest.param("import lightning as L\nclass M(L.LightningModule):\n    pass\n", id="lightning"),
        pytest.param("class M:\n    def configure_optimizers(self):\n        return build(self)\n", id="hook"),
        pytest.param("class T(Base):\n    def create_scheduler(self, n, optimizer=None):\n        pass\n", id="hf"),
        pytest.param("class T(Base):\n    def setup(self):\n        self.lr_scheduler = make(self)\n", id="stored"),
        pytest.param("trainer = Trainer(model, args, optimizers=(opt, sched))\n", id="handed-over"),
        pytest.param("lr_scheduler.step()\n", id="steps-a-scheduler"),
        pytest.param("match x:\n    case {{: pass\n", id="unparsable"),
    ],
)
def test_each_reason_to_analyse(code: str) -> None:
    assert first_look(code)


def test_plain_training_code_without_schedulers_is_skipped() -> None:
    code = "import torch\nclass Net(torch.nn.Module):\n    def fit(self):\n        self.optimizer.step()\n"
    assert not first_look(code)


def write(root: Path, files: dict[str, str]) -> None:
    for name, code in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")


def test_bases_are_followed_through_the_project(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "from .schedulers import Halving\nfrom .base import Base\n",
            "pkg/schedulers.py": "from torch.optim.lr_scheduler import StepLR\nclass Halving(StepLR):\n    pass\n",
            "pkg/base.py": "from .models import Model\nclass Base(Model):\n    pass\n",
            "pkg/models.py": "import pytorch_lightning as pl\nclass Model(pl.LightningModule):\n    pass\n",
            "pkg/broken.py": "class Broken(:\n",
        },
    )
    train = tmp_path / "train.py"
    # A project scheduler class, imported through the package's re-export, built by the call.
    assert first_look("from pkg import Halving\ns = Halving(opt, 2)\n", train)
    # A LightningModule two modules away.
    assert first_look("from pkg import Base\nclass Mine(Base):\n    pass\n", train)
    # A base that does not parse: it may be anything.
    assert first_look("from pkg.broken import Broken\nclass Mine(Broken):\n    pass\n", train)
    # A project class that derives from neither, stepping an optimizer: nothing to analyse.
    write(tmp_path, {"pkg/plain.py": "class Plain:\n    pass\n"})
    assert not first_look("from pkg.plain import Plain\nx = Plain()\n", train)
    # ... unless `self.<name>.step()` may step what a base class of the project built.
    assert first_look("from pkg.plain import Plain\nclass T(Plain):\n    def f(self):\n        self.s.step()\n", train)


def test_a_skipped_file_depends_on_the_modules_it_was_judged_by(tmp_path: Path) -> None:
    write(tmp_path, {"base.py": "class Base:\n    pass\n"})
    code = "from lr_scheduler import x\nfrom base import Base\nclass Mine(Base):\n    pass\n"
    result = Linter(Settings()).lint_source(Source(str(tmp_path / "train.py"), code))
    assert result.findings == []
    assert list(result.dependencies) == [str(tmp_path / "base.py")]
