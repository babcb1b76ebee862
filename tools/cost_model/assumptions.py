"""What the model assumes where the templates and the price table say nothing.

Each figure is a stated assumption, not a measurement of a deployed squrl; docs/cost.md lists
them (generated from ASSUMPTIONS below) next to the tables they feed. Change one here and
`make cost` regenerates every quoted figure.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Assumptions:
    # Data at rest: the links table (links, history, stats) in each region that holds a copy,
    # about 1M links of under 1 KB each with their history and daily stats; PITR on the same size.
    table_gb: float = 1.0
    # A redirect answer on the wire: status line and headers (Location, Cache-Control,
    # X-Short-Code, CloudFront's own), no body.
    redirect_response_bytes: int = 600
    # A create's response: the link as JSON plus headers.
    create_response_bytes: int = 1200
    # Warm billed durations (cold starts are rarer than 1 in 1,000 at steady traffic and left out).
    edge_function_ms: float = 20.0  # Lambda@Edge: one GetItem on the nearest replica
    regional_redirect_ms: float = 8.0  # regional redirect: one GetItem in its own region
    create_ms: float = 80.0  # create: validation, dedup Query, one two-item transaction
    consumer_ms_per_batch: float = 400.0  # click consumer, one 2,000-record batch
    consumer_batch_records: int = 2000
    # Log bytes ingested into CloudWatch Logs per invocation or request.
    platform_log_bytes: int = 600  # Lambda START/REPORT records (JSON, with the trace id)
    edge_platform_log_bytes: int = 350  # Lambda@Edge START/END/REPORT lines (text)
    click_line_bytes: int = 250  # the regional redirect's click line (analytics on)
    access_log_bytes: int = 800  # API Gateway's JSON access log line
    create_log_bytes: int = 1500  # Powertools' structured lines for one create
    # X-Ray's default sampling rule records 1 request a second plus 5% of the rest; at the
    # volumes a per-million figure describes, 5% of requests become traces.
    xray_sampled_fraction: float = 0.05
    # DAX item cache hits among regional redirects with DAX on (its TTL is 10 s in prod).
    dax_hit_ratio: float = 0.90
    # Item sizes: every link, history, stats and checkpoint item is under 1 KB (1 WRU a write,
    # 0.5 RRU an eventually consistent read).
    # Click counting: item writes per 1,000 clicks, Zipf over 1,000 codes, at the consumer's
    # 2,000-record batches (`python -m bench click_producer`, 486.9), each in a transaction
    # (2 WRU an item); half of them are link items, which the owner index (projection ALL) also
    # rewrites.
    click_item_writes_per_1000: float = 486.9
    click_link_item_share: float = 0.5
    # One edge real-time log record (its 9 fields, the user agent included) and one regional
    # click record on the click stream.
    edge_log_record_bytes: int = 400
    click_record_bytes: int = 300
    # Kinesis Data Firehose bills each record rounded up to 5 KB.
    firehose_record_bytes: int = 5 * 1024
    # Readers of the edge request stream: the click consumer and the lake's delivery stream.
    edge_stream_readers: int = 2
    # One active published version per SnapStart function (older versions are deleted with
    # their alias move, cdk_constructs/core/squrl_function.py).
    snapstart_active_versions: int = 1
    # Restores per 1M requests of a SnapStart function (new execution environments).
    snapstart_restores_per_million: float = 1000.0
    # The traffic a budget default allows on top of the cost at rest, in 1M redirects a month
    # at the blended edge-hit figure (below), and 1M creates.
    budget_redirect_millions: float = 10.0
    budget_create_millions: float = 0.1
    # The edge cache-hit ratio of the blended figures and of the acceptance target.
    edge_hit_ratio: float = 0.90
    # The REQUEST authorizer runs on every authenticated API request (no API Gateway result
    # cache). Warm billed duration: a token hash and its GetItem, or a JWT checked against
    # cached keys. Its log bytes: the platform records plus its one decision line.
    authorizer_ms: float = 15.0
    authorizer_log_bytes: int = 300
    # Requests whose token the authorizer reads from the table: its in-memory cache
    # (identity.token_cache_seconds) lowers this, so 1.0 is the upper bound priced; a JWT or API
    # key caller reads nothing, also left out.
    authorizer_token_read_share: float = 1.0
    # `last_used_at` writes per authenticated request: at most one per token per 15 minutes, so
    # 1 in 1,000 requests for tokens used about once a second.
    authorizer_last_used_write_share: float = 0.001
    # GET /urls/{code}: warm duration (one GetItem and the JSON view), the answer's bytes.
    get_url_ms: float = 30.0
    get_url_response_bytes: int = 1200
    get_url_log_bytes: int = 800
    # Cognito monthly active users the budget default allows for, per environment.
    budget_monthly_active_users: tuple[tuple[str, int], ...] = (
        ("dev", 100),
        ("staging", 100),
        ("prod", 1000),
    )
    # Imports: the worker's warm duration per row (rows go 33 to a transaction; rows without a
    # custom code each read the dedup index first), an uploaded row's bytes, rows per job (what
    # the job's own requests are spread over), the bytes of Step Functions' execution history per
    # state transition shipped to CloudWatch Logs (the state machine logs at level ALL), and the
    # upload's share of a month in storage before the lifecycle rule expires it.
    import_worker_ms_per_row: float = 5.0
    import_row_bytes: int = 150
    import_rows_per_job: int = 10_000
    import_sfn_log_bytes_per_transition: int = 1500
    import_worker_log_bytes_per_chunk: int = 2000
    # The web app (/app/): CloudFront's cache hit ratio for its hashed, long-cached assets, and
    # the average bytes of one asset response.
    app_cache_hit_ratio: float = 0.95
    app_asset_bytes: int = 30_000


ASSUMPTIONS = Assumptions()

# The target of issue 16: 1M redirects at a 90% edge hit ratio cost at most this much.
TARGET_PER_MILLION_REDIRECTS_USD = 1.50


def describe(assumptions: Assumptions = ASSUMPTIONS) -> list[tuple[str, str]]:
    return [(f.name, _text(getattr(assumptions, f.name))) for f in fields(assumptions)]


def _text(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(f"{k} {v:,}" for k, v in value)
    return str(value)


def monthly_active_users(env: str, assumptions: Assumptions = ASSUMPTIONS) -> int:
    """The MAUs the budget allows for in `env`; an environment not listed gets prod's."""
    table = dict(assumptions.budget_monthly_active_users)
    return table.get(env, table["prod"])
