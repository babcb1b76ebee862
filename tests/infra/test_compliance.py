from __future__ import annotations

import json

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_s3 as s3
from cfnlint.api import ManualArgs, lint_file

from app import add_compliance_checks

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]


def test_whole_app_has_no_unacknowledged_nag_findings(synth):
    # The plugin interrupts synthesis on any finding, so reaching here means none; the report,
    # when written, must agree.
    # CDK's own template checks may add warnings to the same report; only cdk-nag's count here.
    report = synth.outdir / "validation-report.json"
    if report.exists():
        data = json.loads(report.read_text())
        violations = [
            f"{v['ruleName']}: {[c['constructPath'] for c in v.get('violatingConstructs', [])]}"
            for plugin in data["pluginReports"]
            if plugin["pluginName"] == "AwsSolutions"
            for v in plugin.get("violations", [])
        ]
        assert violations == []


def test_compliance_gate_rejects_an_unacknowledged_finding(tmp_path):
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Probe", env=Environment(account="111111111111", region="us-east-1"))
    s3.CfnBucket(stack, "Bucket")  # no logging, no TLS policy: AwsSolutions-S1 and S10
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match=r"ValidationFailed(.|\n)*AwsSolutions-S1"):
        app.synth()


def test_cfn_lint_reports_no_errors(synth):
    errors = []
    for template in sorted(synth.outdir.glob("*.template.json")):
        region = synth.stack_regions[template.name.removesuffix(".template.json")]
        for match in lint_file(template, ManualArgs(regions=[region])):
            if match.rule.id.startswith("E"):
                errors.append(f"{template.name}: {match}")
    assert errors == []
