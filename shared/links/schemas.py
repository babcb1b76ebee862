"""What the API answers, as pydantic models: the OpenAPI document's response schemas
(shared/links/openapi.py). Handlers build these answers as dicts (link_view, link_stats...); unit
tests validate real answers against these models, so the document cannot drift from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.links.models import MAX_BULK_ITEMS, BulkCreateRequest, CreateLinkRequest

LinkStatus = Literal["active", "disabled", "expired"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(_Answer):
    """Every error body (docs/api.md section 2)."""

    error: str = Field(description="The error code, e.g. ValidationError, NotFound.")
    message: str = Field(description="A sentence for people.")
    details: dict[str, Any] | None = Field(
        description="Machine-readable specifics: `reason`, `field`... or null."
    )


class Link(_Answer):
    """A link as every route shows it (docs/api.md sections 2 and 7)."""

    short_code: str
    original_url: str = Field(description="The normalized destination.")
    short_url: str
    created_at: str = Field(description="ISO 8601 UTC, ending in Z.")
    expires_at: str | None = Field(description="ISO 8601 UTC, or null: never expires.")
    redirect_type: Literal[301, 302, 307, 308]
    status: LinkStatus
    click_count: int = Field(ge=0)
    title: str | None
    tags: list[str]
    updated_at: str
    version: int = Field(ge=1, description="1 at creation, +1 per change; the ETag.")


class LinkPage(_Answer):
    items: list[Link]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: none.")


class HistoryEntry(_Answer):
    at: str
    actor: str = Field(description="The owner id that made the change.")
    action: Literal["created", "updated", "deleted"]
    changes: dict[str, list[Any]] = Field(description="Each changed field as [old, new].")


class History(_Answer):
    items: list[HistoryEntry] = Field(description="Oldest first.")


class DailyClicks(_Answer):
    date: str
    clicks: int


class ReferrerClicks(_Answer):
    domain: str
    clicks: int


class CountryClicks(_Answer):
    country: str
    clicks: int


class DeviceClicks(_Answer):
    device: str
    clicks: int


class LinkStats(_Answer):
    short_code: str
    click_count: int
    bot_clicks: int
    daily: list[DailyClicks]
    referrers: list[ReferrerClicks]
    countries: list[CountryClicks]
    devices: list[DeviceClicks]


class BulkLinkResult(_Answer):
    status: Literal[200, 201] = Field(description="201 created, 200 an existing link reused.")
    link: Link


class BulkErrorResult(_Answer):
    status: int = Field(ge=400, le=599, description="What a single create would have answered.")
    error: Error


class BulkCreateResponse(_Answer):
    results: list[BulkLinkResult | BulkErrorResult] = Field(
        description="One per item, in the order of the request's items."
    )


class BulkCreateBody(BulkCreateRequest):
    """POST /urls/bulk as documented: each item is a create body. (The function checks the
    envelope with BulkCreateRequest, then each item on its own, so a bad item is that item's
    result.)"""

    model_config = ConfigDict(title="BulkCreateRequest")

    items: list[CreateLinkRequest] = Field(  # type: ignore[assignment]
        min_length=1, max_length=MAX_BULK_ITEMS
    )


class Health(_Answer):
    status: Literal["ok"]
    region: str
