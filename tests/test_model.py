"""The model rules read: what objects are, how loops are classified, how schedulers are sized."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from lrlint.config import Settings
from lrlint.linter import Linter
from lrlint.model import LoopKind, Project, Role, StepCadence, TrainingModel, Unit, build_model
from lrlint.model.syntax import string_value
from lrlint.sources import Source


def model_of(code: str) -> TrainingModel:
    return build_model(cst.parse_module(textwrap.dedent(code)))


def steps(model: TrainingModel, role: Role) -> list[tuple[str, list[str], StepCadence]]:
    """(receiver, stepped object names, cadence) of every step, in trace order, deduplicated."""
    seen, found = set(), []
    for trace in model.traces:
        for item in trace.steps(role):
            key = (model.receiver(item.call), tuple(sorted(o.name for o in item.objects)), trace.cadence(item))
            if key not in seen:
                seen.add(key)
                found.append((key[0], list(key[1]), key[2]))
    return found


@pytest.mark.parametrize(
    "imports, constructor",
    [
        ("import torch", "torch.optim.lr_scheduler.StepLR"),
        ("import torch.optim.lr_scheduler as sched", "sched.StepLR"),
        ("from torch.optim import lr_scheduler", "lr_scheduler.StepLR"),
        ("from torch.optim.lr_scheduler import StepLR as S", "S"),
        ("from torch import optim", "optim.lr_scheduler.StepLR"),
    ],
)
def test_schedulers_resolve_through_every_import_form(imports: str, constructor: str) -> None:
    model = model_of(
        f"{imports}\nimport torch\nopt = torch.optim.SGD(p, lr=0.1)\ns = {constructor}(opt, 5)\ns.step()\n"
    )
    assert steps(model, Role.SCHEDULER) == [("s", ["StepLR"], StepCadence.UNKNOWN)]


def test_unknown_origin_and_lookalike_names_are_not_schedulers() -> None:
    model = model_of(
        """
        import torch
        from mylib import StepLR, build_scheduler
        s1 = StepLR(opt, 5)
        s2 = build_scheduler(cfg)
        env = gym.make("CartPole-v1")
        for x in loader:
            s1.step(); s2.step(); env.step(0)
        """
    )
    assert steps(model, Role.SCHEDULER) == [] and steps(model, Role.OPTIMIZER) == []


def test_self_attributes_helpers_and_passthrough_calls_resolve() -> None:
    model = model_of(
        """
        import torch
        from accelerate import Accelerator

        def make(model):
            opt = torch.optim.AdamW(model.parameters())
            return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=1000)

        class Trainer:
            def __init__(self, model, scheduler):
                self.optimizer, self.lr_scheduler = make(model)
                self.extra = scheduler

            def fit(self, loader):
                for epoch in range(3):
                    self.run_epoch(loader)

            def run_epoch(self, loader):
                for batch in loader:
                    self.optimizer.step()
                    self.lr_scheduler.step()
                self.extra.step()

        accelerator = Accelerator()
        optimizer = torch.optim.SGD(params, lr=0.1)
        model, optimizer = accelerator.prepare(model, optimizer)
        trainer = Trainer(model, torch.optim.lr_scheduler.StepLR(optimizer, 10))
        trainer.fit(loader)
        """
    )
    assert steps(model, Role.SCHEDULER) == [
        ("self.lr_scheduler", ["OneCycleLR"], StepCadence.PER_BATCH),
        ("self.extra", ["StepLR"], StepCadence.PER_EPOCH),
    ]
    assert steps(model, Role.OPTIMIZER) == [("self.optimizer", ["AdamW"], StepCadence.PER_BATCH)]


def test_scheduler_optimizer_link_and_grad_scaler_step() -> None:
    model = model_of(
        """
        import torch
        g = torch.optim.Adam(gen.parameters())
        d = torch.optim.Adam(disc.parameters())
        sg = torch.optim.lr_scheduler.ExponentialLR(g, 0.9)
        scaler = torch.cuda.amp.GradScaler()
        for x in loader:
            scaler.step(d)
        """
    )
    scheduler = next(o for o in model.resolver.constructed() if o.role is Role.SCHEDULER)
    assert [model.code(o.call.args[0].value) for o in scheduler.optimizers] == ["gen.parameters()"]
    assert steps(model, Role.OPTIMIZER) == [("scaler", ["Adam"], StepCadence.PER_BATCH)]


@pytest.mark.parametrize(
    "loop, kind",
    [
        ("for epoch in range(10):", LoopKind.EPOCH),
        ("for ep in range(args.num_epochs):", LoopKind.EPOCH),
        ("for i, (x, y) in enumerate(train_loader):", LoopKind.BATCH),
        ("for batch in tqdm(dataloader):", LoopKind.BATCH),
        ("for i in range(len(loader)):", LoopKind.BATCH),
        ("for i in range(steps_per_epoch):", LoopKind.BATCH),
        ("while it < max_iter:", LoopKind.BATCH),
        ("for group in optimizer.param_groups:", LoopKind.OTHER),
    ],
)
def test_loop_classification_by_names(loop: str, kind: LoopKind) -> None:
    model = model_of(f"import torch\ns = torch.optim.lr_scheduler.StepLR(o, 1)\n{loop}\n    s.step()\n")
    assert [loop.kind for loop in model.traces[0].loops] == [kind]


@pytest.mark.parametrize(
    "loops, passes_data",
    [
        (["for i in range(num_iters):"], [False]),  # full-batch or iteration-based: the run counts steps
        (["for epoch in range(10):", "for i in range(num_iters):"], [False, True]),  # the batches of an epoch
        (["for step in range(total_steps):"], [False]),
        (["for batch in loader:"], [True]),
        (["for i in range(len(loader)):"], [True]),
    ],
)
def test_a_loop_counting_steps_passes_over_data_only_inside_an_epoch(loops: list[str], passes_data: list[bool]) -> None:
    body = "".join(f"{'    ' * depth}{loop}\n" for depth, loop in enumerate(loops))
    indent = "    " * len(loops)
    built = "import torch\no = torch.optim.SGD(p)\ns = torch.optim.lr_scheduler.StepLR(o, 1)\n"
    model = model_of(f"{built}{body}{indent}o.step()\n{indent}s.step()\n")
    assert [loop.iterates_data for loop in model.traces[0].loops] == passes_data


def test_loops_are_classified_by_what_they_contain() -> None:
    model = model_of(
        """
        import torch
        opt = torch.optim.SGD(p, lr=0.1)
        s = torch.optim.lr_scheduler.StepLR(opt, 5)
        def one_pass(items):
            for item in items:
                opt.step()
        for e in range(10):
            one_pass(items)
            s.step()
        """
    )
    kinds = {model.code(loop.node).split(":")[0]: loop.kind for loop in model.traces[0].loops}
    assert kinds == {"for e in range(10)": LoopKind.EPOCH, "for item in items": LoopKind.BATCH}
    assert steps(model, Role.SCHEDULER) == [("s", ["StepLR"], StepCadence.PER_EPOCH)]


@pytest.mark.parametrize(
    "constructor, unit",
    [
        ("StepLR(opt, step_size=30)", Unit.EPOCHS),
        ("StepLR(opt, 30)", Unit.EPOCHS),
        ("StepLR(opt, step_size=2000)", Unit.UNKNOWN),
        ("StepLR(opt, step_size=args.lr_step)", Unit.UNKNOWN),
        ("StepLR(opt, step_size=STEP)", Unit.EPOCHS),  # module constant 30
        ("MultiStepLR(opt, milestones=[30, 60, 90])", Unit.EPOCHS),
        ("MultiStepLR(opt, milestones=[60000, 80000])", Unit.UNKNOWN),
        ("MultiStepLR(opt, [int(0.5 * args.epochs), int(0.75 * args.epochs)])", Unit.EPOCHS),
        ("MultiStepLR(opt, milestones=args.lr_steps)", Unit.UNKNOWN),
        ("CosineAnnealingLR(opt, T_max=args.epochs)", Unit.EPOCHS),
        ("CosineAnnealingLR(opt, T_max=cfg['epochs'] - WARMUP)", Unit.EPOCHS),
        ("CosineAnnealingLR(opt, T_max=args.epochs * len(loader))", Unit.ITERATIONS),
        ("CosineAnnealingLR(opt, T_max=epochs * steps)", Unit.UNKNOWN),
        ("CosineAnnealingLR(opt, T_max=num_training_steps)", Unit.ITERATIONS),
        ("ExponentialLR(opt, gamma=0.9)", Unit.EPOCHS),
        ("ExponentialLR(opt, gamma=0.99995)", Unit.UNKNOWN),
        ("LinearLR(opt, start_factor=0.1, total_iters=5)", Unit.EPOCHS),
        ("LinearLR(opt, start_factor=0.1, total_iters=500)", Unit.UNKNOWN),
        ("LinearLR(opt, start_factor=0.1)", Unit.EPOCHS),  # the default total_iters=5
        ("OneCycleLR(opt, 0.1, epochs=10, steps_per_epoch=len(loader))", Unit.ITERATIONS),
        ("OneCycleLR(opt, 0.1, total_steps=args.epochs)", Unit.EPOCHS),
        ("OneCycleLR(opt, 0.1, total_steps=100)", Unit.UNKNOWN),
        ("CyclicLR(opt, 0.01, 0.1)", Unit.ITERATIONS),
        ("LambdaLR(opt, lambda e: 0.95 ** e)", Unit.EPOCHS),  # decays like ExponentialLR(gamma=0.95)
        ("LambdaLR(opt, lambda e: 0.5 ** (e // args.decay_every))", Unit.UNKNOWN),
        ("LambdaLR(opt, lambda e: 0.1 ** (e // 30000))", Unit.ITERATIONS),
        ("LambdaLR(opt, lambda e: min(1.0, (e + 1) / args.warmup_epochs))", Unit.EPOCHS),
        ("LambdaLR(opt, lambda e: min(1.0, (e + 1) / args.warmup))", Unit.UNKNOWN),
        ("LambdaLR(opt, lambda s: 1 - s / (args.epochs * len(loader)))", Unit.ITERATIONS),
        ("LambdaLR(opt, [lambda e: 1.0 if e < args.epochs // 2 else 0.1, lambda e: 0.97 ** e])", Unit.EPOCHS),
        ("LambdaLR(opt, lambda s: min(s / args.num_epochs, (s + 1) / num_training_steps))", Unit.UNKNOWN),
        ("LambdaLR(opt, lambda e: 1.0)", Unit.UNKNOWN),
        ("LambdaLR(opt, schedule_fn)", Unit.UNKNOWN),
        ("MultiplicativeLR(opt, lambda e: 0.95)", Unit.EPOCHS),
        ("MultiplicativeLR(opt, lambda e: 0.9999)", Unit.UNKNOWN),
        ("ReduceLROnPlateau(opt)", Unit.UNKNOWN),
    ],
)
def test_scheduler_sizing(constructor: str, unit: Unit) -> None:
    model = model_of(
        f"from torch.optim.lr_scheduler import *\nimport torch\nSTEP = 30\nWARMUP = 5\n"
        f"opt = torch.optim.SGD(p, lr=0.1)\ns = {constructor}\ns.step()\n"
    )
    scheduler = next(o for o in model.resolver.constructed() if o.role is Role.SCHEDULER)
    assert model.sizing(scheduler).unit is unit


@pytest.mark.parametrize(
    "constructor, unit",
    [
        (
            "get_linear_schedule_with_warmup(opt, num_warmup_steps=0, num_training_steps=max_train_steps)",
            Unit.ITERATIONS,
        ),
        ("get_linear_schedule_with_warmup(opt, 0, args.epochs)", Unit.EPOCHS),
        ("get_cosine_schedule_with_warmup(opt, args.warmup, t_total)", Unit.ITERATIONS),
        ("get_constant_schedule(opt)", Unit.UNKNOWN),
    ],
)
def test_transformers_schedule_sizing(constructor: str, unit: Unit) -> None:
    model = model_of(
        f"import torch\nfrom transformers import *\nopt = torch.optim.AdamW(p)\ns = {constructor}\ns.step()\n"
    )
    scheduler = next(o for o in model.resolver.constructed() if o.role is Role.SCHEDULER)
    assert model.sizing(scheduler).unit is unit


def test_a_loop_around_the_epoch_loop_is_neither_epoch_nor_batch() -> None:
    model = model_of(
        """
        import torch
        for fold, (train_idx, val_idx) in enumerate(kfold.split(dataset)):
            opt = torch.optim.SGD(p, lr=0.1)
            s = torch.optim.lr_scheduler.StepLR(opt, 5)
            for epoch in range(20):
                for x in loader:
                    opt.step()
                s.step()
        """
    )
    assert [loop.kind for loop in model.traces[0].loops] == [LoopKind.OTHER, LoopKind.EPOCH, LoopKind.BATCH]
    assert steps(model, Role.SCHEDULER) == [("s", ["StepLR"], StepCadence.PER_EPOCH)]


@pytest.mark.parametrize(
    "condition, kept",
    [
        ("if s is not None:", False),
        ("if s:", False),
        ("if self_s is not None and s:", True),
        ("if s is not None and epoch > 5:", True),
        ("if s is None:\n                pass\n            else:", False),
        ("if not s:\n                pass\n            else:", False),
        ("if s is None:", True),
    ],
)
def test_a_condition_that_only_tests_the_stepped_object_exists_is_dropped(condition: str, kept: bool) -> None:
    model = model_of(
        f"""
        import torch
        opt = torch.optim.SGD(p, lr=0.1)
        s = torch.optim.lr_scheduler.StepLR(opt, 5)
        for epoch in range(20):
            opt.step()
            {condition}
                s.step()
        """
    )
    (item,) = model.traces[0].steps(Role.SCHEDULER)
    assert bool(item.guards) is kept


@pytest.mark.parametrize(
    "literal",
    [
        '"lr"',
        "'lr'",
        'r"lr"',
        'u"lr"',
        'b"lr"',
        'rb"lr"',
        '"l\\x72"',
        '"""lr"""',
        "'''lr'''",
        "''",
        '"it\'s"',
        "'a\"b'",
    ],
)
def test_string_values_read_off_the_text_match_python(literal: str) -> None:
    node = cst.parse_expression(literal)
    assert isinstance(node, cst.SimpleString)
    expected = node.evaluated_value
    assert string_value(node) == (expected if isinstance(expected, str) else None)


def test_an_instance_built_in_another_module_reads_its_own_attributes_in_init(tmp_path: Path) -> None:
    """`self._schedule = warmup(self.optimizer)` in `__init__` reads the optimizer the construction passed."""
    (tmp_path / "schedules.py").write_text(
        textwrap.dedent(
            """
            from torch.optim import Optimizer
            from torch.optim.lr_scheduler import LambdaLR

            class Schedule:
                def __init__(self, optimizer: Optimizer, warmup_steps: int):
                    self.optimizer = optimizer
                    self._schedule = warmup(self.optimizer, warmup_steps)

                def step(self):
                    self._schedule.step()

            def warmup(optimizer: Optimizer, steps: int) -> LambdaLR:
                return LambdaLR(optimizer, lambda step: min(1.0, step / steps))
            """
        ),
        encoding="utf-8",
    )
    code = textwrap.dedent(
        """
        import torch
        from schedules import Schedule

        optimizer = torch.optim.SGD(params, lr=0.1)
        schedule = Schedule(optimizer, warmup_steps=100)
        for batch in loader:
            optimizer.step()
            schedule.step()
        """
    )
    model = build_model(cst.parse_module(code), Source(str(tmp_path / "train.py"), code), Project())
    (_, step), *_ = model.scheduler_steps()
    assert {(o.name, o.evidence.name) for o in model.optimizers_for(step)} == {("SGD", "CONSTRUCTED")}


def test_a_schedulers_optimizer_attribute_is_the_optimizer_it_drives() -> None:
    model = model_of(
        """
        import torch
        opt = torch.optim.SGD(p, lr=0.1)
        s = torch.optim.lr_scheduler.StepLR(opt, 5)
        for epoch in range(20):
            s.optimizer.step()
            s.step()
        """
    )
    assert steps(model, Role.OPTIMIZER) == [("s.optimizer", ["SGD"], StepCadence.PER_EPOCH)]


def test_a_module_linted_after_another_file_loaded_it_stays_one_module(tmp_path: Path) -> None:
    """Linted after lit.py loaded it, schedules.py must not be parsed into a second analysis: lit.py's
    resolutions into it would then point into a module the project no longer holds."""
    files = {
        "schedules.py": "import torch\n\ndef build(opt, max_steps):\n"
        "    return torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=max_steps)\n",
        "lit.py": "import torch\nimport lightning as L\nfrom schedules import build\n\n"
        "class Lit(L.LightningModule):\n    def configure_optimizers(self):\n"
        "        opt = torch.optim.AdamW(self.parameters())\n"
        '        return {"optimizer": opt, "lr_scheduler": build(opt, self.trainer.estimated_stepping_batches)}\n',
        "seg.py": "from lit import Lit\n\nclass Seg(Lit):\n    def on_train_epoch_end(self):\n"
        "        sched = self.lr_schedulers()\n        sched.step()\n",
    }
    for name, code in files.items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    linter = Linter.for_files([tmp_path / name for name in files], Settings())
    results = [linter.lint_path(tmp_path / name) for name in ("lit.py", "schedules.py", "seg.py")]
    assert [error for result in results for error in result.internal_errors] == []
    assert sorted({f.code for f in results[2].findings}) == ["LR103", "LR105"]
    # The other way round, lit.py (loaded for seg.py) still records what its own analysis reads.
    linter = Linter.for_files([tmp_path / name for name in files], Settings())
    seg, lit = (linter.lint_path(tmp_path / name) for name in ("seg.py", "lit.py"))
    assert [Path(p).name for p in lit.dependencies] == ["schedules.py"]


def test_a_name_bound_to_itself_does_not_loop_the_class_lookup() -> None:
    model = model_of(
        """
        import torch
        def train(transform, optimizer):
            transform = transform
            scheduler = transform(optimizer)
            for epoch in range(10):
                optimizer.step()
                scheduler.step()
        """
    )
    assert model.traces
