"""Names of the resources that one part of squrl creates and another finds by name.

The CDK constructs create them under these names, the functions read them from their
environment, and the local server uses the same scheme for its `local` environment.
"""

from __future__ import annotations

PREFIX = "squrl"
# CloudFront's region: the edge stack and its Lambda@Edge function are created there, and
# CloudFront publishes its metrics there.
CLOUDFRONT_REGION = "us-east-1"
# The Kinesis stream the edge stack creates for CloudFront's real-time logs lives in us-east-1,
# CloudFront's region (docs/edge.md).
EDGE_LOG_STREAM_REGION = CLOUDFRONT_REGION


def table_name(env_name: str) -> str:
    """The links table (docs/api.md section 5: `squrl-urls-{env}`)."""
    return f"{PREFIX}-urls-{env_name}"


def stack_name(env_name: str, role: str, region: str) -> str:
    return f"{PREFIX}-{env_name}-{role}-{region}"


def function_name(env_name: str, name: str) -> str:
    """The deployed name of the function bundled from `functions/<name>`."""
    return f"{PREFIX}-{env_name}-{name.replace('_', '-')}"


def function_log_group_name(env_name: str, name: str) -> str:
    """The log group of that function (Lambda's default name)."""
    return f"/aws/lambda/{function_name(env_name, name)}"


def click_stream_name(env_name: str) -> str:
    return f"{PREFIX}-{env_name}-clicks"


def dead_letter_queue_name(env_name: str) -> str:
    return f"{PREFIX}-{env_name}-clicks-dlq"


def invalidation_dead_letter_queue_name(env_name: str) -> str:
    return f"{PREFIX}-{env_name}-invalidation-dlq"


def distribution_id_parameter(env_name: str) -> str:
    """The SSM parameter (in CloudFront's region) holding the distribution's id."""
    return f"/{PREFIX}/{env_name}/edge/distribution-id"


def edge_log_stream_name(env_name: str) -> str:
    return f"{PREFIX}-{env_name}-edge-requests"


def import_bucket_name(env_name: str, account: str, home_region: str) -> str:
    """The import uploads bucket, in the home region; every region's imports function pre-signs
    uploads into it by this name (bucket names are global, hence the account and region)."""
    return f"{PREFIX}-{env_name}-imports-{account}-{home_region}"


def import_state_machine_name(env_name: str) -> str:
    return f"{PREFIX}-{env_name}-imports"


def import_dead_letter_queue_name(env_name: str) -> str:
    """Upload events EventBridge could not deliver to the import state machine."""
    return f"{PREFIX}-{env_name}-imports-dlq"


def alarm_topic_name(env_name: str) -> str:
    """The observability stack's SNS topic, one per region."""
    return f"{PREFIX}-{env_name}-alarms"
