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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpus or default_corpus()
    files = sorted(str(p) for p in corpus.rglob("*.py"))
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    print(f"corpus {corpus}: {len(files)} files, {lines} lines, {os.cpu_count()} cores, {args.runs} runs each")
    python = sys.executable
    lrlint = [python, "-m", "lrlint", "check", str(corpus), "--isolated"]
    results = {
        "lrlint --jobs 1": measure("lrlint check --jobs 1", [*lrlint, "--jobs", "1"], args.runs, len(files)),
        "lrlint --jobs 2": measure("lrlint check --jobs 2", [*lrlint, "--jobs", "2"], args.runs, len(files)),
        "parse-only": measure("libcst parse-only (1 process)", [python, "-c", PARSE_ONLY, *files], 1, len(files)),
    }
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff:
        results["ruff"] = measure(
            "ruff check", [ruff, "check", "--no-cache", "--exit-zero", str(corpus)], args.runs, len(files)
        )
    single = Path(__file__).resolve().parent.parent / "fixtures" / "tutorial_steplr_clean.py"
    results["one file"] = measure(
        "lrlint check one small file", [python, "-m", "lrlint", "check", str(single)], args.runs, 1
    )
    results["import libcst"] = measure("python -c 'import libcst'", [python, "-c", "import libcst"], args.runs, 1)
    print()
    print(f"parse-only / lrlint cold (1 job): {results['parse-only'] / results['lrlint --jobs 1']:.1f}x")
    print(f"lrlint 2 jobs / 1 job:            {results['lrlint --jobs 2'] / results['lrlint --jobs 1']:.2f}")
    print(f"one file / import libcst:         {results['one file'] / results['import libcst']:.2f}")
    if "ruff" in results:
        print(f"lrlint (2 jobs) / ruff:           {results['lrlint --jobs 2'] / results['ruff']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
