"""The command line through click's runner: formats, exit codes, configuration, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrlint import engine
from lrlint.catalog import newest_torch
from lrlint.cli import main
from lrlint.rules import ALL_RULES

BUGGY = """\
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
for epoch in range(30):
    scheduler.step()
    for x, y in loader:
        optimizer.step()
"""
CLEAN = """\
import torch
optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
for epoch in range(30):
    for x, y in loader:
        optimizer.step()
    scheduler.step()
"""
BAD_ARGS = "from torch.optim.lr_scheduler import StepLR\ndef make(opt):\n    return StepLR(opt, step=10, decay=0.1)\n"


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args))
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, list(args))
    finally:
        os.chdir(previous)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "buggy.py").write_text(BUGGY)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_text_output_one_finding_a_line_and_summary_on_stderr(project: Path) -> None:
    result = run("check", str(project / "buggy.py"), str(project / "clean.py"))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{project / 'buggy.py'}:5:5: LR101 error: `scheduler.step()` runs before")
    assert "Found 1 finding in 1 file (2 files checked)." in result.stderr


def test_clean_files_exit_zero(project: Path) -> None:
    result = run("check", str(project / "clean.py"))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "All checks passed (1 file checked)." in result.stderr


def test_json_output_has_the_public_fields(project: Path) -> None:
    result = run("check", "--format", "json", str(project))
    assert result.exit_code == 1
    findings = json.loads(result.stdout)
    assert [f["code"] for f in findings] == ["LR101"]
    finding = findings[0]
    assert {"path", "line", "column", "code", "name", "message", "severity"} <= set(finding)
    assert (finding["line"], finding["column"], finding["name"], finding["severity"]) == (
        5,
        5,
        "step-before-optimizer",
        "error",
    )
    assert "cell" not in finding


def test_json_output_for_a_notebook_names_the_cell(tmp_path: Path) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# title"], "metadata": {}},
            {"cell_type": "code", "source": ["%matplotlib inline\n", BAD_ARGS], "metadata": {}, "outputs": []},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook))
    result = run("check", "--format", "json", str(tmp_path / "nb.ipynb"))
    findings = json.loads(result.stdout)
    assert [(f["cell"], f["line"], f["code"]) for f in findings] == [(1, 4, "LR201"), (1, 4, "LR201")]


def test_json_output_is_an_empty_array_when_clean(project: Path) -> None:
    result = run("check", "--format", "json", str(project / "clean.py"))
    assert json.loads(result.stdout) == [] and result.exit_code == 0


def test_select_and_ignore_by_code_and_prefix(project: Path) -> None:
    (project / "args.py").write_text(BAD_ARGS)
    assert run("check", "--select", "LR2", str(project)).stdout.count("LR201") == 2
    assert "LR101" not in run("check", "--select", "LR2", str(project)).stdout
    result = run("check", "--ignore", "LR101,LR201", str(project))
    assert result.exit_code == 0 and result.stdout == ""


def test_all_selects_every_rule_and_ignores_every_rule(project: Path) -> None:
    (project / "args.py").write_text(BAD_ARGS)
    every = run("check", str(project)).stdout
    assert run("check", "--select", "ALL", str(project)).stdout == every != ""
    assert run("check", "--select", "ALL,LR1", str(project)).stdout == every
    ignored = run("check", "--ignore", "ALL", str(project))
    assert ignored.exit_code == 0 and ignored.stdout == ""
    assert run("check", "--select", "ALL", "--ignore", "LR2", str(project)).stdout.count("LR201") == 0


def test_extend_select_adds_to_the_selection(project: Path) -> None:
    (project / "args.py").write_text(BAD_ARGS)
    both = run("check", "--select", "LR2", "--extend-select", "LR101", str(project)).stdout
    assert "LR101" in both and "LR201" in both
    (project / "pyproject.toml").write_text('[tool.lrlint]\nselect = ["LR2"]\nextend-select = ["LR101"]\n')
    assert run("check", ".", cwd=project).stdout.count("LR") == both.count("LR")


def test_all_in_the_configuration(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.lrlint]\nselect = ["ALL"]\nper-file-ignores = { "buggy.py" = ["ALL"] }\n'
    )
    result = run("check", ".", cwd=project)
    assert result.exit_code == 0 and "buggy.py" not in result.stdout


def test_unknown_code_in_per_file_ignores_is_a_usage_error(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.lrlint]\nper-file-ignores = { "buggy.py" = ["LR1O1"] }\n')
    result = run("check", ".", cwd=project)
    assert result.exit_code == 2 and "per-file-ignores.buggy.py: unknown rule code(s): LR1O1" in result.stderr


def test_unknown_code_in_select_is_a_usage_error(project: Path) -> None:
    result = run("check", "--select", "LR999", str(project))
    assert result.exit_code == 2
    assert "unknown rule code(s): LR999" in result.stderr


@pytest.mark.parametrize(
    ("directive", "left"),
    [
        ("# lrlint: noqa", set()),
        ("# lrlint: noqa: LR101", {"LR201"}),
        ("# lrlint: noqa: LR2, LR3", {"LR101"}),
        ("x = 1  # lrlint: noqa", {"LR101", "LR201"}),  # after code: not a file-level directive
        ("# lrlint: noqa: LRL101", {"LR201"}),  # flake8's spelling of the code
    ],
)
def test_file_level_noqa(tmp_path: Path, directive: str, left: set[str]) -> None:
    (tmp_path / "a.py").write_text(f"{directive}\n{BUGGY}{BAD_ARGS}")
    findings = json.loads(run("check", "--format", "json", str(tmp_path / "a.py")).stdout)
    assert {finding["code"] for finding in findings} == left


def test_color_follows_the_option_and_the_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(project / "buggy.py")
    assert "\x1b[" in run("check", "--color", "always", path).stdout
    assert "\x1b[" not in run("check", path).stdout  # not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in run("check", path).stdout
    assert "\x1b[" not in run("check", "--color", "never", path).stdout


def test_the_summary_counts_what_fix_can_fix(tmp_path: Path) -> None:
    (tmp_path / "args.py").write_text(BAD_ARGS)
    assert "(1 file checked). [*] 2 fixable with --fix." in run("check", str(tmp_path)).stderr
    (tmp_path / "args.py").write_text(BUGGY)
    assert run("check", str(tmp_path)).stderr.endswith("(1 file checked).\n")


def test_standard_input_is_linted_as_the_named_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint]\nper-file-ignores = { "train.py" = ["LR201"] }\n')
    named = str(tmp_path / "train.py")  # need not exist: an editor's unsaved buffer
    result = CliRunner().invoke(main, ["check", "-", "--stdin-filename", named], input=BUGGY + BAD_ARGS)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{named}:") and "LR101" in result.stdout and "LR201" not in result.stdout
    anonymous = CliRunner().invoke(main, ["check", "-", "--isolated"], input=BAD_ARGS)
    assert anonymous.exit_code == 1 and anonymous.stdout.startswith("-:3:")
    refused = CliRunner().invoke(main, ["check", "-", "--fix"], input=BUGGY)
    assert refused.exit_code == 2 and "not standard input" in refused.stderr


def test_output_file_takes_the_report(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = run("check", "--format", "json", "--output-file", str(target), str(project / "buggy.py"))
    assert result.exit_code == 1 and result.stdout == ""
    assert [finding["code"] for finding in json.loads(target.read_text())] == ["LR101"]
    unwritable = run("check", "-o", str(tmp_path / "missing" / "r.txt"), str(project / "buggy.py"))
    assert unwritable.exit_code == 2 and "cannot write the report" in unwritable.stderr


def test_noqa_suppresses_the_named_code_only(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BUGGY.replace("    scheduler.step()\n", "    scheduler.step()  # noqa: LR101\n", 1))
    (tmp_path / "b.py").write_text(BUGGY.replace("    scheduler.step()\n", "    scheduler.step()  # noqa: LR102\n", 1))
    (tmp_path / "c.py").write_text(BUGGY.replace("    scheduler.step()\n", "    scheduler.step()  # noqa\n", 1))
    result = run("check", str(tmp_path))
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [str(tmp_path / "b.py")]


def test_pyproject_configuration_is_read_and_cli_flags_override_it(project: Path) -> None:
    (project / "args.py").write_text(BAD_ARGS)
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(BUGGY)
    (project / "pyproject.toml").write_text(
        '[tool.lrlint]\nignore = ["LR201"]\nexclude = ["legacy"]\nper-file-ignores = { "buggy.py" = ["LR101"] }\n'
    )
    result = run("check", ".", cwd=project)
    assert result.exit_code == 0, result.stdout
    assert "3 files checked" in result.stderr
    result = run("check", ".", "--isolated", cwd=project)
    assert result.stdout.count("LR201") == 2 and result.stdout.count("LR101") == 2


def test_invalid_configuration_is_a_usage_error(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.lrlint]\nselct = ['LR1']\n")
    result = run("check", ".", cwd=project)
    assert result.exit_code == 2
    assert "unknown [tool.lrlint] option(s): selct" in result.stderr


def test_default_excludes_skip_virtualenvs_and_exclude_adds_patterns(project: Path) -> None:
    (project / ".venv" / "lib").mkdir(parents=True)
    (project / ".venv" / "lib" / "x.py").write_text(BUGGY)
    (project / "generated").mkdir()
    (project / "generated" / "y.py").write_text(BUGGY)
    result = run("check", str(project), "--exclude", "generated")
    assert result.stdout.count("LR101") == 1 and "2 files checked" in result.stderr


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.py", "# caf\xe9\nx = 1\n".encode("latin-1"), "LR000 error: file is not valid utf-8"),
        ("binary.py", b"\x7fELF\x00\x01\x02", "LR000 error: file contains NUL bytes"),
        (
            "syntax.py",
            b"from torch.optim import lr_scheduler\ndef train(model loader):\n",
            "LR000 error: invalid syntax",
        ),
        ("broken.ipynb", b'{"cells": [', "LR000 error: notebook is not valid JSON"),
        ("nocells.ipynb", b'{"metadata": {}}', "LR000 error: notebook has no list of cells"),
        ("declared.py", b"# -*- coding: klingon -*-\nx = 1\n", "LR000 error: invalid encoding declaration"),
        (
            "deep.py",  # LibCST's native parser segfaults on this: it must never see it
            b"from torch.optim import lr_scheduler\nx = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n",
            "LR000 error: invalid syntax: too many nested parentheses",
        ),
    ],
)
def test_unreadable_files_are_one_lr000_line_and_the_run_goes_on(
    project: Path, name: str, content: bytes, message: str
) -> None:
    (project / name).write_bytes(content)
    result = run("check", str(project))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    bad = [line for line in result.stdout.splitlines() if line.startswith(str(project / name))]
    assert len(bad) == 1 and message in bad[0], result.stdout
    assert "LR101" in result.stdout  # buggy.py was still linted


@pytest.mark.parametrize("content", [b"", b"# only a comment\n", b"\xef\xbb\xbfimport torch\r\nx = 1\r\n"])
def test_empty_comment_only_bom_and_crlf_files_are_fine(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "f.py").write_bytes(content)
    result = run("check", str(tmp_path / "f.py"))
    assert result.exit_code == 0 and result.stdout == ""


def test_a_missing_path_is_reported_and_the_others_are_linted(project: Path) -> None:
    result = run("check", str(project / "nope.py"), str(project / "buggy.py"))
    assert result.exit_code == 2
    assert f"lrlint: error: {project / 'nope.py'}: no such file or directory" in result.stderr
    assert "LR101" in result.stdout


def test_only_missing_paths_give_one_error_line_and_no_all_clear(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "nope.py"))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"lrlint: error: {tmp_path / 'nope.py'}: no such file or directory\n"


def test_simulate_words_a_missing_path_as_check_does(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    result = run("simulate", str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert result.stderr == f"lrlint: error: {tmp_path / 'nope.py'}: no such file or directory\n"


def test_a_folder_without_python_files_warns(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# nothing to lint")
    result = run("check", str(tmp_path))
    assert result.exit_code == 0
    assert "no Python files or notebooks found" in result.stderr


def test_an_oversized_file_that_could_hold_a_finding_is_a_warning_not_a_finding(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.lrlint]\nmax-file-size = 100\n")
    (tmp_path / "big.py").write_text("import torch\nscheduler.step()\n" + "x = 1\n" * 100)
    (tmp_path / "plain.py").write_text("x = 1\n" * 100)
    result = run("check", ".", cwd=tmp_path)
    assert result.exit_code == 0 and result.stdout == ""
    assert "big.py: not linted: 630 bytes, over max-file-size (100 bytes)" in result.stderr
    assert "plain.py" not in result.stderr


# -- rule documentation and entry points ------------------------------------------------------


def test_rule_prints_documentation_with_examples() -> None:
    result = run("rule", "lr201")
    assert result.exit_code == 0
    assert result.stdout.startswith("# LR201 unknown-argument\n\nSeverity: error.")
    assert "did you mean" in result.stdout and "## Flagged" in result.stdout and "## Not flagged" in result.stdout


def test_rule_all_lists_every_code() -> None:
    result = run("rule", "--all")
    codes = [line.split()[0] for line in result.stdout.splitlines()]
    assert codes == sorted(codes) and set(codes) == {rule.code for rule in ALL_RULES} and len(codes) >= 10


def test_ctrl_c_exits_130_with_one_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("lrlint.api.lint_files", interrupted)
    result = run("check", str(project))
    assert result.exit_code == 130 and result.stderr == "lrlint: interrupted\n"


# Starts Python with Ctrl-C at its default, as a terminal does. A shell runs a background job (`cmd &`,
# as CI may run the tests) with SIGINT ignored, every child inherits that, and lrlint, like any
# program, leaves an ignored Ctrl-C ignored: the tests below would see no interrupt at all.
CTRL_C_AT_ITS_DEFAULT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def python_as_from_a_terminal(*arguments: str) -> list[str]:
    return [sys.executable, "-c", CTRL_C_AT_ITS_DEFAULT, *arguments]


@pytest.mark.slow
def test_ctrl_c_in_a_real_run_leaves_no_worker_tracebacks(tmp_path: Path) -> None:
    for index in range(1500):  # far more than 3 seconds of work
        (tmp_path / f"train_{index}.py").write_text(BUGGY * 20)
    process = subprocess.Popen(
        python_as_from_a_terminal("-m", "lrlint", "check", "--no-cache", "--jobs", "2", str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(3)  # the workers are linting
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to every process of the group
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"lrlint still ran 60 s after Ctrl-C; it had written: {process.communicate()[1]!r}")
    assert process.returncode == 130, (process.returncode, stderr[-3000:])
    assert "Traceback" not in stderr and "ForkPoolWorker" not in stderr, stderr[-3000:]


CTRL_C_IN_A_STRING_EXEC = 'exec("os.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(10**7): pass")'
CTRL_C_WHILE_A_CLASS_IS_BUILT = """
class Field:
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10**7):
            pass
