"""GET /urls (docs/api.md section 7): the owner index, cursors, filters, ties and read cost."""

from __future__ import annotations

import base64
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from shared.contracts import table
from shared.contracts.link_state import iso_utc
from shared.links import repository, service
from tests.unit.links_client import OTHER, TABLE, delete, listing, make, patch, use_moto

# The paging test's size. moto answers each Query by sorting the whole table, so paging N links
# costs O(N^2): 4,000 keeps the test near 20 s on a loaded laptop. SQURL_PAGING_LINKS=10000 runs
# the full figure (docs/design.md, "Link management", has the measurement).
MANY = int(os.environ.get("SQURL_PAGING_LINKS", "4000"))
# Links created within one second tie on created_at: the seeded links share 20 seconds.
SECONDS = 20
START = 1_700_000_000


@pytest.fixture(autouse=True)
def _moto(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_moto(dynamodb, monkeypatch)


def seed(dynamodb: Any, count: int, *, owner: str = "owner-1", **extra: Any) -> list[str]:
    """`count` links of `owner`, stored as a create stores them, `count / SECONDS` a second."""
    codes = [f"s{index:07d}" for index in range(count)]
    per_second = max(1, count // SECONDS)
    for first in range(0, count, 25):
        requests = []
        for index in range(first, min(first + 25, count)):
            created = iso_utc(START + index // per_second)
            values = {
                "short_code": codes[index],
                "original_url": f"https://seed.example/{index}",
                "created_at": created,
                "updated_at": created,
                "click_count": 0,
                "custom_code": False,
                "status": "active",
                "redirect_type": 301,
                "owner_id": owner,
                "tags": [],
                "version": 1,
                **extra,
            }
            requests.append({"PutRequest": {"Item": repository.to_item(values)}})
        dynamodb.batch_write_item(RequestItems={TABLE: requests})
    return codes


def every_page(query: str = "", owner: str = "owner-1") -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        reply = listing(query + suffix, owner=owner)
        assert reply.status == 200, reply.body
        yield reply.body
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return


def test_newest_first_default_limit_and_the_end(dynamodb: Any) -> None:
    seed(dynamodb, 30)
    first = listing().body
    assert len(first["items"]) == 25 and first["next_cursor"] is not None
    created = [item["created_at"] for item in first["items"]]
    assert created == sorted(created, reverse=True)
    rest = listing(f"cursor={first['next_cursor']}").body
    assert len(rest["items"]) == 5 and rest["next_cursor"] is None
    shown = [i["short_code"] for i in first["items"] + rest["items"]]
    assert sorted(shown) == [f"s{i:07d}" for i in range(30)]


def test_a_new_link_comes_first(dynamodb: Any) -> None:
    seed(dynamodb, 3)
    newest = make("https://newest.example/")
    assert listing("limit=1").body["items"] == [newest]


def test_many_links_page_at_limit_100_in_n_over_100_requests_each_exactly_once(
    dynamodb: Any,
) -> None:
    codes = seed(dynamodb, MANY)
    requests, seen, created = 0, [], []
    for page in every_page("limit=100"):
        requests += 1
        assert len(page["items"]) <= 100
        seen.extend(item["short_code"] for item in page["items"])
        created.extend(item["created_at"] for item in page["items"])
    assert requests <= -(-MANY // 100)
    assert len(seen) == MANY and Counter(seen) == Counter(codes)
    assert created == sorted(created, reverse=True)


def test_an_unfiltered_page_reads_only_what_it_returns(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(dynamodb, 250)
    queries: list[dict[str, Any]] = []
    real_query = dynamodb.query

    def counting(**kwargs: Any) -> Any:
        response = real_query(**kwargs, ReturnConsumedCapacity="TOTAL")
        queries.append({"request": kwargs, "read": response["ScannedCount"]})
        return response

    monkeypatch.setattr(dynamodb, "query", counting)
    for limit in (1, 7, 100):
        queries.clear()
        returned = sum(len(page["items"]) for page in every_page(f"limit={limit}"))
        assert returned == 250
        assert sum(q["read"] for q in queries) == returned
        assert all(q["request"]["IndexName"] == table.OWNER_INDEX for q in queries)
        assert all("FilterExpression" not in q["request"] for q in queries)
    monkeypatch.setattr(dynamodb, "scan", lambda **_: pytest.fail("listing scanned the table"))
    listing()


def test_filters_page_without_skipping_or_repeating(dynamodb: Any) -> None:
    seed(dynamodb, 60, tags=["even"])
    seed(dynamodb, 0)
    # Every third link disabled, every fifth expired, tags on some.
    now = int(time.time())
    for index in range(60):
        code = f"s{index:07d}"
        names, values, sets = {}, {}, []
        if index % 3 == 0:
            sets.append("#s = :d")
            names["#s"], values[":d"] = "status", {"S": "disabled"}
        if index % 5 == 0:
            sets.append("expires_at = :past")
            values[":past"] = {"N": str(now - 60)}
        elif index % 7 == 0:
            sets.append("expires_at = :later")
            values[":later"] = {"N": str(now + 3600)}
        if index % 2:
            sets.append("tags = :t")
            values[":t"] = {"L": [{"S": "odd"}]}
        if sets:
            request: dict[str, Any] = {
                "TableName": TABLE,
                "Key": {"short_code": {"S": code}},
                "UpdateExpression": "SET " + ", ".join(sets),
                "ExpressionAttributeValues": values,
            }
            if names:
                request["ExpressionAttributeNames"] = names
            dynamodb.update_item(**request)
    everything = [i for page in every_page("limit=100") for i in page["items"]]
    assert len(everything) == 60
    for query, keep in [
        ("status=active", lambda i: i["status"] == "active"),
        ("status=disabled", lambda i: i["status"] == "disabled"),
        ("status=expired", lambda i: i["status"] == "expired"),
        ("tag=odd", lambda i: "odd" in i["tags"]),
        ("tag=even&status=active", lambda i: "even" in i["tags"] and i["status"] == "active"),
        ("tag=none", lambda i: False),
    ]:
        expected = [i["short_code"] for i in everything if keep(i)]
        for limit in (1, 4, 100):
            shown = [
                i["short_code"]
                for page in every_page(f"{query}&limit={limit}")
                for i in page["items"]
            ]
            assert shown == expected, (query, limit)
    assert {i["status"] for i in everything} == {"active", "disabled", "expired"}


def test_a_filtered_page_reads_a_bounded_amount(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(dynamodb, 2500)
    make("https://match.example/", tags=["rare"])
    seed(dynamodb, 0)
    calls = Counter[str]()
    real_query = dynamodb.query

    def counting(**kwargs: Any) -> Any:
        calls["query"] += 1
        return real_query(**kwargs)

    monkeypatch.setattr(dynamodb, "query", counting)
    pages = []
    for page in every_page("tag=rare&limit=5"):
        pages.append(page)
        assert calls["query"] <= service.MAX_QUERIES_PER_PAGE
        calls.clear()
    # The newest link matches; then the budget runs out twice over the 2,500 older ones, each
    # time answering what it found with a cursor after what it read.
    assert [len(page["items"]) for page in pages] == [1, 0, 0]
    assert pages[0]["items"][0]["tags"] == ["rare"]


def test_deleted_and_other_owners_links_never_appear(dynamodb: Any) -> None:
    kept = make("https://kept.example/")
    gone = make("https://gone.example/")
    make("https://theirs.example/", owner=OTHER)
    delete(gone["short_code"])
    assert [i["short_code"] for i in listing().body["items"]] == [kept["short_code"]]
    assert len(listing(owner=OTHER).body["items"]) == 1


def test_an_edit_shows_in_the_list(dynamodb: Any) -> None:
    code = make()["short_code"]
    patch(code, {"title": "Edited", "tags": ["x"]})
    (item,) = listing("tag=x").body["items"]
    assert item["title"] == "Edited" and item["version"] == 2


def cursor_of(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ("limit=0", "limit", "out_of_range"),
        ("limit=101", "limit", "out_of_range"),
        ("limit=-1", "limit", "out_of_range"),
        ("limit=1.5", "limit", "out_of_range"),
        ("limit=ten", "limit", "out_of_range"),
        ("limit=", "limit", "out_of_range"),
        ("limit=%C2%B2", "limit", "out_of_range"),
        ("status=deleted", "status", "not_allowed"),
        ("status=ACTIVE", "status", "not_allowed"),
        ("tag=Bad_Tag", "tag", "format"),
        ("tag=", "tag", "format"),
        ("cursor=", "cursor", "invalid"),
        ("cursor=not-a-cursor", "cursor", "invalid"),
        ("cursor=" + "A" * 300, "cursor", "invalid"),
        ("cursor=" + cursor_of({"t": "2026-01-01T00:00:00Z"}), "cursor", "invalid"),
        ("cursor=" + cursor_of({"t": "yesterday", "c": "abc"}), "cursor", "invalid"),
        ("cursor=" + cursor_of({"t": "2026-01-01T00:00:00Z", "c": "a.b"}), "cursor", "invalid"),
        ("cursor=" + cursor_of({"t": "2026-01-01T00:00:00Z", "c": 5}), "cursor", "invalid"),
        ("cursor=" + cursor_of(["2026-01-01T00:00:00Z", "abc"]), "cursor", "invalid"),
        (
            "cursor=" + cursor_of({"t": "2026-01-01T00:00:00Z", "c": "abc", "o": "owner-2"}),
            "cursor",
            "invalid",
        ),
        ("sort=asc", "sort", "unknown_field"),
        ("limit=5&limit=6", "limit", "duplicate_field"),
    ],
)
def test_bad_parameters_are_400(dynamodb: Any, query: str, field: str, reason: str) -> None:
    reply = listing(query)
    assert reply.status == 400 and reply.error == "ValidationError"
    assert reply.body["details"] == {"reason": reason, "field": field}


def test_limits_are_inclusive(dynamodb: Any) -> None:
    seed(dynamodb, 101)
    assert len(listing("limit=1").body["items"]) == 1
    assert len(listing("limit=100").body["items"]) == 100


def test_a_cursor_moves_only_within_the_callers_links(dynamodb: Any) -> None:
    seed(dynamodb, 5)
    seed(dynamodb, 0)
    theirs = make("https://theirs.example/", owner=OTHER)
    cursor = listing("limit=2").body["next_cursor"]
    # Another owner's use of the cursor lists their own links from that position.
    later = listing(f"cursor={cursor}", owner=OTHER).body["items"]
    assert all(i["short_code"] == theirs["short_code"] for i in later)
    assert "owner" not in base64.urlsafe_b64decode(cursor + "==").decode()
