"""`lrlint simulate` and the lr_sequence API, against the tutorial facts, independent arithmetic and torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lrlint.cli import main

torch = pytest.importorskip("torch")
from lrlint.simulate import lr_sequence, lr_sequence_of  # noqa: E402 - needs torch

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def close(actual: list[float], expected: list[float]) -> bool:
    return len(actual) == len(expected) and all(abs(a - b) < 1e-12 for a, b in zip(actual, expected, strict=True))


def test_steplr_after_three_steps_is_half_the_lr() -> None:
    assert close(lr_sequence("StepLR", 0.1, 4, step_size=2, gamma=0.5)[3:], [0.05])


def test_steplr_per_epoch_in_both_conventions() -> None:
    during = lr_sequence("StepLR", 0.1, 7, step_size=3, gamma=0.1)
    assert close(during[:6], [0.1, 0.1, 0.1, 0.01, 0.01, 0.01])  # the LR each epoch trains with
    assert close(during[1:7], [0.1, 0.1, 0.01, 0.01, 0.01, 0.001])  # get_last_lr() printed after each step


def test_exponential_with_adam() -> None:
    lrs = lr_sequence(torch.optim.lr_scheduler.ExponentialLR, 0.01, 5, optimizer="Adam", gamma=0.9)
    assert close(lrs, [0.01 * 0.9**k for k in range(5)])


def step_then_exponential_expected(switch_restarts: bool) -> list[float]:
    """The two-phase schedule computed by hand, for 25 epochs."""
    phase1 = [0.1 * 0.5 ** (epoch // 5) for epoch in range(20)]
    if switch_restarts:  # SequentialLR: the second scheduler starts again from the base LR
        return phase1 + [0.1 * 0.9**k for k in range(5)]
    after_boundary = 0.1 * 0.5 ** (20 // 5)  # the step at the end of epoch 19 is StepLR's
    return phase1 + [after_boundary * 0.9**k for k in range(5)]


def test_two_phases_as_sequential_lr_restart_from_the_base_lr() -> None:
    def build(opt: object) -> object:
        lr = torch.optim.lr_scheduler
        return lr.SequentialLR(opt, [lr.StepLR(opt, 5, 0.5), lr.ExponentialLR(opt, 0.9)], milestones=[20])

    lrs = lr_sequence_of(build, 0.1, 25, lambda _, scheduler: scheduler.step())
    assert close(lrs, step_then_exponential_expected(switch_restarts=True))
    assert close(lrs[15:23], [0.0125] * 5 + [0.1, 0.09, 0.081])


def test_two_phases_switched_by_hand_continue_from_the_current_lr() -> None:
    def build(opt: object) -> tuple[object, object]:
        lr = torch.optim.lr_scheduler
        return lr.StepLR(opt, 5, 0.5), lr.ExponentialLR(opt, 0.9)

    def step(epoch: int, phases: tuple[object, object]) -> None:
        (phases[0] if epoch < 20 else phases[1]).step()  # type: ignore[attr-defined]

    lrs = lr_sequence_of(build, 0.1, 25, step)
    assert close(lrs, step_then_exponential_expected(switch_restarts=False))


def simulate(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["simulate", *args])
    return done.exit_code, done.stdout


def test_simulate_the_two_phase_fixture_and_point_out_the_jump() -> None:
    code, out = simulate(str(FIXTURES / "two_phase_sequential_clean.py"), "--epochs", "23")
    assert code == 0
    assert "       19  0.0125        0.1\n       20  0.1           0.09\n" in out
    assert "note: LR jumps from 0.0125 to 0.1 at epoch 20: SequentialLR restarts the next scheduler" in out


def test_simulate_onecycle_stepped_per_epoch_shows_it_never_leaves_warmup() -> None:
    code, out = simulate(str(FIXTURES / "onecycle_per_epoch.py"), "--epochs", "3", "--steps-per-epoch", "500")
    assert code == 0 and "assuming len(loader) = 500 (--steps-per-epoch)" in out
    assert "stepped only 3 times (once per epoch)" in out
    options = ("--epochs", "3", "--steps-per-epoch", "500", "--format", "json")
    data = json.loads(simulate(str(FIXTURES / "onecycle_per_epoch.py"), *options)[1])
    (schedule,) = data
    start, end = schedule["lr_per_epoch"][0]["start"], schedule["lr_per_epoch"][-1]["end"]
    assert schedule["cadence"] == "per epoch" and start < end < start * 1.003  # left warmup by under 0.3%


def test_simulate_states_what_it_cannot_know(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nopt = torch.optim.SGD(params, lr=0.1)\n"
        "s = torch.optim.lr_scheduler.StepLR(opt, step_size=args.step)\n"
        "for epoch in range(9):\n    for b in loader:\n        opt.step()\n    s.step()\n"
    )
    code, out = simulate(str(path))
    assert code == 2 and "cannot simulate: `args.step` is not known before the run" in out  # 2: nothing simulated


def test_check_never_imports_torch() -> None:
    probe = (
        "import sys\nfrom lrlint.cli import main\n"
        f"try:\n    main(['check', '--no-cache', {str(FIXTURES)!r}])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.stdout.strip().splitlines()[-1] == "False"


def check(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["check", "--no-cache", *args])
    return done.exit_code, done.stdout, done.stderr


def test_confirm_adds_the_simulated_consequence() -> None:
    """Over the code's own 90 epochs of 100 batches: StepLR(step_size=30) decays 300 times, not 3."""
    project = str(FIXTURES / "projects" / "engine_steps_per_batch")
    code, out, _ = check(project, "--confirm")
    assert code == 1 and out.splitlines()[1] == (
        "  = simulated StepLR stepped every batch: lr 0.1 -> 1e-301 after 90 epochs; "
        "stepped at the cadence it was sized for: 0.0001"
    )
    (finding,) = json.loads(check(project, "--confirm", "--format", "json")[1])
    assert finding["code"] == "LR102" and finding["consequence"].startswith("simulated StepLR stepped every batch")
    assert "consequence" not in json.loads(check(project, "--format", "json")[1])[0]


