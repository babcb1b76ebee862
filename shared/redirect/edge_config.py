"""The edge redirect's configuration: written into its bundle at synth, read from it at init.

Lambda@Edge functions have no environment variables, so the CDK edge construct renders this
configuration as a Python module, `functions/edge_redirect/bundle_config.py`, inside the asset
(never in the repository). Locally, where that module does not exist, the same values come from
the environment the local server and the tests set:

    SQURL_TABLE_NAME        table name (default squrl-urls-{SQURL_ENV})
    SQURL_HOME_REGION       home region (default AWS_REGION)
    SQURL_SERVING_REGIONS   comma-separated serving regions (default: the home region)

Standard library only: it runs in the edge function's init.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.contracts import names

BUNDLE_MODULE = "functions.edge_redirect.bundle_config"
BUNDLE_PATH = "functions/edge_redirect/bundle_config.py"


class EdgeConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class EdgeBundleConfig:
    table_name: str
    home_region: str
    serving_regions: tuple[str, ...]
    # Region a copy of the function runs in -> serving region whose replica it reads.
    nearest_replica: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.table_name:
            raise EdgeConfigurationError("the edge configuration has no table name")
        if self.home_region not in self.serving_regions:
            raise EdgeConfigurationError(
                f"home region {self.home_region!r} is not among {self.serving_regions}"
            )
        stray = sorted(set(self.nearest_replica.values()) - set(self.serving_regions))
        if stray:
            raise EdgeConfigurationError(f"the replica map names non-serving regions {stray}")

    def replica_region(self, running_in: str | None) -> str:
        """The serving region whose replica a copy running in `running_in` reads.

        A region missing from the map (one AWS opened after the last synth) reads the home
        region, which always holds the table, rather than failing.
        """
        if running_in in self.serving_regions:
            return running_in
        if running_in and running_in in self.nearest_replica:
            return self.nearest_replica[running_in]
        return self.home_region


def render_module(config: EdgeBundleConfig) -> str:
    """The bundle's configuration module. Values are written with repr, so they stay literals."""
    pairs = sorted(config.nearest_replica.items())
    mapping = "".join(f"    {region!r}: {replica!r},\n" for region, replica in pairs)
    return (
        '"""Edge redirect configuration, written into the bundle at synth."""\n'
        "\n"
        f"TABLE_NAME = {config.table_name!r}\n"
        f"HOME_REGION = {config.home_region!r}\n"
        f"SERVING_REGIONS = {tuple(config.serving_regions)!r}\n"
        f"NEAREST_REPLICA = {{\n{mapping}}}\n"
    )


def from_environment(environ: Mapping[str, str] | None = None) -> EdgeBundleConfig:
    env = os.environ if environ is None else environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    home = env.get("SQURL_HOME_REGION") or region
    serving = tuple(
        r.strip() for r in env.get("SQURL_SERVING_REGIONS", "").split(",") if r.strip()
    ) or (home,)
    table = env.get("SQURL_TABLE_NAME") or names.table_name(env.get("SQURL_ENV", "dev"))
    # Locally every region reads the nearest serving region by the same rule as at synth.
    from shared.redirect.edge_regions import REGION_LOCATIONS, nearest_replica_map

    mapping = nearest_replica_map(serving) if all(r in REGION_LOCATIONS for r in serving) else {}
    return EdgeBundleConfig(table, home, serving, mapping)


def load() -> EdgeBundleConfig:
    """The bundle's configuration when deployed, else the environment's (local runs, tests)."""
    import importlib

    try:
        module = importlib.import_module(BUNDLE_MODULE)
    except ModuleNotFoundError as missing:
        if missing.name != BUNDLE_MODULE:
            raise
        return from_environment()
    return EdgeBundleConfig(
        table_name=module.TABLE_NAME,
        home_region=module.HOME_REGION,
        serving_regions=tuple(module.SERVING_REGIONS),
        nearest_replica=dict(module.NEAREST_REPLICA),
    )
