"""Regenerate lrlint/data/signatures.json from the installed torch (and transformers, if installed).

Run: python scripts/generate_signatures.py
The test tests/test_signatures.py compares the shipped data with the installed packages, so the
data cannot silently drift from the torch version lrlint is tested against.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "lrlint" / "data" / "signatures.json"

# transformers schedule factories return a LambdaLR stepped per iteration, except these.
TRANSFORMERS_RETURNS = {
    "get_reduce_on_plateau_schedule": "ReduceLROnPlateau",
    "get_adafactor_schedule": "AdafactorSchedule",
}


def describe_parameters(func: Callable[..., Any]) -> list[dict[str, Any]]:
    params = []
    for param in inspect.signature(func).parameters.values():
        if param.name == "self":
            continue
        entry: dict[str, Any] = {"name": param.name, "kind": param.kind.name}
        if param.default is not inspect.Parameter.empty:
            entry["default"] = _literal_or_repr(param.default)
        params.append(entry)
    return params


def _literal_or_repr(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"repr": repr(value)}


def torch_schedulers() -> dict[str, dict[str, Any]]:
    from torch.optim import lr_scheduler

    base = lr_scheduler.LRScheduler
    found = {}
    for name, obj in sorted(vars(lr_scheduler).items()):
        if not inspect.isclass(obj) or obj.__module__ != lr_scheduler.__name__:
            continue
        if name.startswith("_") or obj is base or not issubclass(obj, base):
            continue
        found[f"torch.optim.lr_scheduler.{name}"] = {
            "kind": "class",
            "returns": name,
            "params": describe_parameters(obj),
        }
    # The base class user code extends: its __init__ is what `super().__init__(...)` calls.
    found["torch.optim.lr_scheduler.LRScheduler"] = {
        "kind": "base",
        "returns": "LRScheduler",
        "params": describe_parameters(base),
    }
    return found


def transformers_factories() -> dict[str, dict[str, Any]]:
    try:
        from transformers import optimization
    except ImportError:
        return {}
    found = {}
    for name, obj in sorted(vars(optimization).items()):
        if not (name.startswith("get_") and "schedule" in name and callable(obj)):
            continue
        found[f"transformers.optimization.{name}"] = {
            "kind": "factory",
            "returns": TRANSFORMERS_RETURNS.get(name, "LambdaLR"),
            "params": describe_parameters(obj),
        }
    # The names `get_scheduler(name, ...)` accepts: `SchedulerType(name)` raises ValueError on others.
    from transformers.trainer_utils import SchedulerType

    found["transformers.optimization.get_scheduler"]["names"] = sorted(member.value for member in SchedulerType)
    return found


def generate() -> dict[str, Any]:
    import torch

    versions = {"torch": torch.__version__.split("+")[0]}
    schedulers = torch_schedulers()
    factories = transformers_factories()
    if factories:
        import transformers

        versions["transformers"] = transformers.__version__
    return {"generated_from": versions, "schedulers": {**schedulers, **factories}}


def main() -> int:
    data = generate()
    if "transformers" not in data["generated_from"] and OUTPUT.exists():
        # Keep the shipped transformers entries when regenerating without transformers installed.
        shipped = json.loads(OUTPUT.read_text())
        for name, entry in shipped["schedulers"].items():
            if name.startswith("transformers."):
                data["schedulers"][name] = entry
        if "transformers" in shipped["generated_from"]:
            data["generated_from"]["transformers"] = shipped["generated_from"]["transformers"]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(data['schedulers'])} signatures to {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
