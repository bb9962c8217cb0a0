"""What lrlint claims about the HF Trainer, proven by the Trainer: every fixture that imports
`transformers.Trainer` is trained on the CPU with a tiny regression model, 2 epochs of 4 optimizer
steps (its module code, then each of its functions taking `(model, train_dataset, output_dir)`):

- every scheduler the Trainer receives is stepped once per optimizer step, except ReduceLROnPlateau,
  which it steps only with an evaluation metric (never, here);
- LR102: the scheduler built inside the function holding the marker is stepped more times than the
  run has epochs, so a schedule counting epochs is over within the first one.

Needs transformers and accelerate (which the Trainer requires).
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.expectations import expected_in_file
from tests.fixture_harness import imports_hf_trainer

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EPOCHS, OPTIMIZER_STEPS_PER_EPOCH, BATCH = 2, 4, 8  # the fixtures' functions train 2 epochs; 8 is the default batch
RUN_PARAMETERS = ["model", "train_dataset", "output_dir"]


class Regressor(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
        return {"loss": torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), labels)}


class Pairs(torch.utils.data.Dataset):  # type: ignore[misc]
    def __len__(self) -> int:
        return OPTIMIZER_STEPS_PER_EPOCH * BATCH

    def __getitem__(self, index: int) -> dict[str, Any]:
        generator = torch.Generator().manual_seed(index)
        return {"x": torch.randn(4, generator=generator), "labels": torch.randn((), generator=generator)}


@dataclass
class Built:
    line: int  # where the fixture built it
    scheduler: Any
    steps: int = 0  # step() calls after construction


@dataclass
class Run:
    name: str
    built: list[Built] = field(default_factory=list)
    optimizer_steps: int = 0


def trainer_fixtures() -> list[Path]:
    return sorted(path for path in FIXTURES.glob("*.py") if _imports_trainer(path))


def _imports_trainer(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return False  # the fixtures of unparsable input
    return imports_hf_trainer(tree)


@contextlib.contextmanager
def recording(path: Path, run: Run) -> Iterator[None]:
    """Records the schedulers built by the fixture's code, their steps, and the optimizer steps."""
    classes = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    originals = {cls: (cls.__init__, cls.step) for cls in classes}
    by_id: dict[int, Built] = {}

    def init(original: Any) -> Any:
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if id(self) not in by_id:
                line = next(f.lineno for f in inspect.stack() if Path(f.filename) == path)
                by_id[id(self)] = Built(line, self)
                run.built.append(by_id[id(self)])

        return wrapped

    def step(original: Any) -> Any:
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            if id(self) in by_id:
                by_id[id(self)].steps += 1
            return original(self, *args, **kwargs)

        return wrapped

    def optimizer_stepped(*_: Any) -> None:
        run.optimizer_steps += 1

    from torch.optim.optimizer import register_optimizer_step_post_hook

    hook = register_optimizer_step_post_hook(optimizer_stepped)
    try:
        for cls, (original_init, original_step) in originals.items():
            cls.__init__ = init(original_init)
            cls.step = step(original_step)
        yield
    finally:
        hook.remove()
        for cls, (original_init, original_step) in originals.items():
            cls.__init__ = original_init
            cls.step = original_step


def run_fixture(path: Path, output_dir: Path) -> list[Run]:
    """The module's own code, then each function that takes a model, a dataset and an output dir."""
    from accelerate.state import AcceleratorState

    namespace: dict[str, Any] = {"__name__": "fixture", "model": Regressor(), "train_dataset": Pairs()}
    runs = [Run("<module>")]
    with recording(path, runs[0]):
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102 - our fixture
    functions = [
        (name, value)
        for name, value in namespace.items()
        if inspect.isfunction(value)
        and value.__module__ == "fixture"
        and list(inspect.signature(value).parameters) == RUN_PARAMETERS
    ]
    for name, function in functions:
        AcceleratorState._reset_state(reset_partial_state=True)
        run = Run(name)
        with recording(path, run):
            function(Regressor(), Pairs(), str(output_dir / name))
        runs.append(run)
    return runs


def enclosing_function(path: Path, line: int) -> range:
    """The lines of the innermost function around `line`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    spans = [
        range(node.lineno, (node.end_lineno or node.lineno) + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    return min(spans, key=len)


@pytest.mark.parametrize("path", trainer_fixtures(), ids=lambda p: p.name)
def test_the_trainer_steps_what_lrlint_says(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_DISABLED", "true")
    os.environ.pop("ACCELERATE_GRADIENT_ACCUMULATION_STEPS", None)
    runs = run_fixture(path, tmp_path)
    for run in runs:
        for built in run.built:
            if isinstance(built.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                assert built.steps == 0, f"{run.name}: the Trainer stepped ReduceLROnPlateau without a metric"
            else:
                assert built.steps == run.optimizer_steps >= OPTIMIZER_STEPS_PER_EPOCH, run.name
    built = [b for run in runs for b in run.built]
    for _, line, code in sorted(expected_in_file(path)):
        assert code == "LR102", f"no runtime check for {code}"
        function = enclosing_function(path, line)
        marked = [b for b in built if b.line in function]
        assert marked, f"line {line}: no scheduler built in its function was handed to the Trainer"
        assert all(b.steps > EPOCHS for b in marked), f"line {line}: stepped no more often than once per epoch"
