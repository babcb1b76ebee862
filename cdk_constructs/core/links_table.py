"""The global links table of docs/api.md section 5, built from shared/contracts/table.py."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from shared.contracts import table as table_def

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _key(attribute: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(
        name=attribute, type=_ATTRIBUTE_TYPES[table_def.KEY_ATTRIBUTES[attribute]]
    )


class LinksTable(Construct):
    """TableV2 in the home region with a replica in every other serving region.

    Every replica gets point-in-time recovery and deletion protection: a replica is a full copy
    that a regional outage may promote to the only one serving.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table_name: str,
        replica_regions: list[str],
        retain: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        pitr = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            table_name=table_name,
            partition_key=_key(table_def.PARTITION_KEY),
            billing=dynamodb.Billing.on_demand(),
            dynamo_stream=dynamodb.StreamViewType[table_def.STREAM_VIEW_TYPE],
            time_to_live_attribute=table_def.TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            deletion_protection=True,
            point_in_time_recovery_specification=pitr,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=table_def.DEDUP_INDEX,
                    partition_key=_key(table_def.DEDUP_INDEX_PARTITION_KEY),
                    sort_key=_key(table_def.DEDUP_INDEX_SORT_KEY),
                    projection_type=dynamodb.ProjectionType.INCLUDE,
                    non_key_attributes=list(table_def.DEDUP_INDEX_PROJECTION),
                ),
                # `GET /urls`: every link of an owner, newest first, a page per Query.
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=table_def.OWNER_INDEX,
                    partition_key=_key(table_def.OWNER_INDEX_PARTITION_KEY),
                    sort_key=_key(table_def.OWNER_INDEX_SORT_KEY),
                    projection_type=dynamodb.ProjectionType.ALL,
                ),
            ],
            replicas=[
                dynamodb.ReplicaTableProps(
                    region=region,
                    deletion_protection=True,
                    point_in_time_recovery_specification=pitr,
                )
                for region in replica_regions
            ],
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )


def replica_arn(scope: Construct, table_name: str, region: str) -> str:
    """ARN of the table's replica in `region`, as a literal: no cross-region reference needed."""
    return Stack.of(scope).format_arn(
        service="dynamodb", region=region, resource="table", resource_name=table_name
    )


def read_statement(scope: Construct, table_name: str, region: str) -> iam.PolicyStatement:
    """GetItem on one replica, nothing wider: the redirect reads one item by key
    (shared/redirect/answer.py), never an index."""
    return iam.PolicyStatement(
        actions=["dynamodb:GetItem"], resources=[replica_arn(scope, table_name, region)]
    )


def owner_read_statements(
    scope: Construct, table_name: str, region: str
) -> list[iam.PolicyStatement]:
    """get_url's reads on one replica: a link or its stats by key, a link's history by
    BatchGetItem, and an owner's links by Query of the owner index (never a Scan)."""
    arn = replica_arn(scope, table_name, region)
    return [
        iam.PolicyStatement(actions=["dynamodb:GetItem", "dynamodb:BatchGetItem"], resources=[arn]),
        iam.PolicyStatement(
            actions=["dynamodb:Query"], resources=[f"{arn}/index/{table_def.OWNER_INDEX}"]
        ),
    ]


def change_statements(
    scope: Construct, table_name: str, home_region: str
) -> list[iam.PolicyStatement]:
    """update_url's writes on the home-region table: read the link, then one TransactWriteItems
    of UpdateItem (the link or its tombstone), PutItem (the history entry) and DeleteItem (the
    stats of a deleted link). TransactWriteItems is authorized per contained action."""
    arn = replica_arn(scope, table_name, home_region)
    return [
        iam.PolicyStatement(
            actions=[
                "dynamodb:GetItem",
                "dynamodb:UpdateItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
            ],
            resources=[arn],
        ),
    ]


def write_statements(
    scope: Construct, table_name: str, home_region: str
) -> list[iam.PolicyStatement]:
    """create_url's writes on the home-region table: PutItem and GetItem (the conditional create
    of a link and its first history entry in one TransactWriteItems, then a consistent read of
    what deduplication found), Query on the deduplication index only, and UpdateItem and
    DeleteItem only on idempotency records (`dynamodb:LeadingKeys`), which Powertools' persistence
    layer completes or removes: create never changes or deletes a link."""
    arn = replica_arn(scope, table_name, home_region)
    return [
        iam.PolicyStatement(actions=["dynamodb:GetItem", "dynamodb:PutItem"], resources=[arn]),
        iam.PolicyStatement(
            actions=["dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            resources=[arn],
            conditions={
                "ForAllValues:StringLike": {
                    "dynamodb:LeadingKeys": [f"{table_def.IDEMPOTENCY_PREFIX}#*"]
                }
            },
        ),
        iam.PolicyStatement(
            actions=["dynamodb:Query"], resources=[f"{arn}/index/{table_def.DEDUP_INDEX}"]
        ),
    ]
