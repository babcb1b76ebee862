"""Typed configuration of squrl's environments (the `squrl` key of cdk.json's context).

Environments differ only in these values. Every field has a deliberate default or is required;
unknown keys are rejected so that a typo in cdk.json fails synth instead of being ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from shared.contracts import codes

Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]
Hostname = Annotated[
    str,
    StringConstraints(
        to_lower=True,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]
EnvName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,15}$")]

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FunctionSettings(_Strict):
    # 512 MB by default: Lambda allots CPU in proportion to memory, and importing boto3,
    # pydantic and Powertools at 256 MB roughly doubles cold starts (docs/deploy.md).
    memory_mb: int = Field(512, ge=128, le=10240)
    timeout_seconds: int = Field(ge=1, le=29)


class FunctionsConfig(_Strict):
    # Timeouts follow docs/api.md section 11 (create 10 s, redirect 5 s); a single-item read needs
    # no more than the redirect. All stay under API Gateway's 29 s integration limit.
    create_url: FunctionSettings = FunctionSettings(timeout_seconds=10)
    redirect: FunctionSettings = FunctionSettings(timeout_seconds=5)
    get_url: FunctionSettings = FunctionSettings(timeout_seconds=5)
    # PATCH and DELETE /urls/{code}: one read and one transaction in the home region.
    update_url: FunctionSettings = FunctionSettings(timeout_seconds=10)
    # /tokens and /me: DELETE /me and the export walk every link of an owner.
    identity: FunctionSettings = FunctionSettings(timeout_seconds=29)
    # Runs before every authenticated request: one GetItem or a cached JWKS check.
    authorizer: FunctionSettings = FunctionSettings(timeout_seconds=5)
    # POST /imports and GET /imports/{id}: one item and a pre-signed URL (docs/imports.md).
    imports: FunctionSettings = FunctionSettings(timeout_seconds=10)


class WorkerFunctionSettings(FunctionSettings):
    """A function no API request waits for (a Step Functions task): up to Lambda's 15 minutes."""

    timeout_seconds: int = Field(300, ge=60, le=900)


class ImportsConfig(_Strict):
    """Import jobs (docs/imports.md): the upload bucket, its URLs and the chunked worker."""

    # Rows per chunk task: 100,000 rows are 100 tasks, far below Step Functions' 25,000-event
    # history limit (about 7 events per chunk). A chunk also stops early, committing what it
    # did, 30 s before the worker's timeout.
    chunk_rows: int = Field(1000, ge=10, le=10000)
    max_upload_mb: int = Field(100, ge=1, le=5000)
    # Uploaded files (and unfinished multipart uploads, after a day) are deleted after this.
    upload_retention_days: int = Field(7, ge=1, le=365)
    # How long a pre-signed upload URL stays valid.
    url_seconds: int = Field(3600, ge=60, le=604800)
    worker: WorkerFunctionSettings = WorkerFunctionSettings(memory_mb=1024)


# Lambda keeps this much of each region's account concurrency unreserved; reservations can only
# take what is above it. New accounts start with a concurrency limit of 10, where no function can
# reserve anything until the quota is raised.
UNRESERVED_CONCURRENCY_MINIMUM = 100
# The functions built with the shared construct, which take a reservation. Lambda@Edge cannot.
RESERVABLE_FUNCTIONS = ("create_url", "get_url", "redirect", "click_consumer", "click_lake")


class ConcurrencyConfig(_Strict):
    """Reserved concurrency per function (docs/deploy.md, Reserved concurrency).

    Lambda@Edge replicas run in the account's regional pool too, and a redirect flood at the edge
    can take all of it; a reservation keeps that many executions for the function (and caps it
    there). `account_limit` is the account's "Concurrent executions" quota in each region the
    environment uses (Service Quotas, L-B99A9384): synth refuses reservations it cannot hold.
    """

    account_limit: int = Field(1000, ge=1)
    reserved: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)

    @field_validator("reserved")
    @classmethod
    def _known_functions(cls, reserved: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(reserved) - set(RESERVABLE_FUNCTIONS))
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: not a function that takes a reservation; one of "
                f"{', '.join(RESERVABLE_FUNCTIONS)} (Lambda@Edge cannot reserve concurrency)"
            )
        return reserved

    @model_validator(mode="after")
    def _fits_the_account(self) -> ConcurrencyConfig:
        # Every reservation can land in one region: the home region runs every function.
        total = sum(self.reserved.values())
        reservable = self.account_limit - UNRESERVED_CONCURRENCY_MINIMUM
        if total > max(reservable, 0):
            raise ValueError(
                f"concurrency.reserved totals {total}, but an account limit of "
                f"{self.account_limit} leaves {max(reservable, 0)} to reserve (Lambda keeps "
                f"{UNRESERVED_CONCURRENCY_MINIMUM} unreserved). New accounts start at 10, where "
                "nothing can be reserved: raise the quota (Service Quotas, L-B99A9384) and set "
                "concurrency.account_limit to it, or remove the reservations"
            )
        return self


