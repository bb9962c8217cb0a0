"""The real-code corpus: public training code that every finding of lrlint is reviewed on.

corpus/projects.toml lists PyPI sdists (wheels where a project publishes none) pinned by version
and sha256; corpus/reviewed.toml lists the findings reviewed as true, each with its reason.
`check` lints the whole corpus and fails on any finding that is not on that list (a false alarm
until someone reviews it) and on any reviewed finding that is no longer reported (a lost true
finding).

Only the Python sources and notebooks of each sdist are kept, one folder per project:
`<corpus dir>/<name>-<version>/...`. The corpus dir is `$LRLINT_CORPUS_DIR`, else
`~/.cache/lrlint/corpus`. Projects already present are not downloaded again.

    python scripts/corpus.py fetch     # download what is missing (needs PyPI)
    python scripts/corpus.py check     # fetch, lint, compare with the reviewed findings
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

REPOSITORY = Path(__file__).resolve().parent.parent
PROJECTS_FILE = REPOSITORY / "corpus" / "projects.toml"
REVIEWED_FILE = REPOSITORY / "corpus" / "reviewed.toml"
KEPT_SUFFIXES = (".py", ".ipynb")
COMPLETE_MARK = ".complete"


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    url: str
    sha256: str

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{self.version}"


def corpus_dir() -> Path:
    return Path(os.environ.get("LRLINT_CORPUS_DIR") or Path.home() / ".cache" / "lrlint" / "corpus")


def projects() -> list[Project]:
    data = tomllib.loads(PROJECTS_FILE.read_text(encoding="utf-8"))
    return [Project(p["name"], p["version"], p["url"], p["sha256"]) for p in data["project"]]


def is_fetched(project: Project, root: Path) -> bool:
    return (root / project.folder_name / COMPLETE_MARK).is_file()


def fetch(project: Project, root: Path) -> str:
    target = root / project.folder_name
    if is_fetched(project, root):
        return f"{project.folder_name}: present"
    with urllib.request.urlopen(project.url, timeout=300) as response:
        payload = response.read()
    digest = hashlib.sha256(payload).hexdigest()
    if digest != project.sha256:
        raise RuntimeError(f"{project.folder_name}: sha256 {digest} does not match the pinned {project.sha256}")
    kept = _extract_sources(payload, project.url, target)
    (target / COMPLETE_MARK).write_text(project.sha256, encoding="utf-8")
    return f"{project.folder_name}: {kept} files"


def _extract_sources(payload: bytes, url: str, target: Path) -> int:
    """Write the archive's .py and .ipynb members under `target`: an sdist's without its one top
    folder (name-version/), a wheel's (for projects that publish no sdist) as they are."""
    kept = 0
    top_folders = 0 if url.endswith(".whl") else 1
    for member_path, read in _members(payload, url):
        parts = Path(member_path).parts[top_folders:]
        if not parts or not member_path.endswith(KEPT_SUFFIXES) or ".." in parts:
            continue
        destination = target.joinpath(*parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(read())
        kept += 1
    return kept


def _members(payload: bytes, url: str):  # type: ignore[no-untyped-def]
    if url.endswith((".zip", ".whl")):
        archive = zipfile.ZipFile(io.BytesIO(payload))
        for info in archive.infolist():
            if not info.is_dir():
                yield info.filename, lambda info=info: archive.read(info)
        return
    with tarfile.open(fileobj=io.BytesIO(payload)) as archive:
        for member in archive:
            if member.isfile():
                yield member.name, lambda member=member: archive.extractfile(member).read()  # type: ignore[union-attr]


def fetch_all(root: Path) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda project: fetch(project, root), projects()))


# -- the gate ------------------------------------------------------------------------------------

Key = tuple[str, int, str]  # (path under the corpus dir, line, code)


@dataclass(frozen=True)
class Reviewed:
    key: Key
    reason: str


def reviewed() -> dict[Key, Reviewed]:
    data = tomllib.loads(REVIEWED_FILE.read_text(encoding="utf-8"))
    entries = [Reviewed((f["path"], int(f["line"]), f["code"]), f["reason"]) for f in data.get("finding", [])]
    return {entry.key: entry for entry in entries}


def precision_table(entries: dict[Key, Reviewed]) -> str:
    """The README's table: with the gate passing, every reported finding is a reviewed true one."""
    counts = Counter(code for _, _, code in entries)
    rows = [f"| {code} | {n} | {n} | {n}/{n} |" for code, n in sorted(counts.items())]
    return "\n".join(["| rule | reported | true | precision |", "|---|---|---|---|", *rows])


def lint_corpus(root: Path) -> list[dict[str, Any]]:
    """lrlint's findings on the whole corpus, as its JSON output gives them, paths under `root`."""
    command = [sys.executable, "-m", "lrlint", "check", ".", "--format", "json", "--no-cache", "--isolated"]
    completed = subprocess.run([*command, "--exit-zero"], cwd=root, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"lrlint failed ({completed.returncode}): {completed.stderr.strip()}")
    findings: list[dict[str, Any]] = json.loads(completed.stdout)
    for finding in findings:
        finding["path"] = Path(finding["path"]).as_posix()
    return findings


@dataclass
class Comparison:
    findings: list[dict[str, Any]]
    unreviewed: list[dict[str, Any]]  # reported, not reviewed as true
    lost: list[Reviewed]  # reviewed as true, no longer reported

    def table(self) -> str:
        """Per rule: reported, reviewed true, not reviewed (precision where everything is reviewed)."""
        codes = sorted({f["code"] for f in self.findings})
        lines = [f"{'rule':6} {'reported':>8} {'true':>5} {'unreviewed':>10}"]
        for code in codes:
            reported = sum(1 for f in self.findings if f["code"] == code)
            unreviewed = sum(1 for f in self.unreviewed if f["code"] == code)
            lines.append(f"{code:6} {reported:>8} {reported - unreviewed:>5} {unreviewed:>10}")
        return "\n".join(lines)


def compare(findings: list[dict[str, Any]], expected: dict[Key, Reviewed]) -> Comparison:
    keys = {(f["path"], f["line"], f["code"]) for f in findings}
    unreviewed = [f for f in findings if (f["path"], f["line"], f["code"]) not in expected]
    lost = [entry for key, entry in expected.items() if key not in keys]
    return Comparison(findings, unreviewed, lost)


def describe(comparison: Comparison) -> str:
    lines = [comparison.table()]
    for finding in comparison.unreviewed:
        lines.append(f"NOT REVIEWED {finding['path']}:{finding['line']}: {finding['code']} {finding['message']}")
    for entry in comparison.lost:
        path, line, code = entry.key
        lines.append(f"LOST {path}:{line}: {code} (reviewed as true: {entry.reason})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["fetch", "check", "list"], nargs="?", default="fetch")
    options = parser.parse_args()
    root = corpus_dir()
    if options.command == "list":
        for project in projects():
            print(root / project.folder_name)
        return 0
    for line in fetch_all(root):
        print(line)
    if options.command == "fetch":
        return 0
    comparison = compare(lint_corpus(root), reviewed())
    print(describe(comparison))
    return 1 if comparison.unreviewed or comparison.lost else 0


if __name__ == "__main__":
    sys.exit(main())
