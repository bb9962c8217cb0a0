"""Benchmark lrlint against the floor of any LibCST linter (a parse-only pass) and ruff.

    python bench/run.py                       # the installed torch package's source
    python bench/run.py FOLDER [FOLDER ...]   # any folders, e.g. dense training projects
    python bench/run.py --dense               # the dense training projects of the corpus
    python bench/run.py --big-file            # a generated 1 MB training script
    python bench/run.py --dense --findings bench/findings.json   # and check the findings
    python bench/run.py --dense --against HEAD~3 --runs 5        # the working tree against a commit

For each corpus: files, lines, what the prefilter skips, then wall time and peak memory of lrlint
cold at 1 and 2 jobs, warm, a LibCST parse of every file (one process), `ruff check --select ALL`,
and the ratios the targets are set on. `--findings FILE` records each corpus's findings in FILE
the first time and, on later runs, fails when they differ: an optimisation must not change them.
`--against REV` instead runs lrlint cold (1 job) from a checkout of REV and from the working
tree in turns on each corpus, which is how a change is told from this machine's noise (runs of
one command vary by about 25% across minutes): medians and minimums of each side, their ratio,
and whether both find the same. Numbers are measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Training-dense projects of the real-code corpus (scripts/corpus.py fetches them): a trainer
# library, a library of trainers (RLHF), an object-detection training repository.
DENSE = ("simpletransformers-0.70.8", "trl-1.16.0", "yolov5-7.0.14")

PARSE_ONLY = """
import sys, libcst
from pathlib import Path
for name in sys.argv[1:]:
    try:
        libcst.parse_module(Path(name).read_text(encoding="utf-8"))
    except Exception:
        pass
