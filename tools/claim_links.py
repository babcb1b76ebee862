"""Move the links created under an API key id to a user (docs/identity.md, "Migration").

    python -m tools.claim_links --env prod --from-key a1b2c3d4e5 --to-user 7d8f0c1e-...

Runs with the operator's AWS credentials against the environment's table in its home region
(from cdk.json). Prints how many links moved; run again if some changed meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.claim_links", description=__doc__)
    parser.add_argument("--env", required=True)
    parser.add_argument("--from-key", required=True, help="the API key id the links are under")
    parser.add_argument("--to-user", required=True, help="the user's id (Cognito sub)")
    args = parser.parse_args(argv)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]["squrl"]
    home = context["environments"][args.env]["home_region"]
    os.environ.setdefault("SQURL_ENV", args.env)
    os.environ.setdefault("SQURL_HOME_REGION", home)
    os.environ.setdefault("AWS_REGION", home)

    from shared.identity.migration import claim_links
    from shared.settings import settings

    client = boto3.client("dynamodb", region_name=home)
    moved, skipped = claim_links(
        client, settings(), from_owner=args.from_key, to_owner=args.to_user, now=time.time()
    )
    print(
        f"moved {moved} link(s) from {args.from_key} to {args.to_user}; {skipped} changed meanwhile"
    )


if __name__ == "__main__":
    main()