def test_confirm_without_torch_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    code, _, err = check(str(FIXTURES / "onecycle_per_epoch.py"), "--confirm")
    assert code == 2 and "--confirm needs torch: pip install 'lrlint[torch]'" in err


def test_plot_draws_the_jump_in_a_plain_terminal() -> None:
    code, out = simulate(str(FIXTURES / "two_phase_sequential_clean.py"), "--epochs", "30", "--plot")
    chart = out.split("restarts the next scheduler from the base LR\n", 1)[1].splitlines()
    assert code == 0 and chart[0].strip().startswith("0.1 |*****") and chart[9].strip().startswith("0.0125 |")
    assert chart[0].split("|", 1)[1][20] == "*"  # back at the top at epoch 20
    assert all(ord(character) < 128 for character in out)


def test_png_without_matplotlib_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    code, _ = simulate(str(FIXTURES / "two_phase_sequential_clean.py"), "--png", "lr.png")
    assert code == 2


def test_argparse_defaults_are_used_and_stated() -> None:
    code, out = simulate(str(FIXTURES / "argparse_cosine_per_batch.py"), "--epochs", "2", "--steps-per-epoch", "3")
    assert code == 0 and "assuming args.epochs = 100 (its argparse default)" in out
    assert "sized in epochs (T_max=args.epochs (100 by default)), but stepped 6 times (every batch)" in out


def test_simulate_the_if_switch_fixture_continues_from_the_current_lr() -> None:
    options = ("--epochs", "25", "--format", "json")
    (schedule,) = json.loads(simulate(str(FIXTURES / "two_phase_if_switch_clean.py"), *options)[1])
    assert schedule["scheduler"] == "StepLR / ExponentialLR"
    starts = [epoch["start"] for epoch in schedule["lr_per_epoch"]]
    assert close(starts, step_then_exponential_expected(switch_restarts=False))


def test_the_epoch_count_comes_from_the_code_when_known(tmp_path: Path) -> None:
    code, out = simulate(str(FIXTURES / "tutorial_steplr_clean.py"))
    assert code == 0 and out.startswith(f"{FIXTURES / 'tutorial_steplr_clean.py'}: 30 epochs")
    assert "assuming 30 epochs, as the code's `range(30)` (--epochs to change)" in out
    assert "       10  0.01          0.01\n" in out and "       29  0.001         0.0001\n" in out
    path = tmp_path / "loop.py"
    path.write_text(
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\ns = torch.optim.lr_scheduler.StepLR(opt, 2)\n"
        "for epoch in range(start, end):\n    for b in loader:\n        opt.step()\n    s.step()\n"
    )
    code, out = simulate(str(path))
    assert "assuming 10 epochs: the code's epoch count is not known (--epochs to change)" in out


def test_lambdas_of_pure_arithmetic_are_evaluated_safely(tmp_path: Path) -> None:
    warmup = "torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 5))"
    (schedule,) = json.loads(simulate_loop(tmp_path, warmup, "", "    s.step()\n"))
    expected = [0.1 * min(1.0, (epoch + 1) / 5) for epoch in range(3)]
    assert close([epoch["start"] for epoch in schedule["lr_per_epoch"]], expected)


def test_simulate_never_runs_user_code(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    path = tmp_path / "train.py"
    path.write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\nimport torch\n"
        "opt = torch.optim.SGD(p, lr=0.1)\n"
        f"s = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: __import__('pathlib').Path({str(marker)!r}).touch())\n"
        f"t = torch.optim.lr_scheduler.StepLR(opt, step_size=open({str(marker)!r}, 'w').write('x'))\n"
        "for epoch in range(3):\n    for b in loader:\n        opt.step()\n    s.step()\n    t.step()\n"
    )
    code, out = simulate(str(path))
    assert code == 2 and out.count("cannot simulate: ") == 2
    assert not marker.exists()


