"""Run lrlint's own fixture scripts under real torch, with stand-ins for their data, and report what torch did.

The fixtures are training scripts with undefined data loaders, models and arguments. This harness
executes them as written (one subprocess for all of them, a fresh namespace each) and fills the gaps:

- a name the script does not define is a `Stub`: it absorbs calls, attributes, arithmetic and torch
  functions (through `__torch_function__`), its `parameters()` are one real tensor, and iterating it
  yields `steps_per_epoch` batches (or, when the code unpacks it, as many values as it unpacks);
- a run may bind names to real values (`args` with numbers) and call an entry point the script
  only defines (`train(model, loader, args)`).

It records, with the fixture line that caused each: scheduler constructions, `scheduler.step()`
calls made by the script and the learning rates after them, optimizer steps, warnings, exceptions
(each top-level statement runs on its own, so one error does not hide the next), and the learning
rate of every optimizer each time the training loader starts an epoch.

Usage: python fixture_harness.py < runs.json > report.json (see `tests/test_torch_executes.py`).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import dis
import importlib.abc
import importlib.machinery
import io
import json
import signal
import sys
import time
import traceback
import types
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.optim import lr_scheduler
from torch.optim.optimizer import register_optimizer_step_post_hook

TIME_LIMIT_SECONDS = 60
REFERENCE_STEP_LIMIT = 20_000
DRIVEN_STEPS = 100
FRAMEWORKS = {"accelerate", "deepspeed", "ignite", "lightning", "pytorch_lightning", "sklearn", "timm", "transformers"}
SchedulerLike = lr_scheduler.LRScheduler | lr_scheduler.ReduceLROnPlateau


@dataclass
class Recording:
    """What torch did while one fixture ran; `files` are the fixture's own source files."""

    files: set[str]
    steps_per_epoch: int
    references: bool
    schedulers: dict[int, dict[str, Any]] = field(default_factory=dict)
    built: dict[int, SchedulerLike] = field(default_factory=dict)
    pristine: dict[int, SchedulerLike] = field(default_factory=dict)
    optimizers: dict[int, torch.optim.Optimizer] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    epoch_starts: list[dict[str, float]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    training_loader: object | None = None

    def fixture_line(self, frame: types.FrameType | None) -> tuple[str, int] | None:
        """The innermost frame of fixture code at or above `frame`."""
        while frame is not None:
            if frame.f_code.co_filename in self.files:
                return frame.f_code.co_filename, frame.f_lineno
            frame = frame.f_back
        return None

    def event(self, kind: str, where: tuple[str, int] | None, **details: object) -> None:
        self.events.append(
            {"kind": kind, "file": where[0] if where else None, "line": where[1] if where else None, **details}
        )

    def optimizer_index(self, optimizer: torch.optim.Optimizer) -> int:
        for index, known in self.optimizers.items():
            if known is optimizer:
                return index
        self.optimizers[len(self.optimizers)] = optimizer
        return len(self.optimizers) - 1

    def constructed(self, scheduler: SchedulerLike, where: tuple[str, int]) -> None:
        milestones = getattr(scheduler, "milestones", None)  # MultiStepLR's Counter keeps the order given
        self.built[id(scheduler)] = scheduler
        if self.references:  # a pristine copy, with its own optimizer, stepped alone for reference
            self.pristine[id(scheduler)] = copy.deepcopy(scheduler)
        self.schedulers[id(scheduler)] = {
            "index": len(self.schedulers),
            "class": type(scheduler).__name__,
            "file": where[0],
            "line": where[1],
            "optimizer": self.optimizer_index(scheduler.optimizer),
            "milestones": list(milestones) if isinstance(milestones, Counter) else [],  # in the order given
            "base_lrs": [float(lr) for lr in getattr(scheduler, "base_lrs", [])],
        }

    def stepped(self, scheduler: SchedulerLike, where: tuple[str, int] | None, kind: str = "scheduler_step") -> None:
        known = self.schedulers[id(scheduler)]
        lr = float(scheduler.optimizer.param_groups[0]["lr"])
        self.event(kind, where, scheduler=known["index"], optimizer=known["optimizer"], epoch=self.epoch(), lr=lr)

    def learning_rates(self) -> dict[str, float]:
        return {str(index): float(opt.param_groups[0]["lr"]) for index, opt in self.optimizers.items()}

    def epoch(self) -> int:
        return len(self.epoch_starts) - 1

    def epochs_run(self) -> int:
        steps = sum(1 for event in self.events if event["kind"] == "scheduler_step")
        return len(self.epoch_starts) or steps

    def report(self) -> dict[str, Any]:
        epochs = self.epochs_run()
        for key, info in self.schedulers.items():
            if key in self.pristine:
                info["per_epoch_reference"] = stepped_alone(self.pristine[key], epochs)
                info["per_batch_reference"] = stepped_alone(self.pristine[key], epochs * self.steps_per_epoch)
        return {
            "schedulers": list(self.schedulers.values()),
            "events": self.events,
            "epoch_starts": self.epoch_starts,
            "final": self.learning_rates(),
            "errors": self.errors,
        }


def stepped_alone(scheduler: SchedulerLike, steps: int) -> list[float] | str:
    """The LR after each of `steps` steps of a pristine copy, each after an optimizer step; or why not."""
    scheduler = copy.deepcopy(scheduler)
    lrs = []
    try:
        for _ in range(min(steps, REFERENCE_STEP_LIMIT)):
            scheduler.optimizer.step()
            scheduler.step()
            lrs.append(float(scheduler.optimizer.param_groups[0]["lr"]))
    except Exception as exception:  # noqa: BLE001 - OneCycleLR past its total_steps, a plateau without a metric
        return lrs or f"{type(exception).__name__}: {exception}"
    return lrs


RECORDING: Recording | None = None


def recording() -> Recording:
    assert RECORDING is not None, "no fixture is running"
    return RECORDING


def unpacked_count(frame: types.FrameType) -> int | None:
    """How many values the instruction being executed in `frame` unpacks, if it is an unpacking."""
    instruction = next(i for i in dis.get_instructions(frame.f_code) if i.offset == frame.f_lasti)
    if instruction.opname == "UNPACK_SEQUENCE":
        return instruction.arg
    if instruction.opname == "UNPACK_EX":
        return (instruction.arg & 0xFF) + (instruction.arg >> 8)
    return None


class Stub:
    """Stands in for anything the fixture does not define: data, models, losses, devices, loggers."""

    def __init__(self, name: str = "stub") -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"<Stub {self._name}>"

    def __getattr__(self, name: str) -> Stub:
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub(f"{self._name}.{name}")

    def __call__(self, *args: object, **kwargs: object) -> Stub:
        return Stub(f"{self._name}()")

    def parameters(self, *args: object, **kwargs: object) -> list[torch.nn.Parameter]:
        return [self.named_parameters()[0][1]]

    def named_parameters(self, *args: object, **kwargs: object) -> list[tuple[str, torch.nn.Parameter]]:
        if "_parameter" not in self.__dict__:
            self._parameter = torch.nn.Parameter(torch.zeros(1))
        return [("weight", self._parameter)]

    def keys(self) -> list[str]:
        return []  # `model(**batch)`: an empty mapping

    def __iter__(self) -> Iterator[Stub]:
        caller = sys._getframe(1)
        count = unpacked_count(caller)
        if count is not None:
            return iter([Stub(f"{self._name}[{i}]") for i in range(count)])
        return self.batches()

    def batches(self) -> Iterator[Stub]:
        run = recording()
        if run.training_loader is None:
            run.training_loader = self
        if run.training_loader is self:
            run.epoch_starts.append(run.learning_rates())
        for index in range(run.steps_per_epoch):
            yield Stub(f"{self._name}[{index}]")

    def __len__(self) -> int:
        return recording().steps_per_epoch

    def __getitem__(self, key: object) -> Stub:
        items = self.__dict__.setdefault("_items", {})  # loaders["train"] is the same loader every epoch
        try:
            return items.setdefault(key, Stub(f"{self._name}[{key!r}]"))
        except TypeError:  # an unhashable key
            return Stub(f"{self._name}[...]")

    def __contains__(self, item: object) -> bool:
        return False

    def __bool__(self) -> bool:
        return True

    def __float__(self) -> float:
        return 0.0

    def __int__(self) -> int:
        return 0

    def __format__(self, spec: str) -> str:
        try:
            return format(0.0, spec) if spec else repr(self)
        except ValueError:
            return repr(self)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    @classmethod
    def __torch_function__(cls, func: object, types: object, args: tuple = (), kwargs: dict | None = None) -> Stub:
        return Stub(getattr(func, "__name__", "torch"))

    def _absorb(self, *args: object) -> Stub:
        return Stub(self._name)

    def _never(self, other: object) -> bool:
        return False

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _absorb
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _absorb
    __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __neg__ = __pos__ = __abs__ = _absorb
    __iadd__ = __isub__ = __imul__ = __itruediv__ = _absorb
    __lt__ = __le__ = __gt__ = __ge__ = _never


class DataLoaderStandIn(Stub):
    """`torch.utils.data.DataLoader(...)` built by a fixture over a dataset it does not have."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__("DataLoader")


class FixtureNamespace(dict):
    """Module globals in which every name the fixture does not define (nor builtins) is a Stub."""

    def __missing__(self, name: str) -> Stub:
        if hasattr(builtins, name):
            raise KeyError(name)
        self[name] = Stub(name)
        return self[name]


def importer(frame: types.FrameType | None) -> str | None:
    """The file whose import statement is being executed, above the import machinery's frames."""
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    return frame.f_code.co_filename if frame else None


class HelperModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The script's own helper modules that the fixtures leave out (`from data import build_dataloader`).

    Only for imports made by fixture code, and never for a framework: a fixture that needs lightning
    or timm is skipped when they are not installed.
    """

    def find_spec(self, name: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        run = RECORDING
        if run is None or name.partition(".")[0] in FRAMEWORKS or importer(sys._getframe(1)) not in run.files:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__getattr__ = lambda attribute: Stub(f"{spec.name}.{attribute}")  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def record_construction(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: lr_scheduler.LRScheduler, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        run = RECORDING
        where = run.fixture_line(sys._getframe(1)) if run else None
        if run is not None and where is not None and id(self) not in run.schedulers:
            run.constructed(self, where)

    return __init__


def record_step(original: Callable[..., object]) -> Callable[..., object]:
    def step(self: lr_scheduler.LRScheduler, *args: object, **kwargs: object) -> object:
        try:
            result = original(self, *args, **kwargs)
        except Exception as exception:
            if RECORDING is not None and id(self) in RECORDING.schedulers and not hasattr(exception, "scheduler"):
                exception.scheduler = RECORDING.schedulers[id(self)]["index"]  # type: ignore[attr-defined]
            raise
        run, caller = RECORDING, sys._getframe(1)
        if run is not None and caller.f_code.co_filename in run.files and id(self) in run.schedulers:
            run.stepped(self, (caller.f_code.co_filename, caller.f_lineno))
        return result

    return step


def record_optimizer_step(optimizer: torch.optim.Optimizer, args: object, kwargs: object) -> None:
    run = RECORDING
    where = run.fixture_line(sys._getframe(1)) if run else None
    if run is not None and where is not None:
        index, lr = run.optimizer_index(optimizer), optimizer.param_groups[0]["lr"]
        run.event("optimizer_step", where, optimizer=index, epoch=run.epoch(), lr=lr)


def record_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    run = RECORDING
    where = run.fixture_line(sys._getframe(1)) if run else None
    if run is not None and where is not None:
        run.event("warning", where, message=str(message))


def instrument_torch() -> None:
    for cls in vars(lr_scheduler).values():
        if isinstance(cls, type) and issubclass(cls, lr_scheduler.LRScheduler | lr_scheduler.ReduceLROnPlateau):
            if "__init__" in vars(cls):
                cls.__init__ = record_construction(vars(cls)["__init__"])
            if "step" in vars(cls):
                cls.step = record_step(vars(cls)["step"])
    register_optimizer_step_post_hook(record_optimizer_step)
    sys.meta_path.append(HelperModules())
    torch.utils.data.DataLoader = DataLoaderStandIn  # type: ignore[misc]
    warnings.simplefilter("always")
    warnings.showwarning = record_warning


def error_of(exception: BaseException, run: Recording) -> dict[str, Any]:
    frames = traceback.extract_tb(exception.__traceback__)
    in_fixture = [frame for frame in frames if frame.filename in run.files]
    raised_by_torch = any(Path(torch.__file__).parent.as_posix() in Path(f.filename).as_posix() for f in frames)
    where = in_fixture[-1] if in_fixture else None
    return {
        "type": type(exception).__name__,
        "message": str(exception).splitlines()[0] if str(exception) else "",
        "file": where.filename if where else None,
        "line": where.lineno if where else None,
        "raised_by_torch": raised_by_torch and not isinstance(exception, ImportError),
        "about_a_stand_in": "Stub" in str(exception),  # the harness's limits, not a verdict of torch
        "scheduler": getattr(exception, "scheduler", None),  # raised by this scheduler's step()
        "epoch": run.epoch(),
    }


def execute_statements(path: Path, namespace: dict[str, Any], run: Recording) -> None:
    """Each top-level statement on its own: an exception is recorded and the next statement runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for statement in tree.body:
        code = compile(ast.Module(body=[statement], type_ignores=[]), str(path), "exec")
        try:
            exec(code, namespace)
        except ModuleNotFoundError:
            raise
        except Exception as exception:  # noqa: BLE001 - whatever the fixture raises is recorded
            run.errors.append(error_of(exception, run))


def evaluate(code: types.CodeType, namespace: dict[str, Any], run: Recording) -> None:
    """Evaluate an entry-point call or a probed expression; drive the schedulers it returns."""
    try:
        result = eval(code, namespace)
    except Exception as exception:  # noqa: BLE001 - whatever the fixture raises is recorded
        run.errors.append(error_of(exception, run))
        return
    values = list(result.values()) if isinstance(result, dict) else result
    for value in values if isinstance(values, tuple | list) else [values]:
        if id(value) in run.built:
            drive(value, run)


def drive(scheduler: SchedulerLike, run: Recording) -> None:
    try:
        for _ in range(DRIVEN_STEPS):
            scheduler.optimizer.step()
            scheduler.step()
            run.stepped(scheduler, None, kind="driven_step")
    except Exception as exception:  # noqa: BLE001 - whatever the fixture raises is recorded
        run.errors.append(error_of(exception, run))


def probe(path: Path, line: int, namespace: FixtureNamespace, run: Recording) -> None:
    """Evaluate again the outermost call at `line` of a module-level statement, when every name in it is bound.

    A statement that builds several schedulers (a dict of choices) stops at the first error;
    probing the others shows what torch makes of each.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    statement = next((s for s in tree.body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
    calls = (
        [n for n in ast.walk(statement) if isinstance(n, ast.Call) and n.lineno <= line <= (n.end_lineno or n.lineno)]
        if statement
        else []
    )
    if not calls:
        run.event("probe", (str(path), line), outcome="no call at this line of a module-level statement")
        return
    names = {n.id for n in ast.walk(calls[0]) if isinstance(n, ast.Name)}
    unbound = sorted(n for n in names if not hasattr(builtins, n) and isinstance(namespace.get(n, Stub()), Stub))
    if unbound:
        run.event("probe", (str(path), line), outcome=f"names not bound to real values: {', '.join(unbound)}")
        return
    evaluate(compile(ast.Expression(body=calls[0]), str(path), "eval"), namespace, run)


# Fixtures whose training loop is a framework's: another test runs them through that framework.
RUN_BY_THEIR_FRAMEWORK = {
    "lightning": "a LightningModule: tests/test_lightning_runs.py fits it with Lightning",
    "pytorch_lightning": "a LightningModule: tests/test_lightning_runs.py fits it with Lightning",
}


HF_TRAINER = "hands schedulers to the HF Trainer: tests/test_hf_trainer_runs.py trains them with it"


def imports_hf_trainer(tree: ast.Module) -> bool:
    """`from transformers import Trainer` (or Seq2SeqTrainer, ...)."""
    return any(
        isinstance(node, ast.ImportFrom)
        and (node.module or "").split(".")[0] == "transformers"
        and any(alias.name.endswith("Trainer") for alias in node.names)
        for node in ast.walk(tree)
    )


def run_by_its_framework(path: Path) -> str | None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    if imports_hf_trainer(tree):
        return HF_TRAINER
    return next((RUN_BY_THEIR_FRAMEWORK[name] for name in sorted(imported) if name in RUN_BY_THEIR_FRAMEWORK), None)


def run_fixture(spec: dict[str, Any], steps_per_epoch: int) -> dict[str, Any]:
    global RECORDING  # noqa: PLW0603 - the instrumented torch methods report to the fixture running now
    path = Path(spec["path"]).resolve()
    elsewhere = run_by_its_framework(path)
    if elsewhere is not None:
        return {"path": spec["path"], "skipped": elsewhere}
    root = Path(spec.get("root", path.parent)).resolve()
    # The run's own calls and the code it gives to unseen modules count as the fixture's code.
    files = set(spec["files"]) | {"<call>"} | {f"<{name}>" for name in spec.get("modules", {})}
    RECORDING = run = Recording(files=files, steps_per_epoch=steps_per_epoch, references=spec["references"])
    modules_before = set(sys.modules)
    for name, code in spec.get("modules", {}).items():  # modules lrlint cannot see, given real code here
        module = sys.modules[name] = types.ModuleType(name)
        exec(compile(code, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - the test's own code
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
    sys.path.insert(0, str(root))
    sys.argv = [str(path)]
    namespace = FixtureNamespace(__name__="__main__", __file__=str(path), __builtins__=builtins)
    if path.parent != root:  # inside a package: its relative imports resolve from the root
        namespace["__package__"] = ".".join(path.parent.relative_to(root).parts)
    for name, expression in spec.get("bind", {}).items():
        namespace[name] = eval(expression, {"Stub": Stub, "Args": types.SimpleNamespace, "torch": torch})
    signal.alarm(TIME_LIMIT_SECONDS)
    try:
        execute_statements(path, namespace, run)
        for expression in spec.get("calls", []):
            evaluate(compile(expression, "<call>", "eval"), namespace, run)
        for line in spec.get("probes", []):
            probe(path, line, namespace, run)
        return {"path": spec["path"], **run.report()}
    except ModuleNotFoundError as missing:
        return {"path": spec["path"], "skipped": f"needs {missing.name}, which is not installed"}
    except TimeoutError:
        return {"path": spec["path"], "skipped": f"still running after {TIME_LIMIT_SECONDS} s"}
    finally:
        signal.alarm(0)
        RECORDING = None
        sys.path.remove(str(root))
        for name in set(sys.modules) - modules_before:  # the fixture's own modules, not torch's lazy imports
            if str(getattr(sys.modules[name], "__file__", None) or "").startswith(str(root)) or name in spec.get(
                "modules", {}
            ):
                del sys.modules[name]


def timed(run: Callable[..., dict[str, Any]], *args: object) -> dict[str, Any]:
    started = time.perf_counter()
    report = run(*args)
    return {**report, "seconds": round(time.perf_counter() - started, 2)}


def on_alarm(signum: int, frame: object) -> None:
    raise TimeoutError


def main() -> None:
    request = json.load(sys.stdin)
    instrument_torch()
    signal.signal(signal.SIGALRM, on_alarm)
    torch.manual_seed(0)
    with contextlib.redirect_stdout(io.StringIO()):  # what the fixtures print
        reports = [timed(run_fixture, spec, request["steps_per_epoch"]) for spec in request["runs"]]
    json.dump(reports, sys.stdout)


if __name__ == "__main__":
    main()
