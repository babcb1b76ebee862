"""A DAX cluster in front of one region's replica, for the regional redirect path."""

from __future__ import annotations

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_dax as dax
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.core.links_table import replica_arn
from cdk_constructs.core.log_retention import log_retention
from squrl_config import DaxConfig

DAX_TLS_PORT = 9111
ZONE_COUNT = 3


def cache_zones() -> list[str]:
    """The region's first three zones, as CloudFormation resolves them at deploy time.

    `Fn::GetAZs` names the zones of the deploying account (zone letters map to different
    physical zones in each account, and not every account has every letter), and needs no AWS
    credentials at synth. A stack holding a DaxCache returns these from its
    `availability_zones`, which the VPC takes its zones from."""
    return [Fn.select(index, Fn.get_azs()) for index in range(ZONE_COUNT)]


class DaxCache(Construct):
    """VPC (isolated subnets, no NAT), DAX cluster with TLS and encryption at rest.

    Everything here is deleted with its stack: the cluster is a cache, rebuilt from the table on
    its first misses, and keeping it alone would leave a billing cluster without its role,
    subnets or security group. The cluster has no fixed name, so changing its node type
    (a replacement) creates the new cluster before deleting the old one. It lives in the stack of
    the functions that use it, so that turning DAX on or off, or changing the node type, is one
    stack update with no cross-stack export in the way (docs/deploy.md, DAX).

    Exposes `.vpc`, `.client_security_group` (give it to functions that talk to DAX; the cluster
    admits only that group) and `.endpoint` (the daxs:// discovery URL).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        settings: DaxConfig,
        table_name: str,
        region: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        # No NAT: everything the redirect calls inside the VPC is reached through endpoints,
        # which keeps the VPC's standing cost near zero and gives the functions no internet path.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=ZONE_COUNT,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                )
            },
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=log_retention(log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )

        self.client_security_group = ec2.SecurityGroup(
            self,
            "ClientSecurityGroup",
            vpc=self.vpc,
            description="Functions allowed to reach the DAX cluster",
            allow_all_outbound=True,
        )
        # Lambda's tracing daemon sends segments over the function's network interface, and
        # the VPC has no internet path; the endpoint admits only the functions' group.
        endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from squrl functions only",
            allow_all_outbound=False,
        )
        endpoint_security_group.add_ingress_rule(
            self.client_security_group, ec2.Port.tcp(443), "AWS APIs over HTTPS"
        )
        self.vpc.add_interface_endpoint(
            "XRay",
            service=ec2.InterfaceVpcEndpointAwsService.XRAY,
            private_dns_enabled=True,
            open=False,
            security_groups=[endpoint_security_group],
        )
        self.cluster_security_group = ec2.SecurityGroup(
            self,
            "ClusterSecurityGroup",
            vpc=self.vpc,
            description="DAX cluster: TLS from squrl functions only",
            allow_all_outbound=False,
        )
        self.cluster_security_group.add_ingress_rule(
            self.client_security_group, ec2.Port.tcp(DAX_TLS_PORT), "DAX over TLS"
        )

        # DAX performs the clients' calls on the table with this role, and learns the table's
        # key schema with DescribeTable. The redirect only ever calls GetItem through DAX, so
        # that is all the role may do: no Query, no batch reads, no index.
        role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("dax.amazonaws.com"),
            description="DAX reads the local replica on behalf of the redirect",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:DescribeTable", "dynamodb:GetItem"],
                resources=[replica_arn(self, table_name, region)],
            )
        )
        subnet_group = dax.CfnSubnetGroup(
            self,
            "SubnetGroup",
            subnet_ids=[s.subnet_id for s in self.vpc.isolated_subnets],
            description="squrl DAX subnets",
        )
        # Writes go to the home region's table, never through this cluster, so DAX cannot
        # invalidate what it holds: an item, or a miss (a 404 for a link created since), stays
        # until its TTL runs out. DAX's default is 5 minutes; squrl's is 10 s (docs/deploy.md).
        self.parameter_group = dax.CfnParameterGroup(
            self,
            "ParameterGroup",
            description=f"squrl {env_name} redirect cache TTLs",
            parameter_name_values={
                "record-ttl-millis": str(settings.record_ttl_millis),
                "query-ttl-millis": str(settings.query_ttl_millis),
            },
        )
        self.cluster = dax.CfnCluster(
            self,
            "Cluster",
            iam_role_arn=role.role_arn,
            node_type=settings.node_type,
            replication_factor=settings.replication_factor,
            subnet_group_name=subnet_group.ref,
            parameter_group_name=self.parameter_group.ref,
            security_group_ids=[self.cluster_security_group.security_group_id],
            sse_specification=dax.CfnCluster.SSESpecificationProperty(sse_enabled=True),
            cluster_endpoint_encryption_type="TLS",
            description=f"squrl {env_name} redirect read cache",
        )
        self.cluster.apply_removal_policy(RemovalPolicy.DESTROY)
        self.endpoint = self.cluster.attr_cluster_discovery_endpoint_url
        self.cluster_arn = self.cluster.attr_arn
