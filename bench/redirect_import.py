"""Cold import of the regional redirect handler next to `import boto3` plus one client.

The handler makes its DynamoDB client at import, so the difference between the two is what
squrl's own code adds to a cold start.
"""

from __future__ import annotations

from bench.common import compare_in_fresh_interpreters, time_in_fresh_interpreter

BASELINE = "import boto3\nboto3.client('dynamodb', region_name='us-east-1')"
REDIRECT = "import functions.redirect.handler"
CREATE = "import functions.create_url.handler"


def run() -> dict[str, object]:
    timings = compare_in_fresh_interpreters({"baseline": BASELINE, "redirect": REDIRECT}, 21)
    baseline, redirect = timings["baseline"], timings["redirect"]
    # Measured apart: a 600 ms neighbour in the same rounds skews the small difference above.
    create = time_in_fresh_interpreter(CREATE)
    return {
        "boto3 + dynamodb client": baseline,
        "functions.redirect.handler": redirect,
        "functions.create_url.handler (Powertools + pydantic)": create,
        "redirect / baseline": round(redirect["median_ms"] / baseline["median_ms"], 2),
        "redirect - baseline (ms)": round(redirect["median_ms"] - baseline["median_ms"], 1),
    }
