"""How much of real training code `lrlint simulate` can simulate, and why it refuses the rest.

    python bench/simulate.py FOLDER [FOLDER ...]   # e.g. a folder of public training scripts
    python bench/simulate.py FOLDER --list         # also one line per schedule

Prints the schedules found, how many were simulated (the share, against the 90% target), the
refusals grouped by reason, and how many assumptions the simulated ones state. Values come from
the code's text only (argparse defaults, constants, what the code states): nothing is run but
torch's own schedulers. Needs torch.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from lrlint.discovery import discover
from lrlint.simulate import CannotSimulate, reason_kind, simulate_file

TARGET = 0.9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--list", action="store_true", help="one line per schedule")
    options = parser.parse_args()
    started = time.perf_counter()
    found, refused, unreadable, assumptions = 0, Counter[str](), 0, 0
    for file in discover([str(folder) for folder in options.folders], ()).files:
        try:
            _, schedules = simulate_file(str(file), None, 100)
        except CannotSimulate:
            unreadable += 1
            continue
        for schedule in schedules:
            found += 1
            if schedule.per_epoch:
                assumptions += len(schedule.assumptions)
            else:
                refused[reason_kind(schedule.cannot)] += 1
            if options.list:
                outcome = "simulated" if schedule.per_epoch else f"refused: {schedule.cannot}"
                print(f"{file}:{schedule.where}: {schedule.name}: {outcome}")
    simulated = found - sum(refused.values())
    share = simulated / found if found else 0.0
    print(f"schedules found      {found}")
    print(f"simulated            {simulated} ({share:.0%}; target {TARGET:.0%})")
    print(f"assumptions stated   {assumptions} ({assumptions / simulated if simulated else 0:.1f} per schedule)")
    for reason, count in refused.most_common():
        print(f"refused              {count:>3}  {reason}")
    if unreadable:
        print(f"files not read       {unreadable}")
    print(f"time                 {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
