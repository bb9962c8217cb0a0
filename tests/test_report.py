"""Output formats, checked on real runs: what people read, what CI systems parse."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest
from click.testing import CliRunner

from lrlint.cli import main
from lrlint.findings import Finding, Severity
from lrlint.report import Output, format_full, format_github

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BAD_ARGS = str(FIXTURES / "tutorial_steplr_bad_args.py")
NOTEBOOK = str(FIXTURES / "notebook_finetune_bugs.ipynb")


def check(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["check", *args])
    return done.exit_code, done.stdout, done.stderr


def test_concise_is_one_line_per_finding_and_text_is_concise_when_piped() -> None:
    code, concise, _ = check(BAD_ARGS, "--format", "concise")
    assert code == 1 and check(BAD_ARGS)[1] == concise
    assert concise.splitlines() == [
        f"{BAD_ARGS}:8:25: LR201 error: StepLR() has no argument `step`: did you mean `step_size`? "
        "(TypeError at run time)",
        f"{BAD_ARGS}:8:34: LR201 error: StepLR() has no argument `decay`: did you mean `gamma`? "
        "(TypeError at run time)",
    ]


def test_full_shows_the_source_line_underlined_and_the_help() -> None:
    _, full, _ = check(BAD_ARGS, "--format", "full")
    assert "8 | scheduler = StepLR(opt, step=10, decay=0.1)" in full
    assert "  |                         ^^^^^^^\n" in full  # `step=10`, without the comma
    assert "= help: `lrlint rule LR201` explains why" in full
    assert "\x1b[" not in full  # no colour off a terminal


def test_full_finds_the_line_inside_a_notebook_cell() -> None:
    _, full, _ = check(NOTEBOOK, "--format", "full")
    assert f"{NOTEBOOK}:cell 4:2:5: LR101" in full
    assert "2 |     scheduler.step()" in full


def test_colour_on_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    finding = Finding("a.py", 1, 1, "LR101", "step-before-optimizer", "m", Severity.ERROR)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Output.for_stdout(terminal=True).colour
    assert "\x1b[1;31mLR101" in format_full([finding], Output.for_stdout(terminal=True))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Output.for_stdout(terminal=True).colour
    assert not Output.for_stdout(terminal=False).colour


def test_github_annotations_escape_and_place_each_finding() -> None:
    finding = Finding(
        "dir/a,b.py", 3, 5, "LR101", "step-before-optimizer", "100% wrong:\nyes", Severity.ERROR, None, 3, 9
    )
    warning = Finding("nb.ipynb", 2, 1, "LR302", "step-with-epoch", "old", Severity.WARNING, 4)
    assert format_github([finding, warning], Output()).splitlines() == [
        "::error file=dir/a%2Cb.py,title=LR101 (step-before-optimizer),line=3,col=5,endLine=3,endColumn=9"
        "::100%25 wrong:%0Ayes",
        "::warning file=nb.ipynb,title=LR302 (step-with-epoch)::cell 5, line 2: old",
    ]


def test_sarif_is_valid_sarif_2_1_0_with_rules_and_locations() -> None:
    code, out, _ = check(str(FIXTURES), "--format", "sarif")
    log = json.loads(out)
    schema = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.json").read_text())  # OASIS SARIF 2.1.0
    jsonschema.Draft4Validator(schema).validate(log)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert code == 1 and {rule["id"] for rule in rules} >= {"LR101", "LR201", "LR401"}
    assert all(rule["help"]["text"] and rule["shortDescription"]["text"] for rule in rules)
    assert all(rule["helpUri"].endswith(f"/docs/rules/{rule['id']}.md") for rule in rules)
    assert all(result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for result in run["results"])
    results = run["results"]
    assert len(results) == len(json.loads(check(str(FIXTURES), "--format", "json")[1]))
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert Path(location["artifactLocation"]["uri"]).suffix in (".py", ".ipynb")
    bad_args = [
        r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(BAD_ARGS)
    ]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]) for r in bad_args] == [
        ("LR201", {"startLine": 8, "startColumn": 25, "endLine": 8, "endColumn": 32}),
        ("LR201", {"startLine": 8, "startColumn": 34, "endLine": 8, "endColumn": 43}),
    ]


def test_sarif_places_notebook_findings_on_the_line_of_the_notebook_that_holds_the_code() -> None:
    notebook = FIXTURES / "notebook_finetune_bugs.ipynb"
    _, out, _ = check(str(notebook), "--format", "sarif")
    (run,) = json.loads(out)["runs"]
    findings = json.loads(check(str(notebook), "--format", "json")[1])
    file_lines = notebook.read_text(encoding="utf-8").splitlines()
    cell_lines = {
        index: "".join(cell["source"]).splitlines()
        for index, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"])
    }
    assert findings and len(findings) == len(run["results"])
    for finding, result in zip(findings, run["results"], strict=True):
        start = result["locations"][0]["physicalLocation"]["region"]["startLine"]
        code = cell_lines[finding["cell"]][finding["line"] - 1].strip()
        assert json.dumps(code)[1:-1] in file_lines[start - 1], (finding, file_lines[start - 1])


def test_junit_has_one_failure_per_finding() -> None:
    _, out, _ = check(str(FIXTURES), "--format", "junit")
    root = ElementTree.fromstring(out)
    failures = root.findall(".//failure")
    assert int(root.get("failures")) == len(failures) == len(json.loads(check(str(FIXTURES), "--format", "json")[1]))
    clean = ElementTree.fromstring(check(str(FIXTURES / "tutorial_steplr_clean.py"), "--format", "junit")[1])
    assert clean.get("failures") == "0" and clean.findall(".//testcase")


def test_statistics_count_per_code() -> None:
    code, out, _ = check(BAD_ARGS, str(FIXTURES / "syntax_error.py"), "--statistics")
    assert code == 1 and out.splitlines() == ["2  LR201  unknown-argument", "1  LR000  syntax-error"]
    as_json = json.loads(check(BAD_ARGS, "--statistics", "--format", "json")[1])
    assert as_json == [{"code": "LR201", "name": "unknown-argument", "count": 2}]


def test_quiet_prints_findings_only_and_exit_zero_keeps_them() -> None:
    code, out, err = check(BAD_ARGS, "--quiet")
    assert code == 1 and out.count("LR201") == 2 and err == ""
    code, out, err = check(BAD_ARGS, "--exit-zero")
    assert code == 0 and out.count("LR201") == 2 and "Found 2 findings" in err
