"""`make lint`'s checkov step: an unaccepted failure fails it; every skip carries its reason."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools.checkov_gate import (
    MIN_REASON_LENGTH,
    BaselineError,
    findings,
    judge,
    load_baseline,
    main,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
BASELINE = REPO_ROOT / "checkov-baseline.toml"

ENTRY = """
[[accept]]
check = "CKV_AWS_158"
resources = ["squrl-*:AWS::Logs::LogGroup.*"]
reason = "CloudWatch Logs encrypts at rest; these logs hold no personal data at all."
"""


def failed(check: str, stack: str, resource: str) -> dict[str, Any]:
    return {
        "check_id": check,
        "check_name": f"name of {check}",
        "file_path": f"/{stack}.template.json",
        "resource": resource,
    }


def report(*failures: dict[str, Any], passed: int = 10, parsing_errors: int = 0) -> dict:
    return {
        "check_type": "cloudformation",
        "results": {"failed_checks": list(failures)},
        "summary": {"passed": passed, "failed": len(failures), "parsing_errors": parsing_errors},
    }


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    (tmp_path / "squrl-dev-api-us-east-1.template.json").write_text("{}")
    return tmp_path


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


def test_the_committed_baseline_gives_every_skip_its_reason() -> None:
    baseline = load_baseline(BASELINE)
    assert baseline
    for entry in baseline:
        assert len(entry.reason) >= MIN_REASON_LENGTH, entry.check
        # Scoped to squrl's stacks, never "every resource of every template".
        assert all(pattern.startswith("squrl-") for pattern in entry.resources), entry.check


def test_an_accepted_failure_passes_and_a_new_one_fails(tmp_path: Path, assembly: Path) -> None:
    baseline = write(tmp_path, "baseline.toml", ENTRY)
    accepted = failed("CKV_AWS_158", "squrl-dev-api-us-east-1", "AWS::Logs::LogGroup.ApiLogs1")
    results = write(tmp_path, "ok.json", json.dumps(report(accepted)))
    assert main(["--baseline", str(baseline), "--results", str(results), str(assembly)]) == 0

    new = failed("CKV_AWS_27", "squrl-dev-api-us-east-1", "AWS::SQS::Queue.Dlq1")
    results = write(tmp_path, "new.json", json.dumps([report(accepted), report(new)]))
    assert main(["--baseline", str(baseline), "--results", str(results), str(assembly)]) == 1


def test_the_same_check_on_another_kind_of_resource_is_new() -> None:
    baseline = [entry for entry in load_baseline(BASELINE) if entry.check == "CKV_AWS_116"]
    finding_list, passed = findings(
        report(
            failed(
                "CKV_AWS_116",
                "squrl-prod-api-eu-west-1",
                "AWS::Lambda::Function.RedirectFunctionAB12",
            ),
            failed(
                "CKV_AWS_116",
                "squrl-prod-api-eu-west-1",
                "AWS::Lambda::Function.NewWorkerFunctionCD34",
            ),
        )
    )
    verdict = judge(finding_list, passed, baseline)
    assert [f.resource for f in verdict.new] == ["AWS::Lambda::Function.NewWorkerFunctionCD34"]
    assert not verdict.ok


def test_an_entry_that_matches_nothing_is_reported(tmp_path: Path, assembly: Path, capsys) -> None:
    baseline = write(tmp_path, "baseline.toml", ENTRY)
    results = write(tmp_path, "clean.json", json.dumps(report()))
    assert main(["--baseline", str(baseline), "--results", str(results), str(assembly)]) == 0
    assert "CKV_AWS_158" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (ENTRY + 'owner = "ops"\n', "unknown keys"),
        (
            ENTRY.replace(
                "CloudWatch Logs encrypts at rest; these logs hold no personal data at all.", "ok"
            ),
            "reason",
        ),
        (ENTRY.replace("CKV_AWS_158", "LogGroupKms"), "not a checkov id"),
        (ENTRY.replace('["squrl-*:AWS::Logs::LogGroup.*"]', "[]"), "resources"),
        ("", "no [[accept]] entries"),
    ],
)
def test_a_malformed_baseline_is_refused(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(BaselineError, match=re.escape(message)):
        load_baseline(write(tmp_path, "baseline.toml", entry))


def test_a_template_checkov_cannot_parse_fails_the_step(tmp_path: Path, assembly: Path) -> None:
    baseline = write(tmp_path, "baseline.toml", ENTRY)
    results = write(tmp_path, "broken.json", json.dumps(report(parsing_errors=1)))
    assert main(["--baseline", str(baseline), "--results", str(results), str(assembly)]) == 2


def test_an_empty_assembly_fails_the_step(tmp_path: Path) -> None:
    baseline = write(tmp_path, "baseline.toml", ENTRY)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--baseline", str(baseline), "--results", str(baseline), str(empty)]) == 2
