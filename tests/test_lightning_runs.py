"""What lrlint claims about Lightning, proven by Lightning: every LightningModule of the
`fixtures/lightning_*.py` files is fitted for 2 epochs of 4 batches on the CPU, and what Lightning
did with its schedulers must match the `# expect:` markers inside the class:

- LR104: some scheduler it returned is never stepped; LR102: one is stepped every batch; LR103:
  once per epoch; LR105: twice per epoch; LR101: torch warns about the order; LR301: fit fails
  (Lightning's MisconfigurationException, or torch's TypeError from a plateau without metric);
  LR203: fit fails with Lightning's MisconfigurationException (an "interval" it rejects);
  LR304: the optimizer ends at a rate its scheduler alone would not give;
- no marker: fit completes without an error or Lightning's "unsupported keys" warning, and every
  scheduler is stepped.

A fixture supplies only what the claim is about; a probe subclass adds a parameter, a
training_step, data, and a logged "val_loss" where the fixture has none. Needs lightning.
"""

from __future__ import annotations

import ast
import contextlib
import sys
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.expectations import expected_in_file

pytestmark = pytest.mark.slow
lightning = pytest.importorskip("lightning")
torch = pytest.importorskip("torch")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EPOCHS, BATCHES = 2, 4
# The input each fixture's own training_step expects: feature size, and whether targets are classes.
INPUTS: dict[str, tuple[int, bool]] = {
    "LitGAN": (784, False),
    "LitAutoEncoder": (784, False),
    "LitManual": (32, True),
    "LitClassifier": (784, True),
}


@dataclass
class Run:
    steps: dict[int, int] = field(default_factory=dict)  # scheduler id -> step() calls after construction
    schedulers: list[Any] = field(default_factory=list)
    built_at: dict[int, int] = field(default_factory=dict)  # scheduler id -> the fixture line that built it
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None


@dataclass(frozen=True)
class Module:
    path: Path
    name: str
    lines: range

    @property
    def expected(self) -> set[str]:
        return {code for _, line, code in expected_in_file(self.path) if line in self.lines}


