"""Which serving region's table replica is nearest to each AWS region a Lambda@Edge copy runs in.

Lambda@Edge runs the function in the AWS region of the regional edge cache that handles the
request (`AWS_REGION` there), not in us-east-1. The edge function cannot read environment
variables, so the choice of replica is computed at synth, once for every region in this table,
and written into the function's bundle (see shared.redirect.edge_config).

Distance stands in for latency: great-circle kilometres between the regions' metro areas. It
ranks the candidates the same way as measured round trips for the pairs that matter (a serving
region is always nearest to itself; Europe, Asia and the Americas separate cleanly), and needs no
measurements at synth. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

# Approximate (latitude, longitude) of each commercial region's metro area.
REGION_LOCATIONS: Mapping[str, tuple[float, float]] = {
    "us-east-1": (38.9, -77.4),
    "us-east-2": (40.0, -83.0),
    "us-west-1": (37.4, -121.9),
    "us-west-2": (45.8, -119.7),
    "ca-central-1": (45.5, -73.6),
    "ca-west-1": (51.0, -114.1),
    "mx-central-1": (20.6, -100.4),
    "sa-east-1": (-23.5, -46.6),
    "eu-west-1": (53.3, -6.3),
    "eu-west-2": (51.5, -0.1),
    "eu-west-3": (48.9, 2.4),
    "eu-central-1": (50.1, 8.7),
    "eu-central-2": (47.4, 8.5),
    "eu-north-1": (59.3, 18.1),
    "eu-south-1": (45.5, 9.2),
    "eu-south-2": (41.6, -0.9),
    "il-central-1": (32.1, 34.8),
    "me-south-1": (26.1, 50.6),
    "me-central-1": (24.5, 54.4),
    "af-south-1": (-33.9, 18.4),
    "ap-south-1": (19.1, 72.9),
    "ap-south-2": (17.4, 78.5),
    "ap-east-1": (22.3, 114.2),
    "ap-northeast-1": (35.7, 139.7),
    "ap-northeast-2": (37.6, 127.0),
    "ap-northeast-3": (34.7, 135.5),
    "ap-southeast-1": (1.35, 103.8),
    "ap-southeast-2": (-33.9, 151.2),
    "ap-southeast-3": (-6.2, 106.8),
    "ap-southeast-4": (-37.8, 145.0),
    "ap-southeast-5": (3.1, 101.7),
    "ap-southeast-7": (13.7, 100.5),
}

_EARTH_RADIUS_KM = 6371.0


class UnknownRegion(ValueError):
    pass


def distance_km(a: str, b: str) -> float:
    """Great-circle distance between two regions' metro areas."""
    try:
        (lat1, lon1), (lat2, lon2) = REGION_LOCATIONS[a], REGION_LOCATIONS[b]
    except KeyError as missing:
        raise UnknownRegion(f"no location known for region {missing.args[0]!r}") from None
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def nearest_region(region: str, candidates: Iterable[str]) -> str:
    """The candidate nearest to `region`; a tie goes to the earlier candidate."""
    ordered = list(candidates)
    if not ordered:
        raise ValueError("no candidate regions")
    if region in ordered:
        return region
    return min(ordered, key=lambda candidate: distance_km(region, candidate))


def nearest_replica_map(serving_regions: Iterable[str]) -> dict[str, str]:
    """For every known region, the serving region whose replica its edge function should read."""
    candidates = list(serving_regions)
    for region in candidates:
        if region not in REGION_LOCATIONS:
            raise UnknownRegion(
                f"serving region {region!r} has no location in shared.redirect.edge_regions; add it"
            )
    return {region: nearest_region(region, candidates) for region in sorted(REGION_LOCATIONS)}
