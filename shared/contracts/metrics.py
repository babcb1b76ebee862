"""squrl's own metrics: the EMF namespace, the service dimension and every metric name.

The functions emit them through Powertools; the dashboards and alarms read them by these names.
"""

from __future__ import annotations

NAMESPACE = "Squrl"
SERVICE = "squrl"

# create_url
LINKS_CREATED = "LinksCreated"
LINKS_DEDUPLICATED = "LinksDeduplicated"

# click_consumer
CLICK_RECORDS = "ClickRecords"
HUMAN_CLICKS = "HumanClicks"
BOT_CLICKS = "BotClicks"
DUPLICATE_CLICKS = "DuplicateClicks"
POISON_RECORDS = "PoisonRecords"
CLICKS_FOR_MISSING_LINKS = "ClicksForMissingLinks"
REDELIVERED_RECORDS = "RedeliveredRecords"
COUNTER_ITEM_WRITES = "CounterItemWrites"
FAILED_BATCHES = "FailedBatches"

# invalidator
INVALIDATED_PATHS = "InvalidatedPaths"
WILDCARD_INVALIDATIONS = "WildcardInvalidations"

# click_lake
LAKE_RECORDS_DROPPED = "LakeRecordsDropped"

# What the API functions report, and what the click pipeline reports, for dashboards and alarms.
API_BUSINESS_METRICS = (LINKS_CREATED, LINKS_DEDUPLICATED)
CLICK_BUSINESS_METRICS = (
    HUMAN_CLICKS,
    BOT_CLICKS,
    POISON_RECORDS,
    DUPLICATE_CLICKS,
    LAKE_RECORDS_DROPPED,
)