def lightning_modules() -> Iterator[Module]:
    for path in sorted(FIXTURES.glob("lightning_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                yield Module(path, node.name, range(node.lineno, (node.end_lineno or node.lineno) + 1))


def load(module: Module) -> type:
    sys.modules.setdefault("pytorch_lightning", lightning.pytorch)  # the same API, for fixtures written for it
    namespace = types.ModuleType(f"lightning_fixture_{module.path.stem}")
    namespace.__file__ = str(module.path)
    exec(compile(module.path.read_text(encoding="utf-8"), str(module.path), "exec"), namespace.__dict__)  # noqa: S102
    return getattr(namespace, module.name)


def probe(fixture_class: type, features: int, classes: bool) -> type:
    """The fixture's module, completed with what a fit needs and the fixture does not define."""
    nn = torch.nn
    defined = {
        name for cls in fixture_class.__mro__ if cls.__module__.startswith("lightning_fixture_") for name in vars(cls)
    }

    class Probe(fixture_class):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.probe_layer = nn.Linear(features, 2 if classes else 1)

        def train_dataloader(self) -> Any:
            x = torch.randn(BATCHES * 4, features)
            y = torch.randint(0, 2, (BATCHES * 4,)) if classes else torch.randn(BATCHES * 4, 1)
            return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4)

        def val_dataloader(self) -> Any:
            return self.train_dataloader()

    def forward(self: Any, x: Any) -> Any:
        return self.probe_layer(x)

    def training_step(self: Any, batch: Any, batch_idx: int) -> Any:
        x, _ = batch
        return self.probe_layer(x).pow(2).mean()

    def validation_step(self: Any, batch: Any, batch_idx: int) -> None:
        x, _ = batch
        self.log("val_loss", self.probe_layer(x).pow(2).mean())

    if "forward" not in defined:
        Probe.forward = forward
    if "training_step" not in defined:
        Probe.training_step = training_step
    if "validation_step" not in defined:
        Probe.validation_step = validation_step
    return Probe


@contextlib.contextmanager
def recorded(run: Run) -> Iterator[None]:
    """Count the step() calls of every scheduler built while fitting (not the one in its constructor)."""
    classes = [torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau]
    originals = [(cls, cls.__init__, cls.step) for cls in classes]

    def patched(init: Any, step: Any) -> tuple[Any, Any]:
        def new_init(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            if id(self) not in run.steps:
                run.steps[id(self)] = 0
                run.schedulers.append(self)
                run.built_at[id(self)] = _fixture_line()

        def new_step(self: Any, *args: Any, **kwargs: Any) -> Any:
            if id(self) in run.steps:
                run.steps[id(self)] += 1
            return step(self, *args, **kwargs)

        return new_init, new_step

    for cls, init, step in originals:
        cls.__init__, cls.step = patched(init, step)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for cls, init, step in originals:
            cls.__init__, cls.step = init, step  # type: ignore[method-assign]


def fit(module: Module) -> Run:
    features, classes = INPUTS.get(module.name, (4, False))
    model = probe(load(module), features, classes)()
    trainer = lightning.pytorch.Trainer(
        max_epochs=EPOCHS,
        limit_val_batches=1,
        num_sanity_val_steps=0,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    run = Run()
    with warnings.catch_warnings(record=True) as caught, recorded(run):
        warnings.simplefilter("always")
        try:
            trainer.fit(model)
        except Exception as error:  # noqa: BLE001 - the failure is what some markers claim
            run.error = error
    run.warnings = [str(w.message) for w in caught]
    return run


def final_lr_differs_from_schedule(run: Run) -> bool:
    """The optimizer ends at a rate its scheduler, stepped as often alone, would not give."""
    for scheduler in run.schedulers:
        alone = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=scheduler.base_lrs[0])
        reference = type(scheduler)(alone, **_size_arguments(scheduler))
        for _ in range(run.steps[id(scheduler)]):
            alone.step()
            reference.step()
        if scheduler.optimizer.param_groups[0]["lr"] != pytest.approx(alone.param_groups[0]["lr"]):
            return True
    return False


def _size_arguments(scheduler: Any) -> dict[str, Any]:
    return {"T_max": scheduler.T_max, "eta_min": scheduler.eta_min}  # the one scheduler LR304's fixture uses


MODULES = list(lightning_modules())


@pytest.mark.parametrize("module", MODULES, ids=lambda m: f"{m.path.name}::{m.name}")
def test_lightning_does_what_the_markers_say(module: Module) -> None:
    run = fit(module)
    expected = module.expected
    counts = [run.steps[id(s)] for s in run.schedulers]
    if "LR301" in expected:
        assert run.error is not None and type(run.error).__name__ in ("MisconfigurationException", "TypeError")
        return
    if "LR203" in expected:  # an "interval" Lightning rejects
        assert run.error is not None and type(run.error).__name__ == "MisconfigurationException", repr(run.error)
        return
    assert run.error is None, repr(run.error)
    if "LR104" in expected:
        assert 0 in counts
    if "LR102" in expected:
        assert EPOCHS * BATCHES in counts
    if "LR103" in expected:
        assert EPOCHS in counts
    if "LR105" in expected:
        assert 2 * EPOCHS in counts
    if "LR101" in expected:
        assert any("before `optimizer.step()`" in message for message in run.warnings)
    if "LR304" in expected:
        assert final_lr_differs_from_schedule(run)
    if not expected:
        assert not any("unsupported keys" in message for message in run.warnings)
        assert counts and all(count > 0 for count in counts)


@pytest.mark.parametrize("module", [m for m in MODULES if not m.expected], ids=lambda m: f"{m.path.name}::{m.name}")
def test_simulate_gives_the_rate_lightning_ends_at(module: Module) -> None:
    """`lrlint simulate` of a clean module, over the epochs and batches of the fit, ends each
    scheduler where Lightning left its optimizer (its interval, frequency and order of steps)."""
    from lrlint.simulate import simulate_file

    run = fit(module)
    schedules = {s.built[1]: s for s in simulate_file(str(module.path), EPOCHS, BATCHES)[1]}
    compared = 0
    for scheduler in run.schedulers:
        simulated = schedules.get(run.built_at[id(scheduler)])
        shared = sum(1 for other in run.schedulers if other.optimizer is scheduler.optimizer) > 1
        if simulated is None or not simulated.per_epoch or shared:
            continue
        relative = any("lr x base" in assumption for assumption in simulated.assumptions)
        ended = simulated.per_epoch[-1][1] * (scheduler.base_lrs[0] if relative else 1)
        assert ended == pytest.approx(scheduler.optimizer.param_groups[0]["lr"], rel=1e-9), simulated.name
        compared += 1
    if not compared:
        pytest.skip("no scheduler simulated alone on its optimizer")


def _fixture_line() -> int:
    """The line of the fixture (a file under fixtures/) that is running now."""
    frame = sys._getframe(1)
    while frame is not None and not frame.f_code.co_filename.startswith(str(FIXTURES)):
        frame = frame.f_back  # type: ignore[assignment]
    return frame.f_lineno if frame is not None else 0


def test_every_lightning_fixture_module_is_fitted() -> None:
    assert len(MODULES) >= 15 and any(not m.expected for m in MODULES)