class Node:
    field = Field()
"""


@pytest.mark.parametrize("interrupted", [CTRL_C_IN_A_STRING_EXEC, CTRL_C_WHILE_A_CLASS_IS_BUILT])
def test_ctrl_c_during_an_import_still_exits_130(tmp_path: Path, interrupted: str) -> None:
    # As Ctrl-C while LibCST is imported: its dataclasses exec strings, its classes set names.
    (tmp_path / "interrupted_run.py").write_text(
        "import os, signal, textwrap\nfrom lrlint import api\nfrom lrlint.cli import main\n"
        f"def check(*args):\n    exec(textwrap.dedent({interrupted!r}), globals())\n"
        "api.check = check\nmain(['check', '.'])\n"
    )
    done = subprocess.run(  # under -m, as `python -m lrlint`: CPython's exit differs from a script's
        python_as_from_a_terminal("-m", "interrupted_run"), cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (130, "lrlint: interrupted\n")


def test_workers_that_will_not_stop_are_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "_STOP_GRACE_SECONDS", 0.1)
    never = threading.Event()

    class StuckPool:  # as Pool.terminate() waiting on a pipe lock that a busy worker holds
        def terminate(self) -> None:
            never.wait()

    killed = []

    class Worker:
        def kill(self) -> None:
            killed.append(self)

    workers = [Worker(), Worker()]
    engine._stop_mid_work(StuckPool(), workers)  # type: ignore[arg-type]
    assert killed == workers


def test_rule_is_found_by_its_name_too() -> None:
    by_name = run("rule", "step-before-optimizer")
    assert by_name.exit_code == 0 and by_name.stdout == run("rule", "LR101").stdout


def test_unknown_rule_is_a_usage_error() -> None:
    result = run("rule", "LR999")
    assert result.exit_code == 2 and "unknown rule code: LR999" in result.stderr


def test_python_dash_m_runs_the_cli(project: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "lrlint", "check", str(project / "buggy.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1 and "LR101" in completed.stdout


def test_notebook_magics_shell_escapes_and_cell_magics_are_skipped(tmp_path: Path) -> None:
    cells = [
        "import torch\n%matplotlib inline\nfiles = !ls\nif True:\n    !pip install x\n"
        "!tts --text hi \\\n    --out x.wav\n",  # a shell escape continued on the next line
        "%%bash\necho this is not python (\n",
        "%%time\nfrom torch.optim.lr_scheduler import StepLR\nschedulers = [StepLR(opt, step=3)]\n",
    ]
    notebook = {"cells": [{"cell_type": "code", "source": c, "metadata": {}} for c in cells], "metadata": {}}
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook))
    result = run("check", str(tmp_path / "nb.ipynb"))
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'nb.ipynb'}:cell 3:3:27: LR201 error: StepLR() has no argument `step`: did you mean `step_size`? "
        "(TypeError at run time)"
    ]


VERBOSE = "from torch.optim.lr_scheduler import StepLR\ndef make(opt):\n    return StepLR(opt, 30, verbose=True)\n"
# A scheduler subclass written for torch < 2.7 passes verbose by position.
VERBOSE_BY_POSITION = (
    "from torch.optim.lr_scheduler import LRScheduler\n"
    "class Warmup(LRScheduler):\n"
    "    def __init__(self, optimizer, last_epoch=-1, verbose=False):\n"
    "        super().__init__(optimizer, last_epoch, verbose)\n"
)


@pytest.mark.parametrize("source", [VERBOSE, VERBOSE_BY_POSITION])
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("2.1", None),
        ("2.4", "is deprecated since torch 2.2 and removed in 2.7"),
        ("2.7", "was removed in torch 2.7 (TypeError)"),
        (None, "was removed in torch 2.7 (TypeError)"),  # default: the newest torch with shipped signatures
    ],
)
def test_target_torch_decides_what_is_removed(
    tmp_path: Path, source: str, target: str | None, expected: str | None
) -> None:
    (tmp_path / "v.py").write_text(source)
    args = ["check", str(tmp_path / "v.py")] + (["--target-torch", target] if target else [])
    result = run(*args)
    if expected is None:
        assert result.exit_code == 0 and result.stdout == ""
    else:
        assert "LR202" in result.stdout and expected in result.stdout and "LR201" not in result.stdout


def test_target_torch_from_config_and_bad_values(tmp_path: Path) -> None:
    (tmp_path / "v.py").write_text(VERBOSE)
    (tmp_path / "pyproject.toml").write_text('[tool.lrlint]\ntarget-torch = "2.0"\n')
    assert run("check", ".", cwd=tmp_path).exit_code == 0
    result = run("check", ".", "--target-torch", "two", cwd=tmp_path)
    assert result.exit_code == 2 and "target-torch must look like 2.1" in result.stderr
    newest = ".".join(map(str, newest_torch()))
    for unknown in ("3.0", "2.99", "0.4"):
        result = run("check", ".", "--target-torch", unknown, cwd=tmp_path)
        assert result.exit_code == 2 and f"lrlint has data for torch 1.1 to {newest}, not {unknown}" in result.stderr


def test_severity_is_shown_and_filters(tmp_path: Path) -> None:
    (tmp_path / "w.py").write_text(
        "import torch\nopt = torch.optim.SGD(p, lr=0.1)\ns = torch.optim.lr_scheduler.StepLR(opt, 30)\n"
        "for epoch in range(90):\n    for x in loader:\n        opt.step()\n    s.step(epoch)\n"
    )
    result = run("check", str(tmp_path))
    assert ": LR302 warning: " in result.stdout
    result = run("check", str(tmp_path), "--severity", "error")
    assert result.exit_code == 0 and result.stdout == ""
    json_result = json.loads(run("check", str(tmp_path), "--format", "json").stdout)
    assert [(f["code"], f["severity"]) for f in json_result] == [("LR302", "warning")]


def test_parallel_runs_give_the_same_output_as_one_process() -> None:
    fixtures = str(Path(__file__).resolve().parent.parent / "fixtures")
    one = run("check", fixtures, "--jobs", "1", "--format", "json")
    two = run("check", fixtures, "--jobs", "2", "--format", "json")
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout and len(json.loads(one.stdout)) > 40


def test_folders_skip_what_gitignore_files_ignore_from_the_repository_root_down(tmp_path: Path) -> None:
    buggy = BUGGY
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("generated/\n*.tmp.py\n")
    for name in ("generated/a.py", "src/b.py", "src/c.tmp.py", "src/vendor/d.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(buggy)
    (tmp_path / "src" / ".gitignore").write_text("vendor/\n")
    linted = run("check", "--format", "concise", "--no-cache", ".", cwd=tmp_path / "src").stdout
    assert [line.split(":")[0] for line in linted.splitlines()] == ["b.py"]
    from_root = run("check", "--format", "concise", "--no-cache", ".", cwd=tmp_path).stdout
    assert [line.split(":")[0] for line in from_root.splitlines()] == ["src/b.py"]
    named = run("check", "--format", "concise", "--no-cache", "generated/a.py", cwd=tmp_path).stdout
    assert named.startswith("generated/a.py:")  # a file named explicitly is linted
    folder = run("check", "--format", "concise", "--no-cache", "generated", cwd=tmp_path).stdout
    assert folder.startswith("generated/a.py:")  # and so is an ignored folder (a venv's package, say)
    (tmp_path / "pyproject.toml").write_text("[tool.lrlint]\nrespect-gitignore = false\n")
    everything = run("check", "--format", "concise", "--no-cache", ".", cwd=tmp_path).stdout
    assert len(everything.splitlines()) == 4


def test_each_front_end_honours_the_other_spelling_of_a_code_in_noqa(tmp_path: Path) -> None:
    """`# noqa: LRL101` (flake8's code) silences lrlint; `# noqa: LR101` silences the flake8 plugin."""
    from lrlint.flake8_plugin import Plugin

    lines = BUGGY.splitlines(keepends=True)
    step = next(i for i, line in enumerate(lines) if "scheduler.step()" in line)
    for spelling, front_end in (("LRL101", "lrlint"), ("LR101", "flake8")):
        marked = [*lines[:step], lines[step].rstrip("\n") + f"  # noqa: {spelling}\n", *lines[step + 1 :]]
        path = tmp_path / f"{front_end}.py"
        path.write_text("".join(marked))
        if front_end == "lrlint":
            codes = {f["code"] for f in json.loads(run("check", "--format", "json", str(path)).stdout)}
        else:
            codes = {text.split()[0] for _, _, text, _ in Plugin(None, str(path), marked).run()}  # type: ignore[arg-type]
        assert not codes & {"LR101", "LRL101"}, (spelling, codes)
