"""Settings every test sees: fake credentials, one region, no real AWS endpoint.

Set before any handler is imported, because handlers read their configuration once at import,
as they do in Lambda.
"""

from __future__ import annotations

import os

TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "SQURL_ENV": "test",
    "SQURL_TABLE_NAME": "squrl-urls-test",
    "SQURL_HOME_REGION": "us-east-1",
    "SQURL_SHORT_BASE_URL": "https://sq.example.com",
    "SQURL_BLOCKLIST": "blocked.example, evil.test",
    "SQURL_CODE_LENGTH": "8",
    "POWERTOOLS_SERVICE_NAME": "squrl",
    "POWERTOOLS_METRICS_NAMESPACE": "Squrl",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "LOG_LEVEL": "WARNING",
}
for _key, _value in TEST_ENVIRONMENT.items():
    os.environ[_key] = _value
for _key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(_key, None)