def test_files_that_cannot_be_read_or_parsed_are_one_line_each(tmp_path: Path) -> None:
    binary, deep = tmp_path / "binary.py", tmp_path / "deep.py"
    binary.write_bytes(b"\x7fELF\x00\x01")
    deep.write_text("from torch.optim import lr_scheduler\nx = " + "(" * 3000 + "1" + ")" * 3000 + "\n")
    done = CliRunner().invoke(main, ["simulate", str(binary), str(deep), str(FIXTURES / "tutorial_steplr_clean.py")])
    assert done.exit_code == 0 and "StepLR (line 12), stepped per epoch" in done.stdout
    assert done.stderr.splitlines() == [
        f"lrlint: {binary}: cannot simulate: file contains NUL bytes: not a Python source file",
        f"lrlint: {deep}: cannot simulate: line 2: invalid syntax: too many nested parentheses",
        "Simulated 1 of 1 schedule.",
    ]


def test_simulate_walks_folders_lists_only_files_with_schedulers_and_sums_up(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text((FIXTURES / "tutorial_steplr_clean.py").read_text())
    (tmp_path / "utils.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "plateau.py").write_text((FIXTURES / "plateau_clean.py").read_text())
    done = CliRunner().invoke(main, ["simulate", str(tmp_path)])
    assert done.exit_code == 0
    assert "train.py: " in done.stdout and "plateau.py: " in done.stdout and "utils.py" not in done.stdout
    assert done.stderr.splitlines()[-1] == "Simulated 2 of 2 schedules."
    (tmp_path / "config.py").write_text(
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\ns = torch.optim.lr_scheduler.StepLR(opt, cfg.step)\n"
        "for epoch in range(3):\n    for b in loader:\n        opt.step()\n    s.step()\n"
    )
    unknown = CliRunner().invoke(main, ["simulate", str(tmp_path / "config.py")])
    assert unknown.exit_code == 2  # none could be simulated
    assert (
        unknown.stderr.splitlines()[-1]
        == "Simulated 0 of 1 schedule; not simulated: 1 a value not known before the run."
    )


def simulate_loop(tmp_path: Path, scheduler: str, batch_body: str, epoch_tail: str = "", header: str = "") -> str:
    """`lrlint simulate --format json` of a small script: SGD lr=0.1, 3 epochs of `for i, b in enumerate(loader)`."""
    path = tmp_path / "train.py"
    path.write_text(
        f"{header}import torch\nopt = torch.optim.SGD(params, lr=0.1)\ns = {scheduler}\n"
        f"for epoch in range(3):\n    for i, b in enumerate(loader):\n        opt.step()\n{batch_body}{epoch_tail}"
    )
    code, out = simulate(str(path), "--steps-per-epoch", "8", "--format", "json")
    simulated = any(row["lr_per_epoch"] for row in json.loads(out))
    assert code == (0 if simulated else 2), out  # 2: no schedule could be simulated
    return out


def epoch_ends(out: str) -> list[float]:
    (schedule,) = json.loads(out)
    return [epoch["end"] for epoch in schedule["lr_per_epoch"]]


def simulate_script(tmp_path: Path, code: str, *options: str) -> tuple[dict[str, Any], list[float]]:
    """`lrlint simulate --format json` of a script with one schedule, which must be simulated: the
    schedule's JSON and the rate at the end of each epoch."""
    path = tmp_path / "train.py"
    path.write_text(code)
    exit_code, out = simulate(str(path), *options, "--format", "json")
    assert exit_code == 0, out
    (schedule,) = json.loads(out)
    return schedule, epoch_ends(out)


def test_a_step_guarded_by_the_batch_index_runs_where_the_test_holds(tmp_path: Path) -> None:
    exponential = "torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)"
    last_batch = simulate_loop(tmp_path, exponential, "        if i == len(loader) - 1:\n            s.step()\n")
    assert close(epoch_ends(last_batch), [0.05, 0.025, 0.0125])
    every_fourth = simulate_loop(tmp_path, exponential, "        if (i + 1) % 4 == 0:\n            s.step()\n")
    assert close(epoch_ends(every_fourth), [0.1 * 0.5**2, 0.1 * 0.5**4, 0.1 * 0.5**6])
    assert "stepped on 2 of 8 batches per epoch (its `if`)" in json.loads(every_fourth)[0]["notes"]


def test_two_step_calls_per_epoch_advance_the_schedule_twice(tmp_path: Path) -> None:
    out = simulate_loop(
        tmp_path, "torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)", "", "    s.step()\n    s.step()\n"
    )
    assert close(epoch_ends(out), [0.025, 0.00625, 0.0015625])


def test_a_step_with_an_epoch_is_not_simulated(tmp_path: Path) -> None:
    warm_restarts = "torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2)"
    out = simulate_loop(tmp_path, warm_restarts, "        s.step(epoch + i / 8)\n")
    assert "the code sets the position itself" in json.loads(out)[0]["cannot_simulate"]


def test_per_step_rows_where_the_lr_changes_within_an_epoch(tmp_path: Path) -> None:
    onecycle = "torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3 * len(loader))"
    out = simulate_loop(tmp_path, onecycle, "        s.step()\n")
    (schedule,) = json.loads(out)
    assert any(note.startswith("within epoch 0 the lr reaches 0.0997537 (step 6)") for note in schedule["notes"])
    path = tmp_path / "train.py"
    code, steps = simulate(str(path), "--steps-per-epoch", "8", "--per-step", "--format", "json")
    expected = lr_sequence("OneCycleLR", 0.1, 24, max_lr=0.1, total_steps=24)
    assert code == 0 and close(json.loads(steps)[0]["lr_per_step"], expected)
    code, table = simulate(str(path), "--steps-per-epoch", "8", "--per-step")
    assert "       step  epoch  lr (during the step)\n" in table and "\n         23      2  " in table


def test_a_cadence_finding_shows_the_schedule_as_sized_beside_it() -> None:
    code, out = simulate(str(FIXTURES / "onecycle_per_epoch.py"), "--steps-per-epoch", "100")
    assert "    epoch  lr (start)    lr (end)      as sized (end)\n" in out
    assert "stepped only 3 times (once per epoch): 1.0% of the run's 300 optimizer steps" in out


def test_transformers_factories_are_simulated_with_the_installed_library(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    path = tmp_path / "finetune.py"
    path.write_text(
        "import torch\nfrom transformers import get_linear_schedule_with_warmup\n"
        "opt = torch.optim.AdamW(model.parameters(), lr=1e-3)\n"
        "s = get_linear_schedule_with_warmup(opt, num_warmup_steps=5, num_training_steps=2 * len(loader))\n"
        "for epoch in range(2):\n    for batch in loader:\n        opt.step()\n        s.step()\n"
    )
    code, out = simulate(str(path), "--steps-per-epoch", "10", "--per-step", "--format", "json")
    by_hand = [1e-3 * min(step / 5, max(0.0, (20 - step) / (20 - 5))) for step in range(20)]
    assert code == 0 and close(json.loads(out)[0]["lr_per_step"], by_hand)


def test_schedulers_of_one_optimizer_are_simulated_together() -> None:
    """Per-batch warmup in epoch 0 (`if epoch == 0`), then StepLR(30) stepped `if epoch > 0`: as torch combines them."""
    code, out = simulate(str(FIXTURES / "warmup_then_epoch_clean.py"), "--format", "json")
    (schedule,) = json.loads(out)
    starts = [epoch["start"] for epoch in schedule["lr_per_epoch"]]
    assert code == 0 and schedule["scheduler"] == "LambdaLR + StepLR"
    assert close(starts, [0.1 / 100] + [0.1 * 0.1 ** ((epoch - 1) // 30) for epoch in range(1, 90)])


def test_step_calls_in_separate_loops_are_not_counted_as_one_iteration(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nopt = torch.optim.SGD(params, lr=0.1)\ns = torch.optim.lr_scheduler.ExponentialLR(opt, 0.5)\n"
        + "".join(
            f"def {name}():\n    for epoch in range(3):\n        for b in loader:\n            opt.step()\n"
            "        s.step()\n"
            for name in ("fit", "finetune")
        )
    )
    code, out = simulate(str(path), "--format", "json")
    (schedule,) = json.loads(out)
    assert code == 0 and not any("`step()` calls" in note for note in schedule["notes"])
    assert close([epoch["end"] for epoch in schedule["lr_per_epoch"]], [0.05, 0.025, 0.0125])


def test_a_schedule_torch_stops_is_shown_up_to_the_crash_and_says_where(tmp_path: Path) -> None:
    onecycle = "torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2)"
    (schedule,) = json.loads(simulate_loop(tmp_path, onecycle, "", "    s.step()\n"))
    assert len(schedule["lr_per_epoch"]) == 2 and schedule["cannot_simulate"] is None
    crash = schedule["notes"][-1]
    assert crash.startswith("torch raises at step 3 of 3: Tried to step 3 times"), crash
    assert crash.endswith("in the 3rd of 3 epochs: the run crashes there"), crash


def test_a_schedule_torch_stops_in_its_first_epoch_cannot_be_simulated(tmp_path: Path) -> None:
    onecycle = "torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2)"
    (schedule,) = json.loads(simulate_loop(tmp_path, onecycle, "        s.step()\n"))
    assert schedule["cannot_simulate"].startswith("torch raises at step 3 of 24: Tried to step 3 times")


def test_where_a_schedule_ends_within_the_run_is_noted(tmp_path: Path) -> None:
    cosine = "torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)"
    (climbs,) = json.loads(simulate_loop(tmp_path, cosine, "", "    s.step()\n"))
    assert climbs["notes"][-1] == (
        "the schedule ends at step 2 (epoch 2) at lr 0; after it the rate climbs back up, to 0.05 at the end of the run"
    )
    linear = "transformers.get_linear_schedule_with_warmup(opt, 0, 8)"
    (holds,) = json.loads(simulate_loop(tmp_path, linear, "        s.step()\n", header="import transformers\n"))
    assert holds["notes"][-1] == (
        "the schedule ends at step 8 (epoch 1); the rate stays at 0 for the rest of the run (67% of it)"
    )


def test_a_parameter_default_is_used_and_stated(tmp_path: Path) -> None:
    schedule, ends = simulate_script(
        tmp_path,
        "import torch\n\ndef fit(model, loader, lr=0.05, epochs=4):\n"
        "    opt = torch.optim.SGD(model.parameters(), lr=lr)\n"
        "    s = torch.optim.lr_scheduler.StepLR(opt, step_size=epochs // 2)\n"
        "    for epoch in range(epochs):\n        for b in loader:\n            opt.step()\n        s.step()\n",
    )
    assert "lr = 0.05 (the parameter's default)" in schedule["assumptions"]
    assert close(ends, [0.05, 0.005, 0.005, 0.0005])


def test_the_common_cosine_lambda_is_evaluated_with_math_constants(tmp_path: Path) -> None:
    cosine = "torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 * (1 + m.cos(m.pi * e / 3)))"
    out = simulate_loop(tmp_path, cosine, "", "    s.step()\n", header="import math as m\n")
    assert close(epoch_ends(out), [0.075, 0.025, 0.0])


def test_only_parsed_options_take_their_argparse_default(tmp_path: Path) -> None:
    """`args.gamma` is the `--gamma` option; `cfg.gamma` is a config's value that merely shares the name."""
    header = 'import argparse\np = argparse.ArgumentParser()\np.add_argument("--gamma", type=float, default=0.5)\n'
    parsed = simulate_loop(
        tmp_path, "torch.optim.lr_scheduler.ExponentialLR(opt, args.gamma)", "", "    s.step()\n", header=header
    )
    assert close(epoch_ends(parsed), [0.05, 0.025, 0.0125])
    (config,) = json.loads(
        simulate_loop(
            tmp_path, "torch.optim.lr_scheduler.ExponentialLR(opt, cfg.gamma)", "", "    s.step()\n", header=header
        )
    )
    assert config["cannot_simulate"] == "`cfg.gamma` is not known before the run: give it with --set cfg.gamma=VALUE"


@pytest.mark.parametrize(
    ("constructor", "stepped_per_batch", "epochs", "evidence"),
    [
        ("torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40)", False, 40, "CosineAnnealingLR T_max=40"),
        (
            "torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, epochs=12, steps_per_epoch=len(loader))",
            True,
            12,
            "OneCycleLR epochs=12, steps_per_epoch=len(loader)",
        ),
        (
            "torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[30, 45])",
            False,
            50,
            "MultiStepLR milestones up to 45, and 5 epochs more",
        ),
    ],
)
def test_an_unknown_epoch_count_takes_the_schedules_own_length(
    tmp_path: Path, constructor: str, stepped_per_batch: bool, epochs: int, evidence: str
) -> None:
    """A 200-epoch cosine shown for a default 10 epochs looks broken: without the code's count, the
    schedule's own length is simulated, and said."""
    step = "        s.step()\n" if stepped_per_batch else "    s.step()\n"
    path = tmp_path / "train.py"
    path.write_text(
        f"import torch\nopt = torch.optim.SGD(params, lr=0.1)\ns = {constructor}\n"
        f"for epoch in range(cfg.epochs):\n    for b in loader:\n        opt.step()\n{step}"
    )
    code, out = simulate(str(path), "--format", "json")
    (schedule,) = json.loads(out)
    assert code == 0 and len(schedule["lr_per_epoch"]) == epochs
    assert schedule["assumptions"][0] == (
        f"{epochs} epochs: the length of the longest schedule ({evidence}), as the code's epoch count is not known "
        "(--epochs to change)"
    )


def test_a_scheduler_stepped_out_of_sight_is_simulated_at_the_cadence_its_sizing_implies(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nfrom mylib import fit\nopt = torch.optim.SGD(params, lr=0.1)\n"
        "s = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)\nfit(model, opt, s)\n"
    )
    code, out = simulate(str(path), "--epochs", "3", "--format", "json")
    (schedule,) = json.loads(out)
    assert code == 0 and [epoch["end"] for epoch in schedule["lr_per_epoch"]] == [0.05, 0.025, 0.0125]
    assert (
        "stepped per epoch: lrlint does not see where it is stepped; as its sizing implies (step_size=1"
        in (schedule["assumptions"][0])
    )
    code, out = simulate(str(path), "--epochs", "1", "--steps-per-epoch", "2", "--cadence", "step", "--format", "json")
    (schedule,) = json.loads(out)
    assert schedule["lr_per_epoch"][0]["end"] == 0.025 and "--cadence" in schedule["assumptions"][0]


def test_an_unknown_base_lr_gives_rates_in_units_of_it_and_lr_sets_it(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nopt = torch.optim.SGD(params, lr=cfg.lr)\n"
        "s = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)\n"
        "for epoch in range(2):\n    for b in loader:\n        opt.step()\n    s.step()\n"
    )
    (relative,) = json.loads(simulate(str(path), "--format", "json")[1])
    assert [epoch["end"] for epoch in relative["lr_per_epoch"]] == [0.5, 0.25]
    assert (
        "rates in units of the base lr (lr x base): `cfg.lr` is not known before the run; --lr sets it"
        in (relative["assumptions"])
    )
    (given,) = json.loads(simulate(str(path), "--lr", "0.2", "--format", "json")[1])
    assert [epoch["end"] for epoch in given["lr_per_epoch"]] == [0.1, 0.05] and "the base lr is 0.2 (--lr)" in (
        given["assumptions"]
    )


def test_values_the_user_sets_and_defaults_the_code_states_are_used_and_said(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import os\nimport torch\nopt = torch.optim.SGD(params, lr=float(os.environ.get('LR', '0.1')))\n"
        "s = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg['step'], gamma=getattr(cfg, 'gamma', 0.5))\n"
        "for epoch in range(cfg.epochs):\n    for b in loader:\n        opt.step()\n    s.step()\n"
    )
    code, out = simulate(str(path), "--set", 'cfg["step"] = 2', "--set", "cfg.epochs=4", "--format", "json")
    (schedule,) = json.loads(out)
    assert code == 0 and [epoch["end"] for epoch in schedule["lr_per_epoch"]] == [0.1, 0.05, 0.05, 0.025]
    assert schedule["assumptions"] == [
        "4 epochs, as the code's `range(cfg.epochs)`, with cfg.epochs = 4 (--set) (--epochs to change)",
        "cfg['step'] = 2 (--set)",
        "getattr(cfg, 'gamma', 0.5) = 0.5 (the default it states)",
        "os.environ.get('LR', '0.1') = '0.1' (the default it states)",
    ]


def test_plateau_follows_a_metric_that_never_improves_or_the_recorded_one(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\n"
        "s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)\n"
        "for epoch in range(5):\n    for b in loader:\n        opt.step()\n    s.step(validate())\n"
    )
    (stalled,) = json.loads(simulate(str(path), "--format", "json")[1])
    assert [epoch["end"] for epoch in stalled["lr_per_epoch"]] == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert "a metric that never improves: the earliest the rate can fall (--metric FILE)" in stalled["assumptions"]
    curve = tmp_path / "val_loss.txt"
    curve.write_text("3\n2\n1\n1\n1\n")
    (recorded,) = json.loads(simulate(str(path), "--metric", str(curve), "--format", "json")[1])
    assert [epoch["end"] for epoch in recorded["lr_per_epoch"]] == [0.1, 0.1, 0.1, 0.1, 0.05]


def test_a_scheduler_lightning_steps_is_simulated_at_the_interval_it_was_given(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(
        "import torch\nimport lightning as L\n\nclass Model(L.LightningModule):\n"
        "    def configure_optimizers(self):\n"
        "        opt = torch.optim.SGD(self.parameters(), lr=0.1)\n"
        "        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)\n"
        '        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}\n'
    )
    code, out = simulate(str(path), "--epochs", "1", "--steps-per-epoch", "2", "--format", "json")
    (schedule,) = json.loads(out)
    assert code == 0 and schedule["cadence"] == "per batch" and schedule["lr_per_epoch"][0]["end"] == 0.025
    assert any("Lightning steps this scheduler after every optimizer step" in note for note in schedule["notes"])


NANOGPT_STYLE = """\
import math
import torch

learning_rate, min_lr, warmup_iters, lr_decay_iters = 6e-4, 6e-5, 2, 8


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
for it in range(10):
    for param_group in optimizer.param_groups:
        param_group["lr"] = get_lr(it)
    model(batch).backward()
    optimizer.step()
"""


def test_a_rate_written_by_hand_from_a_pure_function_is_simulated(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(NANOGPT_STYLE)
    code, out = simulate(str(path), "--format", "json")
    (schedule,) = json.loads(out)
    namespace: dict[str, object] = {}
    exec(NANOGPT_STYLE.split("optimizer =", maxsplit=1)[0], namespace)  # the test's own function: the reference
    expected = [namespace["get_lr"](it) for it in range(10)]  # type: ignore[operator]
    assert code == 0 and schedule["scheduler"] == "learning rate set by hand"
    assert [epoch["start"] for epoch in schedule["lr_per_epoch"]] == pytest.approx(expected)
    assert schedule["assumptions"] == ["10 iterations of `range(10)`, one row each"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("run.yaml", "train:\n  step: 2\n  epochs: 4\n"),
        ("run.toml", "[train]\nstep = 2\nepochs = 4\n"),
        ("run.json", '{"train": {"step": 2, "epochs": 4}}'),
    ],
)
def test_a_run_configuration_gives_the_values_the_code_reads(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nopt = torch.optim.SGD(params, lr=0.1)\n"
        "s = torch.optim.lr_scheduler.StepLR(opt, step_size=self.cfg.train.step)\n"
        "for epoch in range(config['train']['epochs']):\n    for b in loader:\n        opt.step()\n    s.step()\n"
    )
    (tmp_path / name).write_text(text)
    code, out = simulate(str(path), "--config", str(tmp_path / name), "--format", "json")
    (schedule,) = json.loads(out)
    assert code == 0 and close(epoch_ends(out), [0.1, 0.01, 0.01, 0.001])
    assert f"self.cfg.train.step = 2 (train.step in {name})" in schedule["assumptions"]


def test_a_config_object_built_in_the_file_gives_its_fields(tmp_path: Path) -> None:
    schedule, ends = simulate_script(
        tmp_path,
        "from dataclasses import dataclass\nimport torch\n\n@dataclass\nclass TrainConfig:\n"
        "    lr: float = 0.1\n    epochs: int = 90\n    step_size: int = 1\n\n"
        "cfg = TrainConfig(epochs=2)\nopt = torch.optim.SGD(params, lr=cfg.lr)\n"
        "s = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=0.5)\n"
        "for epoch in range(cfg.epochs):\n    for b in loader:\n        opt.step()\n    s.step()\n",
    )
    assert close(ends, [0.05, 0.025])
    assert "cfg.lr = 0.1 (TrainConfig's default)" in schedule["assumptions"]
    assert "with cfg.epochs = 2 (passed to TrainConfig(...))" in schedule["assumptions"][0]


def test_values_a_function_receives_are_read_at_its_call_site(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\n\ndef training_function(config, model, loader):\n"
        "    opt = torch.optim.SGD(model.parameters(), lr=config['lr'])\n"
        "    s = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=config['gamma'])\n"
        "    for epoch in range(config['epochs']):\n"
        "        for b in loader:\n            opt.step()\n        s.step()\n\n"
        "def main():\n    config = {'lr': 0.2, 'gamma': 0.5, 'epochs': 2}\n"
        "    training_function(config, model, loader)\n\nmain()\n"
    )
    code, out = simulate(str(path), "--format", "json")
    assert code == 0 and close(epoch_ends(out), [0.1, 0.05])


def test_a_lambda_lr_function_defined_in_the_file_is_evaluated(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\n\ndef lr_lambda(epoch):\n    if epoch < 2:\n        return (epoch + 1) / 2\n"
        "    return 0.5 ** (epoch - 1)\n\nopt = torch.optim.SGD(params, lr=0.1)\n"
        "s = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)\n"
        "for epoch in range(4):\n    for b in loader:\n        opt.step()\n    s.step()\n"
    )
    code, out = simulate(str(path), "--format", "json")
    assert code == 0 and close(epoch_ends(out), [0.1, 0.05, 0.025, 0.0125])


def test_step_with_the_epoch_counter_is_simulated_at_that_position(tmp_path: Path) -> None:
    """`step(epoch)` from 0 sets the position the schedule already holds: every change comes an epoch late."""
    exponential = "torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)"
    (schedule,) = json.loads(out := simulate_loop(tmp_path, exponential, "", "    s.step(epoch)\n"))
    assert close(epoch_ends(out), [0.1, 0.05, 0.025])
    assert any("`step(epoch)`, deprecated" in assumption for assumption in schedule["assumptions"])


def test_step_with_the_epoch_counter_minus_one_is_simulated_at_that_position(tmp_path: Path) -> None:
    """`step(epoch - 1)` from 0 steps back to position -1 first: torch's closed form there is the base rate."""
    exponential = "torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)"
    out = simulate_loop(tmp_path, exponential, "", "    s.step(epoch - 1)\n")
    assert close(epoch_ends(out), [0.2, 0.1, 0.05])


PARSED_BY_A_FUNCTION = """import argparse
import torch

def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gamma", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=3)
    return parser.parse_args()

def train(config, loader):
    opt = torch.optim.SGD(params, lr=0.1)
    s = torch.optim.lr_scheduler.ExponentialLR(opt, config{gamma})
    for epoch in range(config{epochs}):
        for b in loader:
            opt.step()
        s.step()

def main():
    config = {holder}
    train(config, loader)

main()
"""


@pytest.mark.parametrize(
    ("holder", "gamma", "epochs"),
    [("vars(parse_args())", '["gamma"]', '["epochs"]'), ("parse_args()", ".gamma", ".epochs")],
)
def test_options_parsed_by_a_function_of_the_file_take_their_argparse_defaults(
    tmp_path: Path, holder: str, gamma: str, epochs: str
) -> None:
    schedule, ends = simulate_script(tmp_path, PARSED_BY_A_FUNCTION.format(holder=holder, gamma=gamma, epochs=epochs))
    assert close(ends, [0.05, 0.025, 0.0125])
    assert f"config{gamma} = 0.5 (its argparse default)" in schedule["assumptions"]


def test_an_option_the_code_sets_is_read_where_it_is_set_and_unknown_where_it_changes(tmp_path: Path) -> None:
    header = (
        'import argparse\np = argparse.ArgumentParser()\np.add_argument("--gamma", type=float, default=0.9)\n'
        "args = p.parse_args()\n"
    )
    exponential = "torch.optim.lr_scheduler.ExponentialLR(opt, args.gamma)"
    (schedule,) = json.loads(
        out := simulate_loop(tmp_path, exponential, "", "    s.step()\n", header + "args.gamma = 0.5\n")
    )
    assert close(epoch_ends(out), [0.05, 0.025, 0.0125])
    assert "args.gamma = 0.5 (as the code sets it, line 5)" in schedule["assumptions"]
    conditional = header + "if args.resume:\n    args.gamma = 0.5\n"
    (schedule,) = json.loads(simulate_loop(tmp_path, exponential, "", "    s.step()\n", conditional))
    assert schedule["cannot_simulate"].startswith("`args.gamma` is not known before the run")


def test_a_config_object_a_function_receives_gives_the_values_its_caller_built_it_with(tmp_path: Path) -> None:
    schedule, ends = simulate_script(
        tmp_path,
        "from dataclasses import dataclass\nimport torch\n\n@dataclass\nclass TrainConfig:\n"
        "    lr: float = 0.1\n    epochs: int = 90\n\n"
        "def train(config: TrainConfig, loader):\n    opt = torch.optim.SGD(params, lr=config.lr)\n"
        "    s = torch.optim.lr_scheduler.ExponentialLR(opt, 0.5)\n"
        "    for epoch in range(config.epochs):\n        for b in loader:\n            opt.step()\n        s.step()\n\n"
        "def main():\n    epochs = 2\n    cfg = TrainConfig(epochs=epochs)\n    train(cfg, loader)\n\nmain()\n",
    )
    assert close(ends, [0.05, 0.025])
    assert "config.lr = 0.1 (TrainConfig's default)" in schedule["assumptions"]


def test_a_batch_loop_over_a_range_runs_its_own_count_of_steps(tmp_path: Path) -> None:
    schedule, ends = simulate_script(
        tmp_path,
        "import torch\nopt = torch.optim.SGD(params, lr=0.1)\n"
        "s = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)\n"
        "for epoch in range(2):\n    it = iter(loader)\n    for step in range(4):\n"
        "        opt.step()\n        s.step()\n",
        "--steps-per-epoch",
        "100",
    )
    assert close(ends, [0.05, 0.025])
    assert "4 batches per epoch, as the code's `range(4)`" in schedule["assumptions"]


def test_schedulers_a_configuration_chooses_between_are_neither_combined_nor_conditional(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nopt = torch.optim.SGD(params, lr=0.1)\nSCHED = 'exp'\n"
        "if cfg.sched == 'exp':\n    s = torch.optim.lr_scheduler.ExponentialLR(opt, 0.5)\n"
        "elif cfg.sched == 'step':\n    s = torch.optim.lr_scheduler.StepLR(opt, 1, 0.1)\n"
        "for epoch in range(2):\n    for b in loader:\n        opt.step()\n"
        "    if cfg.sched == 'exp':\n        s.step()\n    elif cfg.sched == 'step':\n        s.step()\n"
    )
    code, out = simulate(str(path), "--format", "json")
    exponential, step = json.loads(out)
    assert close([e["end"] for e in exponential["lr_per_epoch"]], [0.05, 0.025])
    assert close([e["end"] for e in step["lr_per_epoch"]], [0.01, 0.001])
    assert not [
        note for note in exponential["notes"] + step["notes"] if "also driven" in note or "stepped under" in note
    ]


def test_a_run_at_the_defaults_keeps_what_a_false_flag_would_have_changed(tmp_path: Path) -> None:
    """`start_epoch = 0` unless `--resume`; `args.world_size = 1` in the branch `--local_rank -1` takes."""
    schedule, ends = simulate_script(
        tmp_path,
        "import argparse\nimport torch\n\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--resume', action='store_true')\n"
        "parser.add_argument('--local_rank', type=int, default=-1)\n"
        "parser.add_argument('--epochs', type=int, default='4')\n"
        "args = parser.parse_args()\n"
        "if args.local_rank == -1:\n    args.world_size = 1\nelse:\n    args.world_size = get_world_size()\n"
        "start_epoch = 0\nif args.resume:\n    start_epoch = checkpoint['epoch']\n"
        "opt = torch.optim.SGD(params, lr=0.1 * args.world_size)\n"
        "s = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)\n"
        "for epoch in range(start_epoch, args.epochs):\n    for b in loader:\n        opt.step()\n    s.step()\n",
    )
    assert close(ends, [0.05, 0.025, 0.0125, 0.00625])
    assert "args.world_size = 1 (a run at the defaults: `if args.local_rank == -1` is true)" in schedule["assumptions"]
    assert any(
        "start_epoch = 0 (a run at the defaults: `if args.resume` is false)" in a for a in schedule["assumptions"]
    )
