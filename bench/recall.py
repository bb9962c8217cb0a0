"""Recall on reconstructed bugs: how many of the known scheduler bugs in `bench/probes/` lrlint finds.

    python bench/recall.py                 # every probe folder
    python bench/recall.py --verbose       # and each miss and extra finding

Each probe is a training script rebuilt from a real bug report (a GitHub issue or pull request,
cited in its header), in the shape real projects write it: Lightning modules, HF Trainer
subclasses, trainer classes, helpers and factories. A marker names what lrlint should report
and where: `# expect: LR105` on the line (RULES.md's "reports at"), and `also-ok: LR108` for a
second finding that follows from the same mistake, allowed but not required. `NN_clean_*.py`
probes hold correct code in shapes a linter may misread: every finding there is an extra.

The probes are not fixtures: they record what lrlint misses as well as what it finds, and
recall is measured here, never asserted in tests (fixtures pin what lrlint reports exactly).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

PROBES = Path(__file__).resolve().parent / "probes"
_EXPECT = re.compile(r"#.*?expect:\s*([A-Z0-9, ]+)")
_ALSO_OK = re.compile(r"also-ok:\s*([A-Z0-9, ]+)")


@dataclass
class Score:
    found: list[tuple[str, int, str]] = field(default_factory=list)
    missed: list[tuple[str, int, str]] = field(default_factory=list)
    extra: list[tuple[str, int, str, str]] = field(default_factory=list)


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip().startswith("LR")]


def _markers(path: Path) -> tuple[set[tuple[int, str]], set[str]]:
    expected: set[tuple[int, str]] = set()
    allowed: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if match := _EXPECT.search(line):
            expected |= {(number, code) for code in _codes(match.group(1))}
        if match := _ALSO_OK.search(line):
            allowed |= set(_codes(match.group(1)))
    return expected, allowed


def _findings(files: list[Path]) -> dict[str, list[tuple[int, str, str]]]:
    command = [sys.executable, "-m", "lrlint", "check", "--no-cache", "--isolated", "--exit-zero"]
    output = subprocess.run(
        [*command, "--format", "json", *map(str, files)], check=True, capture_output=True, text=True
    )
    found: dict[str, list[tuple[int, str, str]]] = {}
    for finding in json.loads(output.stdout or "[]"):
        found.setdefault(Path(finding["path"]).name, []).append((finding["line"], finding["code"], finding["message"]))
    return found


def score(folder: Path) -> Score:
    files = sorted(folder.glob("*.py"))
    reported = _findings(files)
    result = Score()
    for path in files:
        expected, allowed = _markers(path)
        got = reported.get(path.name, [])
        places = {(line, code) for line, code, _ in got}
        result.found += [(path.name, line, code) for line, code in sorted(expected & places)]
        result.missed += [(path.name, line, code) for line, code in sorted(expected - places)]
        result.extra += [
            (path.name, line, code, message)
            for line, code, message in got
            if (line, code) not in expected and code not in allowed
        ]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="list every miss and extra finding")
    options = parser.parse_args()
    print(f"{'probes':<14} {'expected':>8} {'found':>6} {'missed':>7} {'extra':>6}")
    for folder in sorted(p for p in PROBES.iterdir() if p.is_dir()):
        result = score(folder)
        expected = len(result.found) + len(result.missed)
        print(f"{folder.name:<14} {expected:>8} {len(result.found):>6} {len(result.missed):>7} {len(result.extra):>6}")
        if options.verbose:
            for name, line, code in result.missed:
                print(f"    missed {name}:{line} {code}")
            for name, line, code, message in result.extra:
                print(f"    extra  {name}:{line} {code} {message[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
