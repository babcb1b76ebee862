"""`make lint`'s checkov step: every synthesized template, judged against a reasoned baseline.

    python -m tools.checkov_gate --checkov .venv-checkov/bin/checkov \
        --baseline checkov-baseline.toml CLOUD_ASSEMBLY_DIR

checkov runs over the assembly's templates (not its assets). Each failed check must match an
entry of the baseline: a check id, the resources it covers as `<stack>:<Type>.<LogicalId>`
globs, and the reason squrl accepts it, as cdk-nag acknowledgments carry theirs. A failure no
entry matches fails the step, naming it; an entry that matches nothing is reported, so the
baseline shrinks when a finding is fixed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
# A reason says why, for this resource, not only that the finding is accepted.
MIN_REASON_LENGTH = 40


class BaselineError(Exception):
    """The baseline file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Acceptance:
    check: str
    resources: tuple[str, ...]
    reason: str

    def covers(self, finding: Finding) -> bool:
        return finding.check == self.check and any(
            fnmatch.fnmatchcase(finding.key, pattern) for pattern in self.resources
        )


@dataclass(frozen=True)
class Finding:
    check: str
    name: str
    stack: str
    resource: str  # <Type>.<LogicalId>

    @property
    def key(self) -> str:
        return f"{self.stack}:{self.resource}"


@dataclass(frozen=True)
class Verdict:
    new: list[Finding]
    accepted: list[Finding]
    unused: list[Acceptance]
    passed: int

    @property
    def ok(self) -> bool:
        return not self.new


def load_baseline(path: Path) -> list[Acceptance]:
    data = tomllib.loads(path.read_text())
    entries = data.get("accept")
    if not isinstance(entries, list) or not entries:
        raise BaselineError(f"{path}: no [[accept]] entries")
    baseline = []
    for number, entry in enumerate(entries, 1):
        where = f"{path}, entry {number}"
        check = entry.get("check", "")
        if not CHECK_ID.match(check):
            raise BaselineError(f"{where}: check {check!r} is not a checkov id (CKV_AWS_123)")
        resources = entry.get("resources")
        if not resources or not all(isinstance(r, str) and ":" in r for r in resources):
            raise BaselineError(
                f"{where} ({check}): resources must list '<stack>:<Type>.<LogicalId>' globs"
            )
        reason = " ".join(str(entry.get("reason", "")).split())
        if len(reason) < MIN_REASON_LENGTH:
            raise BaselineError(f"{where} ({check}): every accepted finding needs its reason")
        unknown = set(entry) - {"check", "title", "resources", "reason"}
        if unknown:
            raise BaselineError(f"{where} ({check}): unknown keys {sorted(unknown)}")
        baseline.append(Acceptance(check, tuple(resources), reason))
    return baseline


def findings(results: dict[str, Any] | list[dict[str, Any]]) -> tuple[list[Finding], int]:
    """Failed checks and the number passed, from checkov's JSON output (one or more reports)."""
    reports = results if isinstance(results, list) else [results]
    failed, passed = [], 0
    for report in reports:
        summary = report.get("summary", {})
        if summary.get("parsing_errors"):
            raise BaselineError(f"checkov could not parse {summary['parsing_errors']} template(s)")
        passed += int(summary.get("passed", 0))
        for result in report.get("results", {}).get("failed_checks", []):
            stack = Path(result["file_path"]).name.removesuffix(".template.json")
            failed.append(
                Finding(result["check_id"], result["check_name"], stack, result["resource"])
            )
    return failed, passed


def judge(failed: Iterable[Finding], passed: int, baseline: Sequence[Acceptance]) -> Verdict:
    new, accepted, used = [], [], set()
    for finding in failed:
        match = next((a for a in baseline if a.covers(finding)), None)
        if match is None:
            new.append(finding)
        else:
            accepted.append(finding)
            used.add(match)
    return Verdict(new, accepted, [a for a in baseline if a not in used], passed)


def run_checkov(checkov: str, templates: Sequence[Path]) -> Any:
    command = [checkov, "--framework", "cloudformation", "--output", "json", "--quiet"]
    command += ["--skip-download", "--compact"]
    for template in templates:
        command += ["--file", str(template)]
    # checkov exits 1 when any check fails; the verdict is this module's to give.
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise BaselineError(f"checkov failed ({result.returncode}): {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def render(verdict: Verdict, templates: int) -> str:
    lines = [
        f"checkov: {templates} templates, {verdict.passed} passed, "
        f"{len(verdict.accepted) + len(verdict.new)} failed: {len(verdict.accepted)} accepted "
        f"by the baseline, {len(verdict.new)} new"
    ]
    for finding in verdict.new:
        lines.append(f"  NEW {finding.check} {finding.key}: {finding.name}")
    for entry in verdict.unused:
        lines.append(
            f"  note: baseline entry {entry.check} {list(entry.resources)} matches nothing "
            "now; remove it"
        )
    if verdict.new:
        lines.append("Fix each new finding, or accept it in checkov-baseline.toml with its reason.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assembly", type=Path, help="a cloud assembly (cdk synth -o DIR)")
    parser.add_argument("--checkov", default="checkov", help="the checkov executable")
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument(
        "--results", type=Path, help="judge this checkov JSON output instead of running checkov"
    )
    args = parser.parse_args(argv)
    templates = sorted(args.assembly.glob("*.template.json"))
    try:
        baseline = load_baseline(args.baseline)
        if not templates:
            raise BaselineError(f"no templates in {args.assembly}: synthesize first")
        results = (
            json.loads(args.results.read_text())
            if args.results
            else run_checkov(args.checkov, templates)
        )
        verdict = judge(*findings(results), baseline)
    except BaselineError as exc:
        print(f"checkov gate: {exc}", file=sys.stderr)
        return 2
    print(render(verdict, len(templates)))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