"""

# Runs a command and prints the peak memory of its process tree (largest single process, KiB).
PEAK_OF = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


# Every command runs with Python's bytecode cache, as an installed lrlint does: where the
# environment forbids writing it (PYTHONDONTWRITEBYTECODE), lrlint, installed editable, would be
# compiled from source on each run while LibCST, compiled when pip installed it, would not.
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Measure:
    wall: float
    memory: float  # MiB


def timed(command: list[str]) -> Measure:
    start = time.perf_counter()
    command = [sys.executable, "-c", PEAK_OF, *command]
    done = subprocess.run(command, env=ENVIRONMENT, capture_output=True, text=True, check=False)
    return Measure(time.perf_counter() - start, int(done.stdout.split()[-1]) / 1024)


def measure(name: str, command: list[str], runs: int, files: int) -> Measure:
    samples = [timed(command) for _ in range(runs)]
    result = Measure(statistics.median(s.wall for s in samples), max(s.memory for s in samples))
    print(f"  {name:<34} {result.wall:8.2f} s {files / result.wall:9.1f} files/s {result.memory:8.0f} MiB peak")
    return result


def torch_source() -> Path:
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        sys.exit("torch is not installed: pass a folder to benchmark")
    return Path(spec.origin).parent


def dense_corpora() -> list[Path]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from corpus import corpus_dir

    folders = [corpus_dir() / name for name in DENSE]
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        sys.exit(f"not fetched: {', '.join(missing)} (python scripts/corpus.py fetch)")
    return folders


def big_file(folder: Path, size: int = 1_000_000) -> Path:
    """A training script of about `size` bytes: many model and helper definitions, then a loop
    that steps an epoch-sized StepLR every batch (one LR102)."""
    head = "import torch\nimport torch.nn as nn\nfrom torch.optim.lr_scheduler import StepLR\n\n"
    parts = [head]
    index = 0
    while sum(len(part) for part in parts) < size:
        parts.append(
            f"\n\nclass Block{index}(nn.Module):\n    def __init__(self, width=64):\n        super().__init__()\n"
            f"        self.fc = nn.Linear(width, width)\n\n    def forward(self, x):\n"
            f"        y = self.fc(x)\n        return torch.relu(y) + x if y.mean() > {index} else y\n\n\n"
            f"def metric_{index}(outputs, targets):\n    correct = (outputs.argmax(1) == targets).sum().item()\n"
            f"    return correct / max(targets.numel(), 1)\n"
        )
        index += 1
    parts.append(
        "\n\ndef train(model, loader, epochs=90):\n"
        "    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "    scheduler = StepLR(optimizer, step_size=30)\n"
        "    for epoch in range(epochs):\n        for x, y in loader:\n"
        "            optimizer.zero_grad()\n            nn.functional.cross_entropy(model(x), y).backward()\n"
        "            optimizer.step()\n            scheduler.step()\n"
    )
    path = folder / "big_train.py"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def parsed_files(corpus: Path) -> tuple[int, int]:
    """How many files pass the text prefilter, and how many of those the first look hands to LibCST."""
    from lrlint.config import Settings
    from lrlint.discovery import discover
    from lrlint.first_look import Outlines, needs_model
    from lrlint.linter import rule_needs
    from lrlint.module_files import ModuleFiles
    from lrlint.prefilter import ProjectPrefilter, read_state
    from lrlint.sources import MAX_FILE_BYTES

    states = [read_state(path, MAX_FILE_BYTES) for path in discover([str(corpus)]).files]
    prefilter = ProjectPrefilter.of_states(states, rule_needs(Settings()))
    passed = [s.path for s in states if s.facts is not None and prefilter.relevant(s.facts)]
    outlines = Outlines(ModuleFiles(), MAX_FILE_BYTES)
    codes = {path: path.read_text(encoding="utf-8", errors="replace") for path in passed}
    return len(passed), sum(needs_model(code, path, outlines) for path, code in codes.items())


def findings_of(target: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "lrlint", "check", str(target), "--isolated", "--exit-zero", "--no-cache"]
        + ["--format", "json"],
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    return sorted(
        f"{Path(f['path']).relative_to(target.parent)}:{f['line']}:{f['column']}: {f['code']} {f['message']}"
        for f in found
    )


def check_findings(record: Path, corpus: Path) -> bool:
    """Whether the findings on `corpus` are those recorded (recorded now if they were not)."""
    recorded: dict[str, list[str]] = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else {}
    found = findings_of(corpus)
    if corpus.name not in recorded:
        recorded[corpus.name] = found
        record.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"  findings: {len(found)} recorded in {record}")
        return True
    same = recorded[corpus.name] == found
    lost = sorted(set(recorded[corpus.name]) - set(found))
    new = sorted(set(found) - set(recorded[corpus.name]))
    print(f"  findings: {len(found)}, " + ("identical to the record" if same else f"DIFFER: lost {lost}, new {new}"))
    return same


def bench_corpus(corpus: Path, runs: int) -> dict[str, Measure]:
    files = sorted(str(p) for p in corpus.rglob("*.py")) if corpus.is_dir() else [str(corpus)]
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    print(f"{corpus.name}: {len(files)} files, {lines} lines, {os.cpu_count()} cores, median of {runs} runs")
    passed, parsed = parsed_files(corpus)
    print(f"  prefilter: {passed} files pass; first look: {parsed} of them parsed with LibCST")
    python = sys.executable
    lrlint = [python, "-m", "lrlint", "check", str(corpus), "--isolated", "--exit-zero"]
    cold = [*lrlint, "--no-cache"]
    results = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        warm = [*lrlint, "--cache-dir", cache_dir]
        subprocess.run(warm, env=ENVIRONMENT, capture_output=True, check=False)  # fills the cache
        results["cold 1 job"] = measure("lrlint cold --jobs 1", [*cold, "--jobs", "1"], runs, len(files))
        results["cold 2 jobs"] = measure("lrlint cold --jobs 2", [*cold, "--jobs", "2"], runs, len(files))
        results["warm"] = measure("lrlint warm (cached)", warm, runs, len(files))
    results["parse"] = measure("libcst parse-only (1 process)", [python, "-c", PARSE_ONLY, *files], runs, len(files))
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff:
        ruff_all = [ruff, "check", "--select", "ALL", "--no-cache", "--exit-zero", "--isolated", str(corpus)]
        results["ruff"] = measure("ruff check --select ALL", ruff_all, runs, len(files))
    print_ratios(results)
    return results


def print_ratios(results: dict[str, Measure]) -> None:
    cold, parse = results["cold 1 job"], results["parse"]
    print(f"  cold (1 job) / LibCST parse:      {cold.wall / parse.wall:.2f}x  (target <= 1.0x; 2x for one big file)")
    print(f"  cold 2 jobs / 1 job:              {results['cold 2 jobs'].wall / cold.wall:.2f}  (target <= 0.6)")
    print(f"  cold (1 job) / warm:              {cold.wall / results['warm'].wall:.1f}x")
    print(f"  peak memory / LibCST parse's:     {cold.memory / parse.memory:.2f}x  (target <= 2x for one big file)")
    if "ruff" in results:
        print(f"  cold (1 job) / ruff --select ALL: {cold.wall / results['ruff'].wall:.1f}x  (moonshot <= 5x)")


def compare_against(revision: str, corpora: list[Path], runs: int) -> bool:
    """The working tree against `revision`, run in turns; whether their findings are identical."""
    identical = True
    with tempfile.TemporaryDirectory() as scratch:
        checkout = Path(scratch) / "checkout"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", str(checkout), revision], capture_output=True, check=True)
        try:
            sides = {revision: checkout, "working tree": ROOT}
            for corpus in corpora:
                print(f"{corpus.name}: against {revision}, in turns, {runs} runs each (cold, 1 job)")
                walls: dict[str, list[float]] = {side: [] for side in sides}
                for _ in range(runs):
                    for side, code in sides.items():
                        walls[side].append(timed_from(code, [*_cold(corpus), "--jobs", "1"]).wall)
                for side, samples in walls.items():
                    print(f"  {side:<14} median {statistics.median(samples):6.2f} s  min {min(samples):6.2f} s")
                ratio = statistics.median(walls["working tree"]) / statistics.median(walls[revision])
                print(f"  working tree / {revision}: {ratio:.2f} (medians)")
                found = {side: findings_from(code, corpus) for side, code in sides.items()}
                same = found[revision] == found["working tree"]
                identical &= same
                print(f"  findings: {len(found['working tree'])}, " + ("identical" if same else "DIFFER"))
                print()
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(checkout)], capture_output=True, check=False)
    return identical


def _cold(corpus: Path) -> list[str]:
    return ["-m", "lrlint", "check", str(corpus), "--isolated", "--exit-zero", "--no-cache"]


def timed_from(code: Path, arguments: list[str]) -> Measure:
    """`python ARGUMENTS` with lrlint imported from the checkout at `code` (run from there)."""
    environment = {**ENVIRONMENT, "PYTHONPATH": str(code)}
    start = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=code, env=environment, capture_output=True, check=False)
    return Measure(time.perf_counter() - start, 0.0)


def findings_from(code: Path, corpus: Path) -> list[str]:
    environment = {**ENVIRONMENT, "PYTHONPATH": str(code)}
    command = [sys.executable, *_cold(corpus), "--format", "json"]
    done = subprocess.run(command, cwd=code, env=environment, capture_output=True, text=True, check=True)
    return sorted(f"{f['path']}:{f['line']}:{f['column']}: {f['code']} {f['message']}" for f in json.loads(done.stdout))


def bench_small_file(runs: int) -> None:
    python = sys.executable
    single = ROOT / "fixtures" / "tutorial_steplr_clean.py"
    check_one = [python, "-m", "lrlint", "check", "--no-cache", str(single)]
    timed(check_one)  # writes the bytecode of every module the run imports
    one = measure("lrlint check one small file (cold)", check_one, runs, 1)
    libcst = measure("python -c 'import libcst'", [python, "-c", "import libcst"], runs, 1)
    print(f"  one file / import libcst:         {one.wall / libcst.wall:.2f}  (target <= 2)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="*", type=Path)
    parser.add_argument("--dense", action="store_true", help="the dense training projects of the corpus")
    parser.add_argument("--big-file", action="store_true", help="a generated 1 MB training script")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--findings", type=Path, help="record the findings here, or check them against it")
    parser.add_argument("--against", metavar="REV", help="compare the working tree with this commit, in turns")
    args = parser.parse_args()
    corpora = list(args.corpora) + (dense_corpora() if args.dense else [])
    identical = True
    with tempfile.TemporaryDirectory() as scratch:
        if args.big_file:
            corpora.append(big_file(Path(scratch)))
        if not corpora:
            corpora = [torch_source()]
        if args.against is not None:
            return 0 if compare_against(args.against, corpora, args.runs) else 1
        for corpus in corpora:
            bench_corpus(corpus, args.runs)
            if args.findings is not None:
                identical &= check_findings(args.findings, corpus)
            print()
    bench_small_file(args.runs)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
