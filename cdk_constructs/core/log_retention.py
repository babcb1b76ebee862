"""How long squrl keeps what it records: CloudWatch Logs from the configuration's number of days,
Kinesis streams for one fixed period."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

# Every click stream keeps records for Kinesis's minimum, 24 hours. The records hold user agents
# and referrers (the consumer derives the device class and the bot flag from the user agent, and
# the referrer's host, before storing anything), so they are kept no longer than the minimum; a
# day also bounds the consumer's catch-up after an outage (docs/analytics.md). Longer retention
# costs extra per shard-hour. One value for every stream, so replay windows never differ.
STREAM_RETENTION = Duration.hours(24)

# Keys match squrl_config.LOG_RETENTION_DAYS, which the config validates against.
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def log_retention(days: int) -> logs.RetentionDays:
    return _RETENTION[days]
