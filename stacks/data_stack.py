"""Data stack: the global table, in the home region only."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from cdk_constructs.core.links_table import LinksTable
from cdk_constructs.edge.invalidator import Invalidator
from cdk_constructs.identity.user_pool import SqurlUserPool
from cdk_constructs.observability.sources import FunctionSource, InvalidationSources
from shared.contracts import names
from squrl_config import EnvironmentConfig
from stacks.squrl_stack import SqurlStack


class DataStack(SqurlStack):
    """The home region's global table with a replica in every other serving region (`.table`),
    and, with the edge on, the invalidator reading its stream (`.invalidator`).

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
        # The users (docs/identity.md): one pool per environment, in the home region, its ids
        # published in SSM for every region's API.
        self.user_pool = SqurlUserPool(self, "Identity", config=config)
        self.invalidator: Invalidator | None = None
        if config.edge.enabled:
            self.invalidator = Invalidator(self, "Invalidation", config=config, table=self.table)

    def invalidation_sources(self) -> InvalidationSources | None:
        """What the home region's observability watches of the invalidator."""
        if self.invalidator is None:
            return None
        built = self.invalidator.function_construct
        return InvalidationSources(
            function=FunctionSource.of("invalidator", built.function, built.log_group),
            dead_letter_queue_name=names.invalidation_dead_letter_queue_name(self.config.name),
        )
