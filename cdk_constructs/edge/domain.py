"""The short domain at the edge: CloudFront's certificate and, with a hosted zone, its records."""

from __future__ import annotations

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct


class ShortDomain(Construct):
    """The distribution's certificate for `domain` (the stack must be in us-east-1, where
    CloudFront reads certificates) and, given the Route 53 zone holding the domain, the alias
    records that point it at the distribution (`serve`).

    Exposes `.certificate` and `.zone` (None without a zone: the operator publishes the records
    that `records_to_publish` names, docs/deploy.md).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: str,
        hosted_zone_id: str | None,
        certificate_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain = domain
        self.zone: route53.IHostedZone | None = (
            route53.HostedZone.from_hosted_zone_id(self, "Zone", hosted_zone_id)
            if hosted_zone_id
            else None
        )
        self.certificate: acm.ICertificate
        if certificate_arn:
            self.certificate = acm.Certificate.from_certificate_arn(
                self, "Certificate", certificate_arn
            )
        else:
            # DNS validation. With the zone, CloudFormation writes the validation CNAME itself;
            # without it the deploy waits until the operator publishes the CNAME that the
            # stack's events and ACM show (docs/deploy.md). The record stays for renewals.
            self.certificate = acm.Certificate(
                self,
                "Certificate",
                domain_name=domain,
                validation=acm.CertificateValidation.from_dns(self.zone),
            )

    def serve(self, distribution: cloudfront.IDistribution) -> None:
        """Point the domain at the distribution: alias A and AAAA records (IPv6 is on)."""
        if self.zone is None:
            return
        target = route53.RecordTarget.from_alias(targets.CloudFrontTarget(distribution))
        # A trailing dot makes the name absolute, so the zone's own name is never needed.
        name = f"{self.domain}."
        route53.ARecord(self, "AliasA", zone=self.zone, record_name=name, target=target)
        route53.AaaaRecord(self, "AliasAAAA", zone=self.zone, record_name=name, target=target)

    def records_to_publish(self, distribution: cloudfront.IDistribution) -> str:
        """The record the operator creates when squrl has no zone to write it in."""
        return (
            f"{self.domain}. CNAME {distribution.distribution_domain_name}. "
            "(at a zone apex: an ALIAS/ANAME record to the same name)"
        )
