"""Acknowledging cdk-nag findings beside the resource they excuse.

cdk-nag 3 reports through CDK's validation plugins and reads acknowledgments from
`Validations.of(construct)`; a finding with a detail (IAM4/IAM5) is acknowledged as
`RuleId[Detail]`, one at a time, so an acknowledgment can never hide a finding it did not name.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
