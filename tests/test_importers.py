"""Given files, the project modules that import them, transitively (what pre-commit leaves out)."""

from __future__ import annotations

from pathlib import Path

from lrlint import api
from lrlint.config import Settings
from lrlint.importers import importers
from lrlint.sources import Source

MAIN = """\
import torch
from engine import train_one_epoch

model = torch.nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
for epoch in range(90):
    train_one_epoch(model, loader, optimizer, scheduler)
"""
ENGINE = """\
def train_one_epoch(model, loader, optimizer, scheduler):
    for x, y in loader:
        optimizer.step()
        scheduler.step()
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_importers_are_found_through_packages_relative_imports_and_chains(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    write(
        tmp_path,
        {
            "pkg/__init__.py": "from .engine import train_one_epoch\n",  # re-exports only
            "pkg/engine.py": ENGINE,
            "pkg/trainer.py": "from .engine import train_one_epoch\n\ndef fit(*a):\n    train_one_epoch(*a)\n",
            "scripts/run.py": "from pkg import trainer\n",
            "scripts/through_package.py": "import pkg\npkg.train_one_epoch(model, loader, opt, sched)\n",
            "scripts/other.py": "import numpy as np  # mentions engine only here\n",
            "scripts/package_user.py": "import pkg\nfrom pkg import utils\nutils.log()\n",  # names no engine
            "other/engine.py": ENGINE,
            "scripts/other_engine.py": "from other.engine import train_one_epoch\n",  # another engine.py
            "docs/notes.md": "from pkg import engine\n",
        },
    )
    found = importers([tmp_path / "pkg" / "engine.py"], Settings())
    assert sorted(p.relative_to(tmp_path).as_posix() for p in found) == [
        "pkg/__init__.py",
        "pkg/trainer.py",
        "scripts/run.py",
        "scripts/through_package.py",
    ]
    direct = importers([tmp_path / "pkg" / "engine.py"], Settings(), transitive=False)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in direct) == ["pkg/__init__.py", "pkg/trainer.py"]


def test_a_module_re_exported_by_its_package_is_analysed_from_the_caller_of_the_package(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": "",
            "pkg/__init__.py": "from .engine import train_one_epoch\n",
            "pkg/engine.py": ENGINE,
            "main.py": MAIN.replace("from engine import", "from pkg import"),
        },
    )
    outcome = api.check([tmp_path / "pkg" / "engine.py"], Settings())
    assert [(Path(f.path).name, f.line, f.code) for f in outcome.findings] == [("engine.py", 4, "LR102")]


def test_a_callee_checked_alone_is_analysed_from_its_callers(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": MAIN, "engine.py": ENGINE})
    outcome = api.check([tmp_path / "engine.py"], Settings())
    assert [(Path(f.path).name, f.line, f.code) for f in outcome.findings] == [("engine.py", 4, "LR102")]
    assert outcome.files_checked == 1
    (tmp_path / "main.py").write_text(MAIN.replace("range(90)", "range(x)") + "scheduler.step(1)\n")
    caller_findings = api.check([tmp_path / "engine.py"], Settings()).findings
    assert all(Path(f.path).name == "engine.py" for f in caller_findings)  # main.py's own LR302 is not reported


def test_a_buffer_is_checked_with_its_importers_against_its_unsaved_text(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    write(tmp_path, {"main.py": MAIN, "engine.py": ENGINE.replace("        scheduler.step()\n", "")})
    engine = tmp_path / "engine.py"
    settings = Settings()
    callers = api.importers_of(engine, settings)
    assert callers == [tmp_path / "main.py"]
    unsaved = api.check_source(Source(str(engine), ENGINE), settings, callers=callers)
    assert [(Path(f.path).name, f.line, f.code) for f in unsaved.findings] == [("engine.py", 4, "LR102")]
    assert api.check_source(Source(str(engine), ENGINE), settings).findings == []  # alone, nothing shows
