"""lrlint where users run it: the README's pre-commit and flake8 snippets, run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BUGGY = (ROOT / "fixtures" / "epoch_loop_step_first.py").read_text()
CLEAN = (ROOT / "fixtures" / "tutorial_steplr_clean.py").read_text()
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def readme_snippet(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)```", README, re.DOTALL)
    assert match, f"README has no {marker} snippet"
    return match.group(1)


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)


def git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = run(["git", *args], cwd, env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """This working tree as a committed git repository, the way pre-commit fetches a hook."""
    env = {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre_commit_home"))}
    env.pop("LRLINT_CACHE_DIR", None)
    repository = tmp_path_factory.mktemp("hook_repository")
    files = git("ls-files", "--cached", "--others", "--exclude-standard", cwd=ROOT, env=env).splitlines()
    for name in files:
        if (ROOT / name).is_file():
            (repository / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repository / name)
    git("init", "-q", cwd=repository, env=env)
    git("add", "-A", cwd=repository, env=env)
    git("commit", "-q", "-m", "lrlint", cwd=repository, env=env)
    return repository, git("rev-parse", "HEAD", cwd=repository, env=env), env


@pytest.fixture
def user_repository(tmp_path: Path, hook_repository: tuple[Path, str, dict[str, str]]) -> Path:
    _, _, env = hook_repository
    git("init", "-q", cwd=tmp_path, env=env)
    return tmp_path


@pytest.mark.slow
def test_pre_commit_try_repo_refuses_the_buggy_file_and_passes_the_clean_one(
    hook_repository: tuple[Path, str, dict[str, str]], user_repository: Path
) -> None:
    repository, _, env = hook_repository
    (user_repository / "train.py").write_text(BUGGY)
    (user_repository / "clean.py").write_text(CLEAN)
    git("add", "-A", cwd=user_repository, env=env)
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", str(repository), "lrlint"]
    refused = run([*try_repo, "--files", "train.py"], user_repository, env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "train.py:17:5: LR101 error: `scheduler.step()` runs before `optimizer.step()`" in refused.stdout
    passed = run([*try_repo, "--files", "clean.py"], user_repository, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr


@pytest.mark.slow
def test_pre_commit_of_a_callee_alone_sees_the_scheduler_its_caller_passes(
    hook_repository: tuple[Path, str, dict[str, str]], user_repository: Path
) -> None:
    """engine.py steps a scheduler that main.py builds: committing engine.py alone is still checked."""
    repository, _, env = hook_repository
    (user_repository / "main.py").write_text(
        "import torch\nfrom engine import train_one_epoch\n\nmodel = torch.nn.Linear(4, 2)\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)\n"
        "for epoch in range(90):\n    train_one_epoch(model, loader, optimizer, scheduler)\n"
    )
    (user_repository / "engine.py").write_text(
        "def train_one_epoch(model, loader, optimizer, scheduler):\n    for x, y in loader:\n        optimizer.step()\n"
    )
    git("add", "-A", cwd=user_repository, env=env)
    git("commit", "-q", "-m", "clean", cwd=user_repository, env=env)
    with (user_repository / "engine.py").open("a") as engine:
        engine.write("        scheduler.step()\n")
    git("add", "engine.py", cwd=user_repository, env=env)
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", str(repository), "lrlint"]
    refused = run(try_repo, user_repository, env)  # the staged files only: engine.py
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "engine.py:4:9: LR102 error" in refused.stdout


@pytest.mark.slow
def test_the_readme_pre_commit_config_guards_commits(
    hook_repository: tuple[Path, str, dict[str, str]], user_repository: Path
) -> None:
    repository, revision, env = hook_repository
    config = readme_snippet("pre-commit-config")
    config = re.sub(r"repo: \S+", f"repo: {repository}", config)
    config = re.sub(r"rev: \S+", f"rev: {revision}", config)
    (user_repository / ".pre-commit-config.yaml").write_text(config)
    assert run([sys.executable, "-m", "pre_commit", "install"], user_repository, env).returncode == 0
    git("add", ".pre-commit-config.yaml", cwd=user_repository, env=env)
    git("commit", "-q", "-m", "config", cwd=user_repository, env=env)

    (user_repository / "train.py").write_text(BUGGY)
    git("add", "train.py", cwd=user_repository, env=env)
    refused = run(["git", "commit", "-m", "buggy"], user_repository, env)
    assert refused.returncode != 0 and "LR101" in refused.stdout + refused.stderr

    (user_repository / "train.py").write_text(CLEAN)
    git("add", "train.py", cwd=user_repository, env=env)
    accepted = run(["git", "commit", "-m", "clean"], user_repository, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_the_readme_pre_commit_rev_is_a_commit_of_this_repository() -> None:
    rev = re.search(r"rev: (\S+)", readme_snippet("pre-commit-config"))
    assert rev, "the pre-commit snippet has no rev"
    env = dict(os.environ)
    if not (ROOT / ".git").exists() or git("rev-parse", "--is-shallow-repository", cwd=ROOT, env=env) == "true":
        pytest.skip("not a full git checkout: its history cannot be checked")
    assert run(["git", "cat-file", "-e", f"{rev[1]}^{{commit}}"], ROOT, env).returncode == 0, rev[1]


def test_the_readme_flake8_command_reports_lrl_codes(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        BUGGY + "\nlate = torch.optim.lr_scheduler.StepLR(optimizer, step=3)  # noqa: LRL201\n"
    )
    (command,) = [line for line in readme_snippet("flake8").splitlines() if line.startswith("flake8")]
    done = run([sys.executable, "-m", *command.split()], tmp_path, dict(os.environ))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "train.py:17:5: LRL101 `scheduler.step()` runs before `optimizer.step()` (line 24) in the first iteration: "
        "the scheduler skips the first value of its schedule and torch warns; "
        "call it after the optimizer step of SGD (line 13)",
        "train.py:26:8: LRL104 StepLR is created but never stepped: the learning rate stays at its initial value; "
        "call step() at its cadence or remove it",
    ]


def lrlint_commands(marker: str) -> list[str]:
    """The shell commands of a README snippet that run lrlint (YAML `run:` steps or bash lines)."""
    commands = []
    for line in readme_snippet(marker).splitlines():
        command = line.split("run:", 1)[-1].split("#", 1)[0].strip(" -")
        if command.startswith("lrlint "):
            commands.append(command)
    return commands


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    lrlint = f"{sys.executable} -m lrlint"
    return subprocess.run(
        command.replace("lrlint ", f"{lrlint} ", 1), shell=True, cwd=cwd, capture_output=True, text=True, check=False
    )


def test_the_readme_github_actions_steps_annotate_and_write_sarif(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUGGY)
    annotate, sarif = lrlint_commands("github-actions")
    annotations = shell(annotate, tmp_path)
    assert annotations.returncode == 1
    assert annotations.stdout.startswith("::error file=train.py,title=LR101 (step-before-optimizer),line=17,col=5")
    assert shell(sarif, tmp_path).returncode == 1
    log = json.loads((tmp_path / "lrlint.sarif").read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["LR101"]


def test_the_readme_baseline_commands_quiet_legacy_findings(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUGGY)
    record, compare = lrlint_commands("baseline")
    assert shell(record, tmp_path).returncode == 0
    assert shell(compare, tmp_path).returncode == 0
    (tmp_path / "new.py").write_text(BUGGY)
    assert shell(compare, tmp_path).returncode == 1
