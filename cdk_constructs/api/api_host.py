"""`api.<short domain>` in one region: clients use one API host name, Route 53 picks the region.

Every serving region's API stack adds its own custom domain name, certificate, health check and
latency record under the same name; Route 53 answers each client with the lowest-latency region
whose health check passes, and leaves a failing region out until it passes again.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from cdk_constructs.api.links_api import LinksApi
from shared.contracts.http import HEALTH_PATH

# Route 53's standard interval and threshold: a region leaves the answers after about 90 s of
# failed checks from most checkers, and comes back after the same.
HEALTH_CHECK_INTERVAL = Duration.seconds(30)
HEALTH_CHECK_FAILURES = 3


class RegionalApiHost(Construct):
    """This region's share of the API host: a regional certificate (DNS-validated in the zone),
    an API Gateway custom domain name mapped to the stage, a health check on the stage's
    `/health`, and a latency record with that health check.

    Exposes `.domain_name`, `.certificate` and `.health_check`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        host: str,
        hosted_zone_id: str,
        links_api: LinksApi,
    ) -> None:
        super().__init__(scope, construct_id)
        region = Stack.of(self).region
        zone = route53.HostedZone.from_hosted_zone_id(self, "Zone", hosted_zone_id)
        self.certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=host,
            validation=acm.CertificateValidation.from_dns(zone),
        )
        self.domain_name = apigw.DomainName(
            self,
            "DomainName",
            domain_name=host,
            certificate=self.certificate,
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
        )
        # The whole host maps to the stage: https://api.<domain>/urls is the stage's /urls.
        rest_api = links_api.rest_api
        self.domain_name.add_base_path_mapping(rest_api, stage=rest_api.deployment_stage)
        # The stage's own host, not the custom name: the name resolves to whichever region is
        # nearest the checker, and the check must judge this region alone.
        self.health_check = route53.HealthCheck(
            self,
            "Health",
            type=route53.HealthCheckType.HTTPS,
            fqdn=links_api.host,
            port=443,
            resource_path=f"/{links_api.stage_name}{HEALTH_PATH}",
            enable_sni=True,
            request_interval=HEALTH_CHECK_INTERVAL,
            failure_threshold=HEALTH_CHECK_FAILURES,
        )
        route53.ARecord(
            self,
            "Latency",
            zone=zone,
            # A trailing dot makes the name absolute, so the zone's own name is never needed.
            record_name=f"{host}.",
            target=route53.RecordTarget.from_alias(targets.ApiGatewayDomain(self.domain_name)),
            region=region,
            set_identifier=region,
            health_check=self.health_check,
        )
