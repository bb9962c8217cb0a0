"""Settings: `[tool.lrlint]` in pyproject.toml, overridden by command-line flags."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lrlint.catalog import newest_torch

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI
    import tomli as tomllib
from lrlint.findings import known_codes
from lrlint.paths import one_pattern

ALL = "ALL"  # every rule, as in ruff's `--select ALL`
OLDEST_TORCH = (1, 1)  # the scheduler API lrlint checks (step after the optimizer) dates from torch 1.1
_KNOWN_KEYS = {
    "select",
    "extend-select",
    "ignore",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "max-file-size",
    "target-torch",
    "severity",
    "cache-dir",
    "respect-gitignore",
}
SEVERITIES = ("warning", "error")  # from least to most severe


class ConfigError(Exception):
    """The configuration is unusable; the message says why (a usage error, exit code 2)."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()  # code prefixes, or ALL; empty means every rule
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_file_bytes: int = 4 * 1024 * 1024
    respect_gitignore: bool = True  # folders walked skip what .gitignore files ignore
    target_torch: tuple[int, int] | None = None  # None: the newest torch lrlint ships signatures for
    min_severity: str = "warning"  # report findings of this severity and above
    root: Path | None = None  # the folder of the config file: relative patterns start there
    cache_dir: Path | None = None  # None: .lrlint_cache in the config's folder, or the working folder
    config_path: Path | None = None

    def enabled(self, code: str) -> bool:
        selected = not self.select or matches(code, self.select)
        return selected and not matches(code, self.ignore)

    def enabled_for(self, code: str, path: str) -> bool:
        if not self.enabled(code):
            return False
        return not any(
            matches(code, codes) and one_pattern(pattern, self.root).match(path)
            for pattern, codes in self.per_file_ignores.items()
        )

    def overridden(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v})


def extended(select: tuple[str, ...], extend: tuple[str, ...]) -> tuple[str, ...]:
    """`select` with `extend-select` added; an empty selection is every rule already."""
    return (*select, *extend) if select else ()


def matches(code: str, selectors: tuple[str, ...]) -> bool:
    """`code` is one of `selectors`: ALL, or a prefix of it (`LR1` selects LR101 to LR107)."""
    return any(selector == ALL or code.startswith(selector) for selector in selectors)


def checked_codes(codes: tuple[str, ...], where: str) -> tuple[str, ...]:
    """The codes, when each is ALL or a prefix of some rule's code; ConfigError naming the others."""
    unknown = [code for code in codes if code != ALL and not any(known.startswith(code) for known in known_codes())]
    if unknown:
        raise ConfigError(f"{where}: unknown rule code(s): {', '.join(unknown)} (see `lrlint rule --all`)")
    return codes


def find_config(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.lrlint] table, from `start` upward."""
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    for candidate in (directory, *directory.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and "lrlint" in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None


def load_settings(config: Path | None) -> Settings:
    if config is None:
        return Settings()
    table = _read_toml(config).get("tool", {}).get("lrlint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config}: [tool.lrlint] must be a table")
    unknown = set(table) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{config}: unknown [tool.lrlint] option(s): {', '.join(sorted(unknown))}")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{config}: per-file-ignores must be a table of pattern = [codes]")
    return Settings(
        select=extended(
            _codes(table.get("select", []), config, "select"),
            _codes(table.get("extend-select", []), config, "extend-select"),
        ),
        ignore=_codes(table.get("ignore", []), config, "ignore"),
        exclude=(
            *_strings(table.get("exclude", []), config, "exclude"),
            *_strings(table.get("extend-exclude", []), config, "extend-exclude"),
        ),
        per_file_ignores={str(k): _codes(v, config, f"per-file-ignores.{k}") for k, v in per_file.items()},
        max_file_bytes=_positive_int(table.get("max-file-size", Settings.max_file_bytes), config),
        respect_gitignore=_boolean(table.get("respect-gitignore", True), config, "respect-gitignore"),
        target_torch=parse_torch_version(table["target-torch"], str(config)) if "target-torch" in table else None,
        min_severity=parse_severity(table.get("severity", "warning"), str(config)),
        cache_dir=_folder(table["cache-dir"], config, "cache-dir") if "cache-dir" in table else None,
        root=config.parent,
        config_path=config,
    )


def _boolean(value: Any, config: Path, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{config}: {key} must be true or false")
    return value


def parse_toml(text: str) -> dict[str, Any]:
    """TOML text as a table (tomllib, or tomli on Python 3.10); raises ValueError when it is not TOML."""
    return tomllib.loads(text)


def _strings(value: Any, config: Path, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{config}: {key} must be a list of strings")
    return tuple(value)


def _folder(value: Any, config: Path, key: str) -> Path:
    """A folder named in the config file, relative to the config's folder."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{config}: {key} must be a folder name")
    return config.parent / value


def _codes(value: Any, config: Path | None, key: str) -> tuple[str, ...]:
    codes = _strings(value, config or Path("--"), key)
    return checked_codes(tuple(c.strip().upper() for c in codes if c.strip()), f"{config or '--'}: {key}")


def _positive_int(value: Any, config: Path) -> int:
    if not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{config}: max-file-size must be a positive number of bytes")
    return value


def parse_torch_version(value: object, where: str) -> tuple[int, int]:
    """'2.1' (or '2.1.0') -> (2, 1), within the torch versions lrlint has data for."""
    parts = str(value).split(".")
    if len(parts) < 2 or not all(part.isdigit() for part in parts[:2]):
        raise ConfigError(f"{where}: target-torch must look like 2.1, got {value!r}")
    version, newest = (int(parts[0]), int(parts[1])), newest_torch()
    if not OLDEST_TORCH <= version <= newest:
        supported = f"{OLDEST_TORCH[0]}.{OLDEST_TORCH[1]} to {newest[0]}.{newest[1]}"
        raise ConfigError(f"{where}: lrlint has data for torch {supported}, not {value}")
    return version


def parse_severity(value: object, where: str) -> str:
    if value not in SEVERITIES:
        raise ConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, got {value!r}")
    return str(value)


def split_codes(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    """`--select LR1,LR201 --select LR3` -> ('LR1', 'LR201', 'LR3'), each code checked."""
    codes = tuple(code.strip().upper() for value in values for code in value.split(",") if code.strip())
    return checked_codes(codes, option)
