"""squrl's configuration: typed environments (`models`) read from the CDK context (`context`).

The layer under the constructs: app.py, stacks/ and cdk_constructs/ import it, and it imports
nothing of theirs (pydantic and shared.contracts only), so tests and tools can read cdk.json
without loading the CDK.
"""

from squrl_config.context import (
    CONTEXT_KEY,
    ENV_SELECTOR_KEY,
    ConfigError,
    load_config,
    select_environments,
)
from squrl_config.models import (
    LOG_RETENTION_DAYS,
    PRICE_CLASSES,
    RESERVABLE_FUNCTIONS,
    UNRESERVED_CONCURRENCY_MINIMUM,
    AnalyticsConfig,
    ApiConfig,
    ConcurrencyConfig,
    DaxConfig,
    DeployConfig,
    DomainConfig,
    EdgeConfig,
    EnvironmentConfig,
    FederationProvider,
    FunctionsConfig,
    FunctionSettings,
    IdentityConfig,
    ImportsConfig,
    ObservabilityConfig,
    PriceClass,
    SesEmail,
    SqurlConfig,
    WafConfig,
    WorkerFunctionSettings,
    minimum_price_class,
)

__all__ = [
    "CONTEXT_KEY",
    "ENV_SELECTOR_KEY",
    "LOG_RETENTION_DAYS",
    "PRICE_CLASSES",
    "RESERVABLE_FUNCTIONS",
    "UNRESERVED_CONCURRENCY_MINIMUM",
    "AnalyticsConfig",
    "ApiConfig",
    "ConcurrencyConfig",
    "ConfigError",
    "DaxConfig",
    "DeployConfig",
    "DomainConfig",
    "EdgeConfig",
    "EnvironmentConfig",
    "FederationProvider",
    "FunctionSettings",
    "FunctionsConfig",
    "IdentityConfig",
    "ImportsConfig",
    "ObservabilityConfig",
    "PriceClass",
    "SesEmail",
    "SqurlConfig",
    "WafConfig",
    "WorkerFunctionSettings",
    "load_config",
    "minimum_price_class",
    "select_environments",
]
