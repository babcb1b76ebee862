"""Data stack: the global table (home region) and, when enabled, the region's DAX cache."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from cdk_constructs.core.dax_cache import DaxCache, zones_of
from cdk_constructs.core.links_table import LinksTable
from shared.contracts import names
from squrl_config import EnvironmentConfig
from stacks.squrl_stack import SqurlStack


class DataStack(SqurlStack):
    """One per region that holds data resources.

    `.table` is the global table in the home region's stack and None elsewhere (replicas are
    part of the home region's table resource). `.dax` is the region's cache or None.
    """

    ROLE = "data"

    def __init__(self, scope: Construct, *, config: EnvironmentConfig, region: str) -> None:
        super().__init__(
            scope,
            config=config,
            region=region,
            description=f"data in {region}",
            termination_protection=config.retain_data,
        )
        self.table_name = names.table_name(config.name)
        self.table: dynamodb.TableV2 | None = None
        self.dax: DaxCache | None = None
        if region == config.home_region:
            self.table = LinksTable(
                self,
                "Links",
                table_name=self.table_name,
                replica_regions=config.replica_regions,
                retain=config.retain_data,
            ).table
        if config.dax.enabled:
            self.dax = DaxCache(
                self,
                "Cache",
                env_name=config.name,
                settings=config.dax,
                table_name=self.table_name,
                region=region,
                log_retention_days=config.log_retention_days,
                retain=config.retain_data,
            )

    @property
    def availability_zones(self) -> list[str]:
        # Overrides the credentialed lookup so that synth stays offline.
        return zones_of(self.region)

    @staticmethod
    def needed(config: EnvironmentConfig, region: str) -> bool:
        """Whether `region` has data resources; CloudFormation rejects an empty stack."""
        return region == config.home_region or config.dax.enabled
