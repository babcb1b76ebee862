"""Data stack: the global table, in the home region only."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from cdk_constructs.core.links_table import LinksTable
from shared.contracts import names
from squrl_config import EnvironmentConfig
from stacks.squrl_stack import SqurlStack


class DataStack(SqurlStack):
    """The home region's global table with a replica in every other serving region (`.table`).

    It exports nothing: the other stacks name the table and its replicas by their fixed name, so
    adding or removing a serving region, or switching DAX (which lives in each region's API
    stack), never meets an export that another stack still imports.
    """

    ROLE = "data"

    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        region = config.home_region
        super().__init__(
            scope,
            config=config,
            region=region,
            description=f"data in {region}",
            termination_protection=config.retain_data,
        )
        self.table_name = names.table_name(config.name)
        self.table: dynamodb.TableV2 = LinksTable(
            self,
            "Links",
            table_name=self.table_name,
            replica_regions=config.replica_regions,
            retain=config.retain_data,
        ).table
