"""Marginal cost: what 1M more redirects (per path), creates and counted clicks cost.

Every component is a price-table line times a quantity the templates decide (which services a
request passes, memory, architecture, indexes, replicas, stream modes) or an assumption
(assumptions.py). A path is a list of (component, USD per 1M) so the tables can show why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tools.cost_model.assembly import Environment, Stack
from tools.cost_model.assumptions import ASSUMPTIONS, Assumptions
from tools.cost_model.at_rest import GB, function_gb
from tools.cost_model.prices import Prices

MILLION = 1_000_000
Components = list[tuple[str, float]]


@dataclass(frozen=True)
class Features:
    """What the templates say a request passes through."""

    edge: bool
    edge_waf: bool
    edge_function: bool  # the viewer-request CloudFront Function
    lambda_edge_gb: float | None
    realtime_log_percent: float  # 0 without real-time logs
    edge_stream_on_demand: bool
    regional_waf: bool
    redirect_gb: float
    redirect_arch: str
    create_gb: float
    create_arch: str
    create_snapstart: bool
    traced: bool
    dax: bool
    replicas: int  # table copies besides the home region's
    link_indexes: int  # indexes a link item is written to
    full_indexes: int  # indexes projecting ALL attributes (a click count update rewrites them)
    click_stream_on_demand: bool
    firehoses: int
    consumer_gb: float
    consumer_arch: str
    # Added by the identity, import and web app features.
    authorizer_gb: float
    authorizer_arch: str
    get_gb: float
    get_arch: str
    user_pool_tier: str | None  # UserPoolTier of the user pool: LITE, ESSENTIALS or PLUS
    import_worker_gb: float
    import_worker_arch: str
    import_chunk_rows: int
    import_transitions_per_chunk: int
    import_transitions_per_job: int
    import_logs_all: bool
    app_function: bool  # the /app/* behaviour's viewer-request CloudFront Function


def _function_named(stack: Stack, suffix: str) -> tuple[float, str, dict[str, Any]]:
    for logical_id, props in stack.resources("AWS::Lambda::Function"):
        if str(props.get("FunctionName", "")).endswith(suffix):
            gb, architecture = function_gb(stack, logical_id)
            return gb, architecture, props
    raise LookupError(f"{stack.name} has no function named *{suffix}")


def _edge_features(edge: Stack | None) -> dict[str, Any]:
    if edge is None:
        return {
            "edge": False, "edge_waf": False, "edge_function": False, "lambda_edge_gb": None,
            "realtime_log_percent": 0.0, "edge_stream_on_demand": False,
        }  # fmt: skip
    (_, distribution), *_ = edge.resources("AWS::CloudFront::Distribution")
    behaviour = distribution["DistributionConfig"]["DefaultCacheBehavior"]
    lambda_edge_gb = None
    if behaviour.get("LambdaFunctionAssociations"):
        lambda_edge_gb, _, _ = _function_named(edge, "-edge-redirect")
    logs = [props for _, props in edge.resources("AWS::CloudFront::RealtimeLogConfig")]
    streams = [props for _, props in edge.resources("AWS::Kinesis::Stream")]
    return {
        "edge": True,
        "edge_waf": edge.count("AWS::WAFv2::WebACL") > 0,
        "edge_function": bool(behaviour.get("FunctionAssociations")),
        "lambda_edge_gb": lambda_edge_gb,
        "realtime_log_percent": float(logs[0]["SamplingRate"]) if logs else 0.0,
        "edge_stream_on_demand": any(_on_demand(s) for s in streams),
    }


def _on_demand(stream: dict[str, Any]) -> bool:
    return bool(stream.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND")


def _table_features(data: Stack) -> dict[str, Any]:
    (_, table), *_ = data.resources("AWS::DynamoDB::GlobalTable")
    indexes = table.get("GlobalSecondaryIndexes", [])
    return {
        "replicas": len(table.get("Replicas", [])) - 1,
        # Both indexes are keyed on attributes every link has (original_url, owner_id).
        "link_indexes": len(indexes),
        "full_indexes": sum(1 for i in indexes if i["Projection"]["ProjectionType"] == "ALL"),
    }


def _click_features(analytics: Stack | None) -> dict[str, Any]:
    if analytics is None:
        return {
            "click_stream_on_demand": False, "firehoses": 0,
            "consumer_gb": 0.5, "consumer_arch": "arm64",
        }  # fmt: skip
    streams = [props for _, props in analytics.resources("AWS::Kinesis::Stream")]
    gb, architecture, _ = _function_named(analytics, "-click-consumer")
    return {
        "click_stream_on_demand": any(_on_demand(s) for s in streams),
        "firehoses": analytics.count("AWS::KinesisFirehose::DeliveryStream"),
        "consumer_gb": gb,
        "consumer_arch": architecture,
    }


def _identity_features(data: Stack) -> dict[str, Any]:
    pools = [props for _, props in data.resources("AWS::Cognito::UserPool")]
    # CloudFormation's default tier for a new pool is ESSENTIALS.
    return {"user_pool_tier": str(pools[0].get("UserPoolTier", "ESSENTIALS")) if pools else None}


def _state_machine(stack: Stack) -> dict[str, Any]:
    (_, machine), *_ = stack.resources("AWS::StepFunctions::StateMachine")
    definition = machine["DefinitionString"]
    if isinstance(definition, dict):  # Fn::Join of literal parts and function ARNs (inside quotes)
        parts = definition["Fn::Join"][1]
        definition = "".join(p if isinstance(p, str) else "arn" for p in parts)
    return {"definition": json.loads(definition), "properties": machine}


def _loop_transitions(states: dict[str, Any]) -> tuple[int, int]:
    """The states one turn of the chunk loop passes (the choice's default branch back to the
    choice), and those a job passes once besides its turns (the start, the choice's first
    visit, the state that ends it)."""
    for name, state in states.items():
        if state["Type"] != "Choice" or "Default" not in state:
            continue
        step, turn = state["Default"], 1
        while step in states and step != name and turn <= len(states):
            step, turn = states[step].get("Next"), turn + 1
        if step == name:
            return turn, 3
    raise LookupError("the import state machine has no chunk loop")


def _import_features(imports: Stack | None) -> dict[str, Any]:
    if imports is None:
        return {
            "import_worker_gb": 0.0, "import_worker_arch": "arm64", "import_chunk_rows": 1,
            "import_transitions_per_chunk": 0, "import_transitions_per_job": 0,
            "import_logs_all": False,
        }  # fmt: skip
    gb, architecture, worker = _function_named(imports, "-import-worker")
    machine = _state_machine(imports)
    per_chunk, per_job = _loop_transitions(machine["definition"]["States"])
    logging = machine["properties"].get("LoggingConfiguration", {})
    return {
        "import_worker_gb": gb,
        "import_worker_arch": architecture,
        "import_chunk_rows": int(worker["Environment"]["Variables"]["SQURL_IMPORT_CHUNK_ROWS"]),
        "import_transitions_per_chunk": per_chunk,
        "import_transitions_per_job": per_job,
        "import_logs_all": logging.get("Level") == "ALL",
    }


def _app_features(edge: Stack | None) -> dict[str, Any]:
    if edge is None:
        return {"app_function": False}
    (_, distribution), *_ = edge.resources("AWS::CloudFront::Distribution")
    behaviours = distribution["DistributionConfig"].get("CacheBehaviors", [])
    app = [b for b in behaviours if str(b.get("PathPattern", "")).startswith("/app")]
    return {"app_function": any(b.get("FunctionAssociations") for b in app)}


def features(env: Environment) -> Features:
    home = env.role("data")[0].region
    api = env.one("api", home)
    data = env.one("data", home)
    assert api is not None and data is not None, f"{env.name}: no API or data stack in {home}"
    redirect_gb, redirect_arch, redirect = _function_named(api, "-redirect")
    create_gb, create_arch, create = _function_named(api, "-create-url")
    authorizer_gb, authorizer_arch, _ = _function_named(api, "-authorizer")
    get_gb, get_arch, _ = _function_named(api, "-get-url")
    return Features(
        **_edge_features(env.one("edge")),
        regional_waf=api.count("AWS::WAFv2::WebACL") > 0,
        redirect_gb=redirect_gb,
        redirect_arch=redirect_arch,
        create_gb=create_gb,
        create_arch=create_arch,
        create_snapstart=create.get("SnapStart", {}).get("ApplyOn") == "PublishedVersions",
        traced=redirect.get("TracingConfig", {}).get("Mode") == "Active",
        dax=api.count("AWS::DAX::Cluster") > 0,
        **_table_features(data),
        **_click_features(env.one("analytics")),
        authorizer_gb=authorizer_gb,
        authorizer_arch=authorizer_arch,
        get_gb=get_gb,
        get_arch=get_arch,
        **_identity_features(data),
        **_import_features(api if api.count("AWS::StepFunctions::StateMachine") else None),
        **_app_features(env.one("edge")),
    )


class Model:
    def __init__(self, f: Features, prices: Prices, assumptions: Assumptions = ASSUMPTIONS):
        self.f, self.p, self.a = f, prices, assumptions

    # -- pieces -----------------------------------------------------------------------------
    def _logs(self, what: str, nbytes: float) -> tuple[str, float]:
        return (what, nbytes * MILLION / GB * self.p("cloudwatch", "logs_ingest_per_gb"))

    def _lambda(self, name: str, gb: float, ms: float, arch: str) -> Components:
        p = self.p
        return [
            (f"{name} requests", p("lambda", "request_per_million")),
            (f"{name} duration", gb * ms / 1000 * MILLION * p("lambda", f"gb_second_{arch}")),
        ]

    def _read(self, share: float = 1.0) -> tuple[str, float]:
        # One eventually consistent GetItem of an item under 4 KB: half a read request unit.
        return ("DynamoDB read", share * 0.5 * self.p("dynamodb", "read_request_units_per_million"))

    def _regional(self, read: tuple[str, float]) -> Components:
        f, a, p = self.f, self.a, self.p
        path: Components = [("API Gateway requests", p("api_gateway", "rest_requests_per_million"))]
        if f.regional_waf:
            path.append(("regional WAF requests", p("waf", "requests_per_million")))
        path += self._lambda("redirect", f.redirect_gb, a.regional_redirect_ms, f.redirect_arch)
        path.append(read)
        path.append(
            self._logs("logs: platform + access", a.platform_log_bytes + a.access_log_bytes)
        )
        if f.traced:
            xray = a.xray_sampled_fraction * p("xray", "traces_recorded_per_million")
            path.append(("X-Ray traces", xray))
        return path

    def _transfer(self, per_gb: float, nbytes: float) -> float:
        return nbytes * MILLION / GB * per_gb

    # -- redirect paths -----------------------------------------------------------------------
    def edge_hit(self) -> Components:
        f, p = self.f, self.p
        path: Components = [("CloudFront requests", p("cloudfront", "https_requests_per_million"))]
        if f.edge_function:
            path.append(
                ("CloudFront Function", p("cloudfront", "function_invocations_per_million"))
            )
        if f.edge_waf:
            path.append(("CloudFront WAF requests", p("waf", "requests_per_million")))
        dto = self._transfer(
            p("cloudfront", "data_transfer_out_per_gb"), self.a.redirect_response_bytes
        )
        path.append(("CloudFront data transfer out", dto))
        return path

    def edge_miss(self) -> Components:
        """A miss answered by Lambda@Edge from the nearest replica."""
        f, a, p = self.f, self.a, self.p
        if f.lambda_edge_gb is None:
            return self.edge_miss_regional()
        duration = (
            f.lambda_edge_gb * a.edge_function_ms / 1000 * MILLION * p("lambda_edge", "gb_second")
        )
        return [
            *self.edge_hit(),
            ("Lambda@Edge requests", p("lambda_edge", "request_per_million")),
            ("Lambda@Edge duration", duration),
            self._read(),
            self._logs("logs: Lambda@Edge platform", a.edge_platform_log_bytes),
        ]

    def edge_miss_regional(self) -> Components:
        """A miss the origin group sends to a regional API (edge function off or failing)."""
        return self.edge_hit() + self._regional(self._read())

    def regional_direct(self) -> Components:
        transfer = self._transfer(
            self.p("api_gateway", "data_transfer_out_per_gb"), self.a.redirect_response_bytes
        )
        return [*self._regional(self._read()), ("API Gateway data transfer out", transfer)]

    def regional_dax(self) -> Components:
        """The regional path with DAX: only DAX misses read the replica."""
        miss = 1 - self.a.dax_hit_ratio
        read = (f"DynamoDB read ({miss:.0%} DAX misses)", self._read(miss)[1])
        transfer = self._transfer(
            self.p("api_gateway", "data_transfer_out_per_gb"), self.a.redirect_response_bytes
        )
        return [*self._regional(read), ("API Gateway data transfer out", transfer)]

    def blended(self, hit_ratio: float) -> float:
        return hit_ratio * total(self.edge_hit()) + (1 - hit_ratio) * total(self.edge_miss())

    # -- creates ------------------------------------------------------------------------------
    def _write_units(self, items: float, index_writes: float) -> Components:
        """Writes in the home region and their replication to every replica region."""
        p, f = self.p, self.f
        wru = p("dynamodb", "write_request_units_per_million")
        path: Components = [
            ("DynamoDB writes", items * wru),
            ("DynamoDB index writes", index_writes * wru),
        ]
        if f.replicas:
            rwru = p("dynamodb", "replicated_write_request_units_per_million")
            replicated = f.replicas * (items / 2 * rwru + index_writes * wru)
            path.append((f"DynamoDB replication to {f.replicas} region(s)", replicated))
        return path

    # -- authenticated API requests -----------------------------------------------------------
    def authorizer(self) -> Components:
        """The REQUEST authorizer, run on every authenticated request (no result cache)."""
        f, a, p = self.f, self.a, self.p
        path = self._lambda("authorizer", f.authorizer_gb, a.authorizer_ms, f.authorizer_arch)
        rru = p("dynamodb", "read_request_units_per_million")
        path.append(("authorizer token read", a.authorizer_token_read_share * 0.5 * rru))
        # One UpdateItem of a token item under 1 KB, replicated like every write.
        write = p("dynamodb", "write_request_units_per_million") + f.replicas * p(
            "dynamodb", "replicated_write_request_units_per_million"
        )
        path.append(("authorizer last_used_at write", a.authorizer_last_used_write_share * write))
        path.append(self._logs("logs: authorizer", a.platform_log_bytes + a.authorizer_log_bytes))
        return path

    def _api_front(self) -> Components:
        """What every authenticated API request pays before its handler."""
        p = self.p
        path: Components = [("API Gateway requests", p("api_gateway", "rest_requests_per_million"))]
        if self.f.regional_waf:
            path.append(("regional WAF requests", p("waf", "requests_per_million")))
        return path + self.authorizer()

    def _traces(self) -> Components:
        if not self.f.traced:
            return []
        return [
            (
                "X-Ray traces",
                self.a.xray_sampled_fraction * self.p("xray", "traces_recorded_per_million"),
            )
        ]

    def api_read(self) -> Components:
        """GET /urls/{code}: the owner's link, read with a strongly consistent GetItem."""
        f, a, p = self.f, self.a, self.p
        path = self._api_front()
        path += self._lambda("get_url", f.get_gb, a.get_url_ms, f.get_arch)
        path.append(("DynamoDB read (consistent)", p("dynamodb", "read_request_units_per_million")))
        logs = a.platform_log_bytes + a.access_log_bytes + a.get_url_log_bytes
        path.append(self._logs("logs: platform + access + application", logs))
        path += self._traces()
        transfer = self._transfer(
            p("api_gateway", "data_transfer_out_per_gb"), a.get_url_response_bytes
        )
        path.append(("API Gateway data transfer out", transfer))
        return path

    def create(self) -> Components:
        f, a, p = self.f, self.a, self.p
        path = self._api_front()
        path += self._lambda("create_url", f.create_gb, a.create_ms, f.create_arch)
        if f.create_snapstart:
            restores = a.snapstart_restores_per_million * f.create_gb
            path.append(("SnapStart restores", restores * p("lambda", "snapstart_restore_per_gb")))
        path.append(("DynamoDB dedup query", 0.5 * p("dynamodb", "read_request_units_per_million")))
        # One transaction of two items (the link and its first history entry): 2 WRU each.
        path += self._write_units(items=4, index_writes=f.link_indexes)
        logs = a.platform_log_bytes + a.access_log_bytes + a.create_log_bytes
        path.append(self._logs("logs: platform + access + application", logs))
        path += self._traces()
        transfer = self._transfer(
            p("api_gateway", "data_transfer_out_per_gb"), a.create_response_bytes
        )
        path.append(("API Gateway data transfer out", transfer))
        return path

    # -- imports ------------------------------------------------------------------------------
    def import_rows(self) -> Components:
        """1M imported rows: the workflow, the worker, the upload and each row's writes."""
        f, a, p = self.f, self.a, self.p
        chunks = MILLION / f.import_chunk_rows
        jobs = MILLION / a.import_rows_per_job
        per = 1 / MILLION  # prices are per 1M units; these counts are per 1M rows
        transitions = chunks * f.import_transitions_per_chunk + jobs * f.import_transitions_per_job
        invocations = chunks + jobs  # a chunk each, and each job's start
        duration = f.import_worker_gb * a.import_worker_ms_per_row / 1000 * MILLION
        upload_gb = a.import_row_bytes * MILLION / GB
        wru = p("dynamodb", "write_request_units_per_million")
        job_write = wru + f.replicas * p("dynamodb", "replicated_write_request_units_per_million")
        path: Components = [
            (
                "Step Functions state transitions",
                transitions * per * p("step_functions", "standard_transitions_per_million"),
            ),
            ("import worker requests", invocations * per * p("lambda", "request_per_million")),
            ("import worker duration", duration * p("lambda", f"gb_second_{f.import_worker_arch}")),
            # Each job: POST /imports through the authorizer and its handler, the upload's PUT.
            (
                "job requests (POST /imports)",
                jobs * per * (total(self._api_front()) + p("lambda", "request_per_million")),
            ),
            ("S3 upload PUT", jobs * per * p("s3", "put_requests_per_million")),
            (
                "S3 GETs (count, then one a chunk)",
                invocations * per * p("s3", "get_requests_per_million"),
            ),
            # Kept until the lifecycle rule expires it; a month priced, an upper bound.
            ("S3 storage of the upload, a month", upload_gb * p("s3", "standard_gb_month")),
            # The marker read (BatchGetItem) and the code's read or the dedup query: 0.5 RRU each.
            ("DynamoDB reads", 1.0 * p("dynamodb", "read_request_units_per_million")),
        ]
        # One transaction of three items (link, first history entry, marker): 2 WRU each.
        path += self._write_units(items=6, index_writes=f.link_indexes)
        path.append(("job progress writes", chunks * per * job_write))
        log_bytes = (
            invocations * (a.platform_log_bytes + a.import_worker_log_bytes_per_chunk)
            + (transitions * a.import_sfn_log_bytes_per_transition if f.import_logs_all else 0)
        ) / MILLION
        path.append(self._logs("logs: worker + execution history", log_bytes))
        return path

    # -- web app ------------------------------------------------------------------------------
    def app_assets(self) -> Components:
        """1M requests for /app/ files through the distribution; misses read the bucket."""
        f, a, p = self.f, self.a, self.p
        path: Components = [("CloudFront requests", p("cloudfront", "https_requests_per_million"))]
        if f.app_function:
            path.append(
                ("CloudFront Function", p("cloudfront", "function_invocations_per_million"))
            )
        if f.edge_waf:
            path.append(("CloudFront WAF requests", p("waf", "requests_per_million")))
        dto = self._transfer(p("cloudfront", "data_transfer_out_per_gb"), a.app_asset_bytes)
        path.append(("CloudFront data transfer out", dto))
        miss = 1 - a.app_cache_hit_ratio
        path.append((f"S3 GETs ({miss:.0%} misses)", miss * p("s3", "get_requests_per_million")))
        return path

    # -- Cognito ------------------------------------------------------------------------------
    def _mau_price(self) -> tuple[float, float]:
        """(USD per MAU, free MAUs a month) of the pool's tier."""
        tier = (self.f.user_pool_tier or "ESSENTIALS").lower()
        free = 0.0 if tier == "plus" else self.p("cognito", "free_mau")
        return self.p("cognito", f"{tier}_per_mau"), free

    def cognito_per_1000_mau(self) -> float:
        """1,000 more MAUs above the free tier."""
        return 1000 * self._mau_price()[0] if self.f.user_pool_tier else 0.0

    def cognito_month(self, mau: int) -> float:
        if not self.f.user_pool_tier:
            return 0.0
        price, free = self._mau_price()
        return max(0.0, mau - free) * price

    # -- counted clicks -----------------------------------------------------------------------
    def _counting(self) -> Components:
        f, a, p = self.f, self.a, self.p
        items = a.click_item_writes_per_1000 / 1000
        index_writes = items * a.click_link_item_share * f.full_indexes
        path = self._write_units(items=2 * items, index_writes=index_writes)
        batches = 1 / a.consumer_batch_records
        duration = f.consumer_gb * a.consumer_ms_per_batch / 1000 * batches * MILLION
        path += [
            ("consumer requests", batches * p("lambda", "request_per_million")),
            ("consumer duration", duration * p("lambda", f"gb_second_{f.consumer_arch}")),
        ]
        if f.firehoses:
            firehose = self._transfer(p("firehose", "ingest_per_gb"), a.firehose_record_bytes)
            path.append(("Firehose to the lake", firehose))
        return path

    def _stream_put(self, nbytes: int, on_demand: bool, readers: int) -> tuple[str, float]:
        p = self.p
        if not on_demand:
            return ("Kinesis PUT payload units", p("kinesis", "put_payload_units_per_million"))
        ingest = self._transfer(p("kinesis", "on_demand_ingest_per_gb"), max(nbytes, 1024))
        retrieval = readers * self._transfer(p("kinesis", "on_demand_retrieval_per_gb"), nbytes)
        return ("Kinesis on-demand ingest + reads", ingest + retrieval)

    def edge_click(self) -> Components:
        f, a, p = self.f, self.a, self.p
        return [
            ("CloudFront real-time log lines", p("cloudfront", "realtime_log_lines_per_million")),
            self._stream_put(
                a.edge_log_record_bytes, f.edge_stream_on_demand, a.edge_stream_readers
            ),
            *self._counting(),
        ]

    def regional_click(self) -> Components:
        f, a = self.f, self.a
        return [
            self._logs("logs: click line", a.click_line_bytes),
            self._stream_put(a.click_record_bytes, f.click_stream_on_demand, 2),
            *self._counting(),
        ]


def total(path: Components) -> float:
    return sum(usd for _, usd in path)