# The functions whose cold starts cdk.json may warm (`cold_starts`): the regional API functions
# built with the shared construct. Lambda@Edge supports neither SnapStart nor provisioned
# concurrency.
WARMABLE_FUNCTIONS = ("create_url", "get_url", "update_url", "redirect")
# The redirect reads the table with squrl's standard-library client, which takes its credentials
# from the environment's key variables; a SnapStart function gets container credentials
# instead, so SnapStart would leave the redirect without credentials (docs/cost.md).
NO_SNAPSTART_FUNCTIONS = ("redirect",)


class ColdStart(_Strict):
    """One function's cold-start switches (docs/cost.md, "Cold starts").

    Either switch publishes a version on every deploy and points an alias, `live`, at it; the
    API's integrations then invoke the alias. Lambda refuses SnapStart with provisioned
    concurrency on one function, so at most one is on.
    """

    # Lambda SnapStart (Python 3.12+): init runs once when the version is published, and new
    # execution environments resume from its snapshot.
    snapstart: bool = False
    # Execution environments kept initialized on the alias, in every region the function runs.
    provisioned_concurrency: int = Field(0, ge=0, le=1000)

    @model_validator(mode="after")
    def _one_of_the_two(self) -> ColdStart:
        if self.snapstart and self.provisioned_concurrency:
            raise ValueError(
                "snapstart and provisioned_concurrency cannot both be on for one function "
                "(Lambda refuses the pair); choose one"
            )
        return self

    @property
    def published(self) -> bool:
        """Whether the function is invoked through a published version and its alias."""
        return self.snapstart or self.provisioned_concurrency > 0


class ApiConfig(_Strict):
    # Usage plan applied to the environment's API key.
    throttle_rate_limit: float = Field(50, gt=0)
    throttle_burst_limit: int = Field(100, ge=1)
    quota_limit: int = Field(10_000, ge=1)
    quota_period: Literal["DAY", "WEEK", "MONTH"] = "DAY"
    # Stage-wide ceiling that also covers the public redirect route, which has no API key.
    stage_throttle_rate_limit: float = Field(1000, gt=0)
    stage_throttle_burst_limit: int = Field(2000, ge=1)
    cors_allowed_origins: list[str] = Field(default_factory=list)

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"{origin!r} is not '*' or a scheme://host[:port] origin")
        return origins


