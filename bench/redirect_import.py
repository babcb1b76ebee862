"""Cold import of the regional redirect handler next to `import boto3` plus one client.

The handler makes its DynamoDB client at import, with the standard-library reader
(shared.redirect.dynamodb) rather than boto3, so the baseline is what the same init cost with
boto3: the ratio is what the reader saves a cold start (target: at most 0.35).

The reader builds its TLS context when it is made (during init), trusting only the five Amazon
Trust Services roots (shared/redirect/trust.py); it used to load the system CA store there, which
boto3 only does on its first connection, outside the baseline. The same handler is also timed
with AWS_CA_BUNDLE pointing at the system store, the old behaviour, in the same interleaved
rounds: the difference is what the narrower trust saves.
"""

from __future__ import annotations

from bench.common import compare_in_fresh_interpreters, time_in_fresh_interpreter

BASELINE = "import boto3\nboto3.client('dynamodb', region_name='us-east-1')"
REDIRECT = "import functions.redirect.handler"
CREATE = "import functions.create_url.handler"
SYSTEM_STORE = (
    "import os, ssl\nos.environ['AWS_CA_BUNDLE'] = ssl.get_default_verify_paths().cafile\n"
    + REDIRECT
)
TARGET_RATIO = 0.35


def run() -> dict[str, object]:
    timings = compare_in_fresh_interpreters(
        {"baseline": BASELINE, "redirect": REDIRECT, "system": SYSTEM_STORE}, 21
    )
    baseline, redirect, system = timings["baseline"], timings["redirect"], timings["system"]
    # Measured apart: a 600 ms neighbour in the same rounds skews the small difference above.
    create = time_in_fresh_interpreter(CREATE)
    ratio = round(redirect["median_ms"] / baseline["median_ms"], 2)
    return {
        "boto3 + dynamodb client": baseline,
        "functions.redirect.handler": redirect,
        "functions.create_url.handler (Powertools + pydantic)": create,
        "functions.redirect.handler trusting the system CA store (before)": system,
        "redirect / baseline": ratio,
        "redirect / baseline target": TARGET_RATIO,
        "redirect / baseline within target": ratio <= TARGET_RATIO,
        "redirect trusting the system CA store / baseline (before)": round(
            system["median_ms"] / baseline["median_ms"], 2
        ),
        "redirect - baseline (ms)": round(redirect["median_ms"] - baseline["median_ms"], 1),
    }
