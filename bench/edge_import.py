"""Cold import of the edge handler from its bundle next to the regional redirect's and next to
`import boto3` plus one client (what the same init cost before the standard-library reader), in
one run.

Each sample is a fresh interpreter (bench.common): the edge handler is imported with only its
bundle on the path (as Lambda@Edge sees it, configuration module included), the regional one from
the repository (its bundle adds only amazon-dax-client, imported lazily). Also reports the edge
bundle's zipped size, which Lambda@Edge caps at 50 MB for origin-request functions. Target for
the edge handler: at most 0.35 of the boto3 baseline.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from bench.common import compare_in_fresh_interpreters
from bench.redirect_import import BASELINE, TARGET_RATIO

REPEATS = 21


def _zipped_size(folder: Path) -> tuple[int, int]:
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                archive.write(path, path.relative_to(folder).as_posix())
                count += 1
    return len(buffer.getvalue()), count


def _prod_like_bundle() -> Path:
    from cdk_constructs.edge.edge_function import edge_asset
    from shared.redirect.edge_config import EdgeBundleConfig
    from shared.redirect.edge_regions import nearest_replica_map

    serving = ("us-east-1", "eu-west-1", "ap-southeast-1")
    config = EdgeBundleConfig("squrl-urls-bench", serving[0], serving, nearest_replica_map(serving))
    return edge_asset(config).path


def run() -> dict[str, object]:
    bundle = _prod_like_bundle()
    zipped, files = _zipped_size(bundle)
    # Interleaved rounds: a noisy neighbour slows both alike.
    timings = compare_in_fresh_interpreters(
        {
            "edge": f"import sys\nsys.path.insert(0, {str(bundle)!r})\n"
            "import functions.edge_redirect.handler",
            "regional": "import functions.redirect.handler",
            "baseline": BASELINE,
        },
        REPEATS,
    )
    edge, regional, baseline = timings["edge"], timings["regional"], timings["baseline"]
    ratio = round(edge["median_ms"] / baseline["median_ms"], 2)
    return {
        "edge bundle zipped bytes": zipped,
        "edge bundle files": files,
        "functions.edge_redirect.handler (from its bundle)": edge,
        "functions.redirect.handler": regional,
        "boto3 + dynamodb client": baseline,
        "edge - regional (ms)": round(edge["median_ms"] - regional["median_ms"], 1),
        "edge / baseline": ratio,
        "edge / baseline within target": ratio <= TARGET_RATIO,
    }