class FederationProvider(_Strict):
    """A SAML or OIDC identity provider of the user pool (docs/identity.md, "Federation")."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{3,32}$")
    type: Literal["SAML", "OIDC"]
    # SAML: the IdP's metadata document URL.
    metadata_url: str | None = Field(None, pattern=r"^https://")
    # OIDC: the issuer and the client squrl is registered as; the client secret is read from
    # Secrets Manager at deploy time, never written into cdk.json.
    issuer: str | None = Field(None, pattern=r"^https://")
    client_id: str | None = None
    client_secret_name: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> FederationProvider:
        if self.type == "SAML" and not self.metadata_url:
            raise ValueError(f"SAML provider {self.name!r} needs metadata_url")
        if self.type == "OIDC" and not (self.issuer and self.client_id and self.client_secret_name):
            raise ValueError(
                f"OIDC provider {self.name!r} needs issuer, client_id and client_secret_name"
            )
        return self


class SesEmail(_Strict):
    """Cognito's emails through SES (docs/identity.md): a verified from address or domain of
    the SES identity, in the home region (or one Cognito may use from it)."""

    from_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    from_name: str | None = None
    reply_to: str | None = None
    # The verified SES identity's domain when from_email's domain is not the identity itself.
    ses_verified_domain: str | None = None
    # The SES region, when not the home region.
    ses_region: str | None = None


class IdentityConfig(_Strict):
    """The Cognito user pool (home region) and the authorizer (docs/identity.md)."""

    # The hosted UI's domain prefix (`<prefix>.auth.<region>.amazoncognito.com`); by default
    # `squrl-<env>-<account>`, unique per account.
    domain_prefix: str | None = Field(None, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
    # Where the hosted UI may send the browser back to (the web app) and the CLI's loopback.
    web_callback_urls: list[str] = Field(
        default_factory=lambda: ["http://localhost:8080/app/", "http://127.0.0.1:8080/app/"]
    )
    cli_callback_urls: list[str] = Field(default_factory=lambda: ["http://localhost:8765/callback"])
    mfa: Literal["OFF", "OPTIONAL", "REQUIRED"] = "OPTIONAL"
    # Cognito threat protection (the Plus feature plan, billed per user): OFF, AUDIT or ENFORCED.
    advanced_security: Literal["OFF", "AUDIT", "ENFORCED"] = "OFF"
    # How long the authorizer trusts a looked-up token: a revoked token is refused within this.
    token_cache_seconds: int = Field(60, ge=0, le=300)
    federation: list[FederationProvider] = Field(default_factory=list)
    # Migration: API key id -> user id (Cognito `sub`). A caller with a listed key acts as that
    # user, so links created under the key id before section 8 can be claimed by the user.
    key_owners: dict[str, str] = Field(default_factory=dict)
    # Adopt an existing user pool (e.g. one a teardown kept, with its users) instead of making
    # one: its id (`<region>_<id>`, the data stack's UserPoolId output). Clients, domain and the
    # admin group are made in it; its own settings (MFA, threat protection, email) stay as
    # they are (docs/identity.md, "Keeping users").
    user_pool_id: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d_[0-9a-zA-Z]+$")
    # Cognito's own sender allows about 50 emails a day; this sends them through SES.
    ses_email: SesEmail | None = None


class WafConfig(_Strict):
    enabled: bool = True
    # Requests per client IP per 5-minute window before the rate rule answers 429.
    rate_limit: int = Field(2000, ge=10, le=2_000_000_000)
    # The regional ACL's limit per CloudFront address for redirects on the fallback path, where
    # many viewers share one address (docs/deploy.md); 50,000 per 5 minutes is about 170/s.
    edge_fallback_rate_limit: int = Field(50_000, ge=10, le=2_000_000_000)
    managed_rules: bool = True

    @model_validator(mode="after")
    def _fallback_limit_is_the_higher(self) -> WafConfig:
        if self.edge_fallback_rate_limit < self.rate_limit:
            raise ValueError(
                "waf.edge_fallback_rate_limit must be at least waf.rate_limit: one CloudFront "
                "address carries many viewers"
            )
        return self


class DaxConfig(_Strict):
    enabled: bool = False
    node_type: str = Field("dax.t3.small", pattern=r"^dax\.[a-z0-9]+\.[a-z0-9]+$")
    replication_factor: int = Field(3, ge=1, le=10)
    # How long DAX keeps an item (or a miss) and a query result. Writes go to the home region's
    # table, never through DAX, so this bounds how long a regional redirect can answer from an
    # old copy (docs/deploy.md). 0 (DAX's "forever") and more than DAX's default, 5 minutes,
    # are refused.
    record_ttl_millis: int = Field(10_000, ge=1, le=300_000)
    query_ttl_millis: int = Field(10_000, ge=1, le=300_000)


class AnalyticsConfig(_Strict):
    enabled: bool = False
    stream_shards: int = Field(1, ge=1)
    raw_retention_days: int = Field(365, ge=1)


PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
PRICE_CLASSES: tuple[PriceClass, ...] = ("PriceClass_100", "PriceClass_200", "PriceClass_All")

# The smallest CloudFront price class whose edge locations cover a region's part of the world
# (CloudFront Developer Guide, "Choose the price class for a CloudFront distribution"):
# 100 = North America and Europe with Israel; 200 adds Japan, India, the rest of Asia, the Middle
# East, South Africa and Kenya; only All has South America, Australia and New Zealand.
_PRICE_CLASS_BY_REGION: dict[str, PriceClass] = {
    "ap-southeast-1": "PriceClass_200",  # Singapore
    "ap-southeast-2": "PriceClass_All",  # Sydney
    "ap-southeast-3": "PriceClass_200",  # Jakarta
    "ap-southeast-4": "PriceClass_All",  # Melbourne
    "ap-southeast-5": "PriceClass_200",  # Malaysia
    "ap-southeast-6": "PriceClass_All",  # New Zealand
    "ap-southeast-7": "PriceClass_200",  # Thailand
}
_PRICE_CLASS_BY_PREFIX: dict[str, PriceClass] = {
    "us-": "PriceClass_100",
    "ca-": "PriceClass_100",
    "mx-": "PriceClass_100",
    "eu-": "PriceClass_100",
    "il-": "PriceClass_100",
    "ap-northeast-": "PriceClass_200",  # Tokyo, Seoul, Osaka
    "ap-east-": "PriceClass_200",  # Hong Kong, Taipei
    "ap-south-": "PriceClass_200",  # India
    "me-": "PriceClass_200",
    "af-": "PriceClass_200",
    "sa-": "PriceClass_All",
}


def minimum_price_class(region: str) -> PriceClass:
    """The cheapest price class with edge locations near `region`; All when the region is not
    in the table (a new region is better served everywhere than refused edges)."""
    if region in _PRICE_CLASS_BY_REGION:
        return _PRICE_CLASS_BY_REGION[region]
    for prefix, price_class in _PRICE_CLASS_BY_PREFIX.items():
        if region.startswith(prefix):
            return price_class
    return "PriceClass_All"


class EdgeConfig(_Strict):
    enabled: bool = False
    certificate_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:")
    # Must cover every serving region's part of the world (EnvironmentConfig checks it).
    price_class: PriceClass = "PriceClass_100"
    # false detaches the Lambda@Edge function, so CloudFront sends every miss to the regional
    # APIs (origin group): the runbook switch for a faulty edge deploy (docs/edge.md).
    redirect_at_edge: bool = True
    # Real-time logs (the edge's click records): one record per request, cache hits included,
    # into a us-east-1 stream. A provisioned shard takes 1,000 records a second, so provisioned
    # (`realtime_log_shards` shards) suits environments with a known ceiling; on_demand scales
    # with traffic and has no shard count. The percentage of requests logged (100: every click
    # counts).
    realtime_log_stream_mode: Literal["provisioned", "on_demand"] = "provisioned"
    realtime_log_shards: int = Field(1, ge=1)
    realtime_log_sampling_percent: int = Field(100, ge=1, le=100)
    # Paths one CloudFront invalidation lists before it becomes `/*` (docs/edge.md, "Freshness
    # after a change"): CloudFront allows 3,000 paths in progress per distribution.
    invalidation_max_paths: int = Field(100, ge=1, le=1000)

    @model_validator(mode="after")
    def _shards_only_when_provisioned(self) -> EdgeConfig:
        if self.realtime_log_stream_mode == "on_demand" and (
            "realtime_log_shards" in self.model_fields_set
        ):
            raise ValueError(
                "realtime_log_shards applies only to realtime_log_stream_mode 'provisioned'; "
                "an on_demand stream sizes itself, so remove realtime_log_shards"
            )
        return self


class DomainConfig(_Strict):
    """What squrl may do in DNS for `short_domain` (docs/deploy.md, "Your own domain").

    Without a hosted zone squrl only requests the certificate; the records are the operator's
    (the edge stack outputs them). With the Route 53 zone that holds the short domain, squrl
    creates the certificates' validation records, the short domain's alias records and, with
    `api_host`, `api.<short_domain>`: one API host name routed to the nearest healthy region.
    """

    hosted_zone_id: str | None = Field(None, pattern=r"^Z[A-Z0-9]{1,32}$")
    api_host: bool = True


class DeployConfig(_Strict):
    """Facts about the account that synthesis cannot see; only `make preflight` reads them."""

    # Regions where `cdk bootstrap aws://<account>/<region>` has been run for this account:
    # every serving region and us-east-1 (CloudFront's region) must be among them.
    bootstrapped_regions: list[Region] = Field(default_factory=list)


class ObservabilityConfig(_Strict):
    alarm_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    canary: bool = False
    lambda_insights: bool = False
    dashboard: bool = True
    # Seed 000's success metric: p99 under 200 ms even with cold starts, for the redirect.
    redirect_p99_slo_ms: int = Field(200, ge=10, le=29_000)
    # Creates write to the home region (a cross-region hop from replicas); docs/api.md section 11
    # sets 1 s.
    create_p99_slo_ms: int = Field(1000, ge=10, le=29_000)
    # Below this many requests a minute one slow or failed request is a large share of traffic;
    # rate and percentile alarms stay quiet there instead of paging on a single request.
    alarm_min_requests_per_minute: int = Field(10, ge=1)
    # WAF blocks in 5 minutes that count as a spike, if they are also above the learned band.
    waf_blocked_spike: int = Field(200, ge=1)
    # Where alarm descriptions link the runbooks (e.g. the repo's docs/runbooks URL); the
    # repository path is used when unset.
    runbook_base_url: str | None = Field(None, pattern=r"^https://\S+[^/]$")
    # SecureString parameter holding the API key the canary creates links with (docs/operations.md).
    canary_api_key_parameter: str | None = Field(None, pattern=r"^/[A-Za-z0-9_./-]+$")


class EnvironmentConfig(_Strict):
    name: EnvName
    account: str = Field(pattern=r"^\d{12}$")
    home_region: Region
    serving_regions: list[Region] = Field(min_length=1)
    short_domain: Hostname | None = None
    code_length: int = Field(
        codes.DEFAULT_LENGTH, ge=codes.MIN_GENERATED_LENGTH, le=codes.MAX_CODE_LENGTH
    )
    blocklist: list[Hostname] = Field(default_factory=list)
    architecture: Literal["arm64", "x86_64"] = "arm64"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_retention_days: int = 30
    # Retain the table, logs and DAX data when a stack is deleted (staging, prod).
    retain_data: bool = True
    budget_usd: float | None = Field(None, gt=0)
    functions: FunctionsConfig = FunctionsConfig()
    imports: ImportsConfig = ImportsConfig()
    concurrency: ConcurrencyConfig = ConcurrencyConfig()
    # Per function (WARMABLE_FUNCTIONS): SnapStart or provisioned concurrency; none by default.
    cold_starts: dict[str, ColdStart] = Field(default_factory=dict)
    api: ApiConfig = ApiConfig()
    identity: IdentityConfig = IdentityConfig()
    waf: WafConfig = WafConfig()
    dax: DaxConfig = DaxConfig()
    analytics: AnalyticsConfig = AnalyticsConfig()
    edge: EdgeConfig = EdgeConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    domain: DomainConfig = DomainConfig()
    deploy: DeployConfig = DeployConfig()

    @field_validator("serving_regions")
    @classmethod
    def _unique_regions(cls, regions: list[str]) -> list[str]:
        if len(set(regions)) != len(regions):
            raise ValueError("lists a region more than once")
        return regions

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return days

    @field_validator("cold_starts")
    @classmethod
    def _warmable(cls, cold_starts: dict[str, ColdStart]) -> dict[str, ColdStart]:
        unknown = sorted(set(cold_starts) - set(WARMABLE_FUNCTIONS))
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)}: not a function whose cold starts can be warmed; one of "
                f"{', '.join(WARMABLE_FUNCTIONS)}"
            )
        for name in NO_SNAPSTART_FUNCTIONS:
            if name in cold_starts and cold_starts[name].snapstart:
                raise ValueError(
                    f"{name}: SnapStart functions get container credentials, which the "
                    f"{name}'s standard-library table client does not read; use "
                    "provisioned_concurrency instead"
                )
        return cold_starts

    @model_validator(mode="after")
    def _provisioned_fits(self) -> EnvironmentConfig:
        # Provisioned concurrency comes out of the function's reservation where it has one,
        # and out of the account's pool in every region the function runs.
        for name, cold in self.cold_starts.items():
            reserved = self.concurrency.reserved.get(name)
            if reserved is not None and cold.provisioned_concurrency > reserved:
                raise ValueError(
                    f"cold_starts.{name}.provisioned_concurrency "
                    f"({cold.provisioned_concurrency}) exceeds its reserved concurrency "
                    f"({reserved}); Lambda cannot provision more than the function may run"
                )
        # Without a reservation it comes out of the unreserved pool, which keeps its 100.
        unreserved_provisioned = sum(
            c.provisioned_concurrency
            for n, c in self.cold_starts.items()
            if n not in self.concurrency.reserved
        )
        taken = sum(self.concurrency.reserved.values()) + unreserved_provisioned
        available = max(self.concurrency.account_limit - UNRESERVED_CONCURRENCY_MINIMUM, 0)
        if taken > available:
            raise ValueError(
                f"cold_starts provision {unreserved_provisioned} environments outside any "
                f"reservation; with the reservations that is {taken}, more than the account "
                f"limit of {self.concurrency.account_limit} leaves ({available}: Lambda keeps "
                f"{UNRESERVED_CONCURRENCY_MINIMUM} unreserved)"
            )
        return self

    @model_validator(mode="after")
    def _home_serves(self) -> EnvironmentConfig:
        # Writes go to the home region, and the regional API there is where creates land with
        # the least latency; a home region without an API would only add a hop.
        if self.home_region not in self.serving_regions:
            raise ValueError(
                f"home_region {self.home_region!r} must be one of serving_regions "
                f"{self.serving_regions}"
            )
        return self

    @model_validator(mode="after")
    def _price_class_covers_serving_regions(self) -> EnvironmentConfig:
        # A viewer near a region outside the price class is served from a distant edge: the
        # redirect there would cross an ocean before reaching the nearby replica.
        if not self.edge.enabled:
            return self
        chosen = PRICE_CLASSES.index(self.edge.price_class)
        needed = {region: minimum_price_class(region) for region in self.serving_regions}
        short = {r: c for r, c in needed.items() if PRICE_CLASSES.index(c) > chosen}
        if short:
            wanted = max(short.values(), key=PRICE_CLASSES.index)
            regions = ", ".join(f"{r} (needs {c})" for r, c in short.items())
            raise ValueError(
                f"edge.price_class {self.edge.price_class!r} has no edge locations near serving "
                f"region(s) {regions}; set edge.price_class to {wanted!r}"
                + (" or 'PriceClass_All'" if wanted != "PriceClass_All" else "")
            )
        return self

    @model_validator(mode="after")
    def _domain_needs_its_distribution(self) -> EnvironmentConfig:
        # The distribution is what answers on the short domain; without it every short_url
        # would name a host that serves nothing.
        if self.short_domain and not self.edge.enabled:
            raise ValueError(
                "short_domain needs edge.enabled: the CloudFront distribution serves it"
            )
        if self.domain.hosted_zone_id and not self.short_domain:
            raise ValueError(
                "domain.hosted_zone_id is set without short_domain: set the short domain the "
                "zone holds, or remove the zone id"
            )
        return self

    @property
    def api_host(self) -> str | None:
        """`api.<short_domain>` when squrl routes it (a hosted zone and `domain.api_host`)."""
        if self.short_domain and self.domain.hosted_zone_id and self.domain.api_host:
            return f"api.{self.short_domain}"
        return None

    @property
    def cors_allowed_origins(self) -> list[str]:
        """`api.cors_allowed_origins` plus the web app's origin, `https://<short_domain>`: the
        app at /app/ calls the API on its own host from there (docs/web.md)."""
        origins = list(self.api.cors_allowed_origins)
        web_origin = f"https://{self.short_domain}" if self.short_domain else None
        if web_origin and web_origin not in origins and "*" not in origins:
            origins.append(web_origin)
        return origins

    @property
    def replica_regions(self) -> list[str]:
        """Serving regions other than the home region: where the global table has replicas."""
        return [r for r in self.serving_regions if r != self.home_region]


class SqurlConfig(_Strict):
    environments: dict[EnvName, EnvironmentConfig] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _name_environments(cls, data: Any) -> Any:
        # The environment's name is its key in cdk.json; copying it in keeps the two equal.
        if isinstance(data, Mapping) and isinstance(data.get("environments"), Mapping):
            envs = {
                key: ({**value, "name": key} if isinstance(value, Mapping) else value)
                for key, value in data["environments"].items()
            }
            return {**data, "environments": envs}
        return data
