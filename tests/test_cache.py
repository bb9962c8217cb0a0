"""The cache: reused while nothing a result depends on changed, never a source of wrong results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lrlint.cache import Cache
from lrlint.config import Settings
from lrlint.discovery import discover
from lrlint.engine import RunResult, lint_files
from lrlint.prefilter import NEEDS_A_SCHEDULER

MAIN = """\
import torch
import engine

optimizer = torch.optim.SGD(params, lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
for epoch in range(90):
    engine.train_one_epoch(loader, optimizer, scheduler)
"""
# `policy`, not `scheduler`: engine.py must not look like a scheduler's code on its own, so that
# only its caller's analysis reads it.
PER_BATCH = """\
def train_one_epoch(loader, optimizer, policy):
    for batch in loader:
        optimizer.step()
        policy.step()
"""
NEVER_STEPPED = """\
def train_one_epoch(loader, optimizer, policy):
    for batch in loader:
        optimizer.step()
"""
UNRELATED = "import os\nprint(os.getcwd())\n"


def lint(root: Path, cache_dir: Path, settings: Settings | None = None) -> RunResult:
    settings = settings or Settings()
    cache = Cache(cache_dir, settings)
    run = lint_files(discover([str(root)]).files, settings, cache=cache)
    assert cache.save() is None
    return run


def codes(run: RunResult) -> list[tuple[str, int, str]]:
    return [(Path(f.path).name, f.line, f.code) for f in run.findings]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "main.py").write_text(MAIN)
    (root / "engine.py").write_text(PER_BATCH)
    (root / "unrelated.py").write_text(UNRELATED)
    return root


def test_a_warm_run_reuses_every_result_and_reports_the_same(project: Path, tmp_path: Path) -> None:
    cold = lint(project, tmp_path / "cache")
    warm = lint(project, tmp_path / "cache")
    assert codes(cold) == codes(warm) == [("engine.py", 4, "LR102")]
    assert (cold.analysed, cold.cached) == (1, 0)  # only main.py names a scheduler
    assert (warm.analysed, warm.cached) == (1, 1)


def test_an_edited_file_is_linted_again(project: Path, tmp_path: Path) -> None:
    lint(project, tmp_path / "cache")
    (project / "main.py").write_text(MAIN.replace("StepLR(optimizer, step_size=30)", "OneCycleLR(optimizer, 0.1, 9)"))
    run = lint(project, tmp_path / "cache")
    assert run.cached == 0 and codes(run) == []


def test_a_result_is_stale_when_a_module_its_analysis_read_changes(project: Path, tmp_path: Path) -> None:
    assert codes(lint(project, tmp_path / "cache")) == [("engine.py", 4, "LR102")]
    (project / "engine.py").write_text(NEVER_STEPPED)  # main.py itself is unchanged
    run = lint(project, tmp_path / "cache")
    assert run.cached == 0 and codes(run) == [("main.py", 5, "LR104")]


def test_an_edit_within_the_clock_resolution_is_not_missed(project: Path, tmp_path: Path) -> None:
    target = project / "main.py"
    lint(project, tmp_path / "cache")
    before = target.stat()
    target.write_text(MAIN.replace("step_size=30", "step_size=31"))  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    assert target.stat().st_size == before.st_size
    run = lint(project, tmp_path / "cache")
    assert run.cached == 0


def test_other_settings_do_not_reuse_results(project: Path, tmp_path: Path) -> None:
    lint(project, tmp_path / "cache")
    run = lint(project, tmp_path / "cache", Settings(ignore=("LR102",)))
    assert run.cached == 0 and codes(run) == []


def test_only_the_most_recent_manifests_are_kept(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for ignored in ["LR101", "LR102", "LR103", "LR104", "LR105", "LR106", "LR107", "LR108", "LR109", "LR201"]:
        lint(project, cache, Settings(ignore=(ignored,)))
    (cache / "left_by_a_killed_run.tmp").write_text("{")
    os.utime(cache / "left_by_a_killed_run.tmp", (1, 1))
    lint(project, cache)
    assert len(list(cache.glob("*.json"))) == 8 and not list(cache.glob("*.tmp"))
    assert lint(project, cache, Settings(ignore=("LR201",))).cached > 0  # recent ones are still there


@pytest.mark.parametrize("garbage", [b"", b"{not json", b'{"format": 1, "files": [], "results": 3}', b"\xff\xfe"])
def test_a_corrupt_manifest_is_ignored_and_rewritten(project: Path, tmp_path: Path, garbage: bytes) -> None:
    cache_dir = tmp_path / "cache"
    lint(project, cache_dir)
    (manifest,) = cache_dir.glob("*.json")
    manifest.write_bytes(garbage)
    assert codes(lint(project, cache_dir)) == [("engine.py", 4, "LR102")]
    assert json.loads(manifest.read_text())["format"] == 1
    assert lint(project, cache_dir).cached == 1


def test_the_cache_folder_is_marked_and_ignored_by_git(project: Path, tmp_path: Path) -> None:
    lint(project, tmp_path / "cache")
    assert (tmp_path / "cache" / ".gitignore").read_text() == "*\n"
    assert (tmp_path / "cache" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_concurrent_runs_share_the_cache_safely(project: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "lrlint", "check", str(project), "--format", "json", "--jobs", "1"]
    env = {**os.environ, "LRLINT_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, env=env) for _ in range(4)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert len(set(outputs)) == 1 and [f["code"] for f in json.loads(outputs[0])] == ["LR102"]
    assert lint(project, tmp_path / "cache").cached == 1


def test_an_unwritable_cache_is_a_warning_and_the_run_goes_on(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    command = [sys.executable, "-m", "lrlint", "check", str(project), "--cache-dir", str(blocker / "cache")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "LR102" in done.stdout
    assert "lrlint: warning: cannot write the cache in" in done.stderr


def test_no_cache_writes_nothing(project: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LRLINT_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "lrlint", "check", str(project), "--no-cache"]
    assert subprocess.run(command, capture_output=True, env=env, check=False).returncode == 1
    assert not (tmp_path / "cache").exists()


def test_cache_dir_is_read_from_the_configuration(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LRLINT_CACHE_DIR")
    (project / "pyproject.toml").write_text('[tool.lrlint]\ncache-dir = "build/lint-cache"\n')
    done = subprocess.run([sys.executable, "-m", "lrlint", "check", str(project)], capture_output=True, check=False)
    assert done.returncode == 1
    assert list((project / "build" / "lint-cache").glob("*.json"))


def test_a_warm_run_knows_the_rules_needs_without_importing_the_rules(project: Path, tmp_path: Path) -> None:
    lint(project, tmp_path / "cache")
    assert Cache(tmp_path / "cache", Settings()).rule_needs == NEEDS_A_SCHEDULER
    command = [sys.executable, "-m", "lrlint", "check", str(project), "--cache-dir", str(tmp_path / "warm")]
    probe = "import sys, runpy; sys.argv = {argv!r}; sys.modules.pop('lrlint.rules', None)\n"
    subprocess.run(command, capture_output=True, check=False)  # the cold run fills the cache
    warm = subprocess.run(
        [sys.executable, "-c", probe.format(argv=command[2:]) + _WARM_PROBE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert warm.stdout.strip().endswith("rules not imported"), warm.stderr


_WARM_PROBE = """
from lrlint.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print("rules imported" if "lrlint.rules" in sys.modules else "rules not imported")
"""
