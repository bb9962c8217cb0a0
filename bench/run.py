"""Benchmark lrlint on a corpus against the floor of any LibCST linter (a parse-only pass) and ruff.

    python bench/run.py                 # the installed torch package's source
    python bench/run.py PATH --runs 3   # any folder

Prints files, lines, wall time, files/s and peak memory for each tool, and the ratios that
matter. Numbers are measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PARSE_ONLY = """
import sys, libcst
from pathlib import Path
for name in sys.argv[1:]:
    try:
        libcst.parse_module(Path(name).read_text(encoding="utf-8"))
    except Exception:
        pass
"""


def default_corpus() -> Path:
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        sys.exit("torch is not installed: pass a folder to benchmark")
    return Path(spec.origin).parent


# Runs a command and prints the peak memory of its process tree (largest single process, KiB).
PEAK_OF = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one run of `command`."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_OF, *command], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    return wall, int(done.stdout.split()[-1]) / 1024


def measure(name: str, command: list[str], runs: int, files: int) -> float:
    samples = [timed(command) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples)
    memory = max(s[1] for s in samples)
    print(f"{name:<34} {wall:8.2f} s {files / wall:9.1f} files/s {memory:8.0f} MiB peak")
    return wall


def parsed_files(corpus: Path) -> int:
    """How many files pass the prefilter (and are parsed) in a cold run."""
    from lrlint.config import Settings
    from lrlint.discovery import discover
    from lrlint.engine import lint_files

    return lint_files(discover([str(corpus)]).files, Settings(), jobs=os.cpu_count() or 1).analysed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpus or default_corpus()
    files = sorted(str(p) for p in corpus.rglob("*.py"))
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    parsed = parsed_files(corpus)
    print(f"corpus {corpus}: {len(files)} files, {lines} lines, {os.cpu_count()} cores, {args.runs} runs each")
    print(f"prefilter: {parsed} files parsed, {len(files) - parsed} skipped ({1 - parsed / len(files):.1%})")
    python = sys.executable
    lrlint = [python, "-m", "lrlint", "check", str(corpus), "--isolated", "--exit-zero"]
    cold = [*lrlint, "--no-cache"]
    with tempfile.TemporaryDirectory() as cache_dir:
        warm = [*lrlint, "--cache-dir", cache_dir]
        subprocess.run(warm, capture_output=True, check=False)  # fills the cache
        results = {
            "cold 1 job": measure("lrlint cold --jobs 1", [*cold, "--jobs", "1"], args.runs, len(files)),
            "cold 2 jobs": measure("lrlint cold --jobs 2", [*cold, "--jobs", "2"], args.runs, len(files)),
            "warm": measure("lrlint warm (cached)", warm, args.runs, len(files)),
        }
    results["parse-only"] = measure("libcst parse-only (1 process)", [python, "-c", PARSE_ONLY, *files], 1, len(files))
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff:
        results["ruff"] = measure(
            "ruff check", [ruff, "check", "--no-cache", "--exit-zero", str(corpus)], args.runs, len(files)
        )
    single = Path(__file__).resolve().parent.parent / "fixtures" / "tutorial_steplr_clean.py"
    results["one file"] = measure(
        "lrlint check one small file (cold)", [python, "-m", "lrlint", "check", "--no-cache", str(single)], args.runs, 1
    )
    results["import libcst"] = measure("python -c 'import libcst'", [python, "-c", "import libcst"], args.runs, 1)
    print()
    print(f"parse-only / lrlint cold (1 job): {results['parse-only'] / results['cold 1 job']:.1f}x  (target >= 10x)")
    print(f"lrlint cold / warm:               {results['cold 1 job'] / results['warm']:.1f}x  (target >= 20x)")
    print(f"lrlint cold 2 jobs / 1 job:       {results['cold 2 jobs'] / results['cold 1 job']:.2f}  (target <= 0.6)")
    print(f"one file:                         {results['one file']:.2f} s  (target < 0.3 s)")
    print(f"one file / import libcst:         {results['one file'] / results['import libcst']:.2f}  (target <= 2)")
    if "ruff" in results:
        print(f"lrlint cold (2 jobs) / ruff:      {results['cold 2 jobs'] / results['ruff']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
