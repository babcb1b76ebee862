"""Which links-table stream records make which CloudFront paths stale."""

from __future__ import annotations

from typing import Any

import pytest

from shared.redirect.invalidation import (
    WILDCARD,
    changed_code,
    invalidation_batch,
    paths_for_batch,
    settle_seconds,
)


def _image(**attrs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        out[name] = {"N": str(value)} if isinstance(value, int) else {"S": value}
    return out


def record(
    key: str,
    event: str = "MODIFY",
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"Keys": {"short_code": {"S": key}}}
    if old is not None:
        body["OldImage"] = old
    if new is not None:
        body["NewImage"] = new
    return {"eventID": f"id-{key}", "eventName": event, "dynamodb": body}


LINK = {"original_url": "https://a.example/", "status": "active", "redirect_type": 302}


def test_target_change_invalidates_the_code() -> None:
    r = record("abc1234", old=_image(**LINK), new=_image(**{**LINK, "original_url": "https://b/"}))
    assert changed_code(r) == "abc1234"


@pytest.mark.parametrize(
    "change",
    [{"status": "disabled"}, {"redirect_type": 301}, {"expires_at": 1900000000}],
)
def test_each_redirect_attribute_counts(change: dict[str, Any]) -> None:
    r = record("abc1234", old=_image(**LINK), new=_image(**{**LINK, **change}))
    assert changed_code(r) == "abc1234"


def test_tombstone_and_removal_invalidate() -> None:
    tomb = record("abc1234", old=_image(**LINK), new=_image(status="deleted", deleted_by="u1"))
    assert changed_code(tomb) == "abc1234"
    assert changed_code(record("abc1234", "REMOVE", old=_image(**LINK))) == "abc1234"


def test_click_count_only_change_is_ignored() -> None:
    old = _image(**LINK, click_count=4, version=2)
    new = _image(**LINK, click_count=9, version=2)
    assert changed_code(record("abc1234", old=old, new=new)) is None


def test_title_only_change_is_ignored() -> None:
    old = _image(**LINK, title="a", version=2)
    new = _image(**LINK, title="b", version=3)
    assert changed_code(record("abc1234", old=old, new=new)) is None


@pytest.mark.parametrize(
    "key",
    ["stats#abc1234", "history#abc1234#2", "checkpoint#clicks#shard-1", "idempotency#f00"],
)
def test_non_link_items_are_ignored(key: str) -> None:
    assert changed_code(record(key, "REMOVE", old=_image(status="x"))) is None
    assert changed_code(record(key, old=_image(status="a"), new=_image(status="b"))) is None


def test_new_links_are_not_invalidated() -> None:
    assert changed_code(record("abc1234", "INSERT", new=_image(**LINK))) is None


def _disable(code: str) -> dict[str, Any]:
    return record(code, old=_image(**LINK), new=_image(**{**LINK, "status": "disabled"}))


def test_batch_deduplicates_in_first_seen_order() -> None:
    batch = [_disable("bbb"), _disable("aaa"), _disable("bbb"), record("stats#aaa", "REMOVE")]
    result = paths_for_batch(batch, max_paths=10)
    assert result.paths == ("/bbb", "/aaa")
    assert result.codes == ("bbb", "aaa")
    assert not result.wildcard


def test_batch_at_the_cap_lists_paths_and_beyond_it_uses_the_wildcard() -> None:
    three = [_disable(c) for c in ("c1", "c2", "c3")]
    assert paths_for_batch(three, max_paths=3).paths == ("/c1", "/c2", "/c3")
    over = paths_for_batch(three, max_paths=2)
    assert over.paths == (WILDCARD,) == ("/*",)
    assert over.wildcard
    assert over.codes == ("c1", "c2", "c3")


def test_default_cap_is_100_paths() -> None:
    batch = [_disable(f"c{i}") for i in range(101)]
    assert paths_for_batch(batch[:100]).paths[-1] == "/c99"
    assert paths_for_batch(batch).paths == ("/*",)


def test_batch_without_changes_is_empty() -> None:
    result = paths_for_batch([record("stats#a", "REMOVE")])
    assert result.paths == () and result.codes == ()


def test_invalidation_batch_shape() -> None:
    request = invalidation_batch(paths_for_batch([_disable("abc")]), "ref-1")
    assert request == {"Paths": {"Quantity": 1, "Items": ["/abc"]}, "CallerReference": "ref-1"}


def _at(code: str, created: float) -> dict[str, Any]:
    r = _disable(code)
    r["dynamodb"]["ApproximateCreationDateTime"] = created
    return r


def test_settle_waits_out_the_edge_memory_after_the_newest_change() -> None:
    batch = [_at("a", 1000.0), _at("b", 1010.0)]
    assert settle_seconds(batch, now=1015.0, memory_ttl=30.0) == 25.0
    assert settle_seconds(batch, now=1040.0, memory_ttl=30.0) == 0.0
    assert settle_seconds(batch, now=1000.0, memory_ttl=30.0) == 30.0
    assert settle_seconds([_disable("c")], now=5.0, memory_ttl=30.0) == 0.0
