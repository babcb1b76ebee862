"""docs/api.md section 7 against moto: title and tags, PATCH, DELETE and tombstones, history,
versions and If-Match, and the races of every conditional write."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.contracts import table
from shared.links import repository, service
from shared.links.errors import NotFound, PreconditionFailed
from shared.links.models import UpdateLinkRequest
from shared.redirect.core import Redirector
from shared.redirect.edge_cache import LookupCache
from shared.settings import settings
from tests.unit.links_client import (
    OTHER,
    TABLE,
    call,
    create,
    delete,
    follow,
    get,
    history,
    listing,
    make,
    patch,
    stored,
    use_moto,
)

FIELDS = {
    "short_code",
    "original_url",
    "short_url",
    "created_at",
    "expires_at",
    "redirect_type",
    "status",
    "click_count",
    "title",
    "tags",
    "updated_at",
    "version",
}


@pytest.fixture(autouse=True)
def _moto(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_moto(dynamodb, monkeypatch)


def keys(dynamodb: Any) -> set[str]:
    return {i["short_code"]["S"] for i in dynamodb.scan(TableName=TABLE)["Items"]}


def history_keys(dynamodb: Any, code: str) -> set[str]:
    return {key for key in keys(dynamodb) if key.startswith(f"history#{code}#")}


def expire_now(dynamodb: Any, code: str) -> None:
    dynamodb.update_item(
        TableName=TABLE,
        Key={"short_code": {"S": code}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 10)}},
    )


def add_clicks(dynamodb: Any, code: str, clicks: int) -> None:
    """What the click consumer does: ADD to the link's counter, never reading it."""
    dynamodb.update_item(
        TableName=TABLE,
        Key={"short_code": {"S": code}},
        UpdateExpression="ADD click_count :n",
        ExpressionAttributeValues={":n": {"N": str(clicks)}},
    )


# Title, tags and the representation -----------------------------------------------------------


def test_create_takes_title_and_tags_and_every_representation_has_section_7s_fields(
    dynamodb: Any,
) -> None:
    link = make(title="Spring sale", tags=["promo", "2026", "promo", "a-b"])
    assert set(link) == FIELDS
    assert link["title"] == "Spring sale"
    assert link["tags"] == ["2026", "a-b", "promo"]  # sorted, unique
    assert link["version"] == 1 and link["updated_at"] == link["created_at"]
    assert link["status"] == "active" and link["click_count"] == 0
    item = stored(dynamodb, link["short_code"])
    assert item is not None and item["tags"] == ["2026", "a-b", "promo"]
    shown = get(link["short_code"])
    assert shown.body == link and shown.headers["ETag"] == '"1"'
    listed = listing().body["items"]
    assert listed == [link]


def test_a_link_without_title_or_tags_shows_null_and_empty(dynamodb: Any) -> None:
    link = make()
    assert link["title"] is None and link["tags"] == []
    # title may be given as null on create: it is the value "no title".
    assert create({"original_url": "https://example.com/n", "title": None}).status == 201


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"title": "x" * 201}, "title", "too_long"),
        ({"title": 5}, "title", "type"),
        ({"tags": "promo"}, "tags", "type"),
        ({"tags": None}, "tags", "type"),
        ({"tags": ["Promo"]}, "tags", "format"),
        ({"tags": [""]}, "tags", "format"),
        ({"tags": ["a" * 33]}, "tags", "format"),
        ({"tags": ["a_b"]}, "tags", "format"),
        ({"tags": [1]}, "tags", "type"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags", "too_many"),
    ],
)
def test_bad_title_or_tags_on_create_store_nothing(
    dynamodb: Any, body: dict[str, Any], field: str, reason: str
) -> None:
    reply = create({"original_url": "https://example.com/", **body})
    assert reply.status == 400 and reply.error == "ValidationError"
    assert reply.body["details"] == {"reason": reason, "field": field}
    assert keys(dynamodb) == set()


def test_title_and_tag_limits_are_inclusive(dynamodb: Any) -> None:
    link = make(title="x" * 200, tags=["a" * 32] + [f"t{i}" for i in range(9)])
    assert len(link["title"]) == 200 and len(link["tags"]) == 10


def test_deduplication_asks_for_the_same_title_and_tags(dynamodb: Any) -> None:
    url = "https://dedup.example/"
    first = make(url, title="One", tags=["x"])
    again = create({"original_url": url, "title": "One", "tags": ["x", "x"]})
    assert again.status == 200 and again.body["short_code"] == first["short_code"]
    assert create({"original_url": url, "title": "Two", "tags": ["x"]}).status == 201
    assert create({"original_url": url, "title": "One"}).status == 201


# PATCH -----------------------------------------------------------------------------------------


def test_patch_changes_each_field_and_answers_the_whole_link(dynamodb: Any) -> None:
    code = make("https://example.com/old")["short_code"]
    before = time.time()
    reply = patch(
        code,
        {
            "original_url": "HTTPS://Example.COM/new",
            "redirect_type": 307,
            "ttl_hours": 2,
            "status": "disabled",
            "title": "New title",
            "tags": ["b", "a"],
        },
    )
    after = time.time()
    assert reply.status == 200 and set(reply.body) == FIELDS
    assert reply.headers["ETag"] == '"2"'
    link = reply.body
    assert link["original_url"] == "https://example.com/new"
    assert (link["redirect_type"], link["status"], link["title"], link["tags"]) == (
        307,
        "disabled",
        "New title",
        ["a", "b"],
    )
    assert link["version"] == 2
    item = stored(dynamodb, code)
    assert item is not None
    assert int(before) + 7200 <= item["expires_at"] <= int(after) + 7200
    assert get(code).body == link


def test_patch_expiry_by_time_or_never(dynamodb: Any) -> None:
    code = make(ttl_hours=1)["short_code"]
    reply = patch(code, {"expires_at": "2099-01-31T12:00:00Z"})
    # 2099 is more than 87600 hours away: refused like ttl_hours would be.
    assert reply.status == 400 and reply.body["details"]["reason"] == "out_of_range"
    target = time.gmtime(time.time() + 30 * 86400)
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", target)
    reply = patch(code, {"expires_at": text})
    assert reply.status == 200 and reply.body["expires_at"] == text
    assert patch(code, {"expires_at": text.replace("Z", ".250+00:00")}).body["version"] == 2
    never = patch(code, {"expires_at": None})
    assert never.status == 200 and never.body["expires_at"] is None
    item = stored(dynamodb, code)
    assert item is not None and "expires_at" not in item
    cleared = patch(code, {"title": "t"}).body
    assert patch(code, {"title": None}).body["title"] is None
    assert cleared["version"] + 1 == get(code).body["version"]


@pytest.mark.parametrize(
    ("body", "error", "reason"),
    [
        ({}, "ValidationError", "empty"),
        ({"nope": 1}, "ValidationError", "unknown_field"),
        ({"custom_code": "abc"}, "ValidationError", "unknown_field"),
        ({"ttl_hours": 1, "expires_at": None}, "ValidationError", "exclusive"),
        ({"ttl_hours": 0}, "ValidationError", "out_of_range"),
        ({"ttl_hours": None}, "ValidationError", "type"),
        ({"redirect_type": 303}, "ValidationError", "not_allowed"),
        ({"redirect_type": None}, "ValidationError", "type"),
        ({"status": "expired"}, "ValidationError", "not_allowed"),
        ({"status": "deleted"}, "ValidationError", "not_allowed"),
        ({"status": None}, "ValidationError", "type"),
        ({"original_url": None}, "ValidationError", "type"),
        ({"expires_at": "2030-01-01"}, "ValidationError", "format"),
        ({"expires_at": "2030-01-01T00:00:00+02:00"}, "ValidationError", "format"),
        ({"expires_at": "2030-02-30T00:00:00Z"}, "ValidationError", "format"),
        ({"expires_at": 1893456000}, "ValidationError", "type"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "ValidationError", "not_in_future"),
        ({"title": "x" * 201}, "ValidationError", "too_long"),
        ({"tags": ["UPPER"]}, "ValidationError", "format"),
        ({"original_url": "javascript:alert(1)"}, "InvalidUrl", "invalid_scheme"),
        ({"original_url": "http://127.1/"}, "InvalidUrl", "private_address"),
        ({"original_url": "https://sq.example.com/x"}, "InvalidUrl", "self_reference"),
        ({"original_url": "https://a.evil.test/"}, "InvalidUrl", "blocked_domain"),
        (b"{not json", "ValidationError", "invalid_json"),
        (b"[]", "ValidationError", "not_an_object"),
    ],
)
def test_bad_patches_are_refused_and_change_nothing(
    dynamodb: Any, body: Any, error: str, reason: str
) -> None:
    code = make()["short_code"]
    before = stored(dynamodb, code)
    reply = patch(code, body)
    assert reply.status == 400 and reply.error == error
    assert reply.body["details"]["reason"] == reason
    assert stored(dynamodb, code) == before
    assert history_keys(dynamodb, code) == {f"history#{code}#1"}


def test_a_patch_body_over_8_kib_is_413(dynamodb: Any) -> None:
    code = make()["short_code"]
    reply = patch(code, {"title": "x" * 9000})
    assert reply.status == 413 and reply.error == "PayloadTooLarge"


def test_a_patch_that_changes_nothing_stores_nothing(dynamodb: Any) -> None:
    code = make(title="Same", tags=["a"])["short_code"]
    reply = patch(code, {"title": "Same", "tags": ["a", "a"], "status": "active"})
    assert reply.status == 200 and reply.body["version"] == 1
    assert history_keys(dynamodb, code) == {f"history#{code}#1"}


def test_each_change_adds_one_to_the_version(dynamodb: Any) -> None:
    code = make()["short_code"]
    for expected, title in enumerate(["a", "b", "c"], start=2):
        reply = patch(code, {"title": title})
        assert reply.body["version"] == expected and reply.headers["ETag"] == f'"{expected}"'
    assert get(code).headers["ETag"] == '"4"'


def test_the_regional_redirect_sees_a_change_at_once(dynamodb: Any) -> None:
    code = make("https://example.com/before")["short_code"]
    assert follow(code)["headers"]["Location"] == "https://example.com/before"
    patch(code, {"original_url": "https://example.com/after", "redirect_type": 302})
    answer = follow(code)
    assert answer["statusCode"] == 302
    assert answer["headers"]["Location"] == "https://example.com/after"
    patch(code, {"status": "disabled"})
    gone = follow(code)
    assert gone["statusCode"] == 410 and "disabled" in json.loads(gone["body"])["message"]
    patch(code, {"status": "active"})
    assert follow(code)["statusCode"] == 302


def test_an_expired_link_is_revived_by_a_new_expiry(dynamodb: Any) -> None:
    code = make(ttl_hours=1)["short_code"]
    expire_now(dynamodb, code)
    assert get(code).body["status"] == "expired" and follow(code)["statusCode"] == 410
    # Anything else may change, but it stays expired.
    assert patch(code, {"status": "active"}).body["status"] == "expired"
    revived = patch(code, {"ttl_hours": 24})
    assert revived.status == 200 and revived.body["status"] == "active"
    assert follow(code)["statusCode"] == 301


def test_an_edited_link_is_deduplicated_by_its_new_url_only(dynamodb: Any) -> None:
    code = make("https://old.example/")["short_code"]
    patch(code, {"original_url": "https://new.example/"})
    by_new = create({"original_url": "https://new.example/"})
    assert by_new.status == 200 and by_new.body["short_code"] == code
    by_old = create({"original_url": "https://old.example/"})
    assert by_old.status == 201 and by_old.body["short_code"] != code


def test_a_stale_index_entry_for_the_old_url_is_not_reused(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dedup index is eventually consistent: just after an edit it may still list the link
    # under its old URL. The item itself decides.
    code = make("https://old.example/")["short_code"]
    patch(code, {"original_url": "https://new.example/"})
    monkeypatch.setattr(repository, "reusable_codes", lambda *a, **k: iter([code]))
    reply = create({"original_url": "https://old.example/"})
    assert reply.status == 201 and reply.body["short_code"] != code


def test_clicks_counted_during_an_edit_are_kept(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = make()["short_code"]
    add_clicks(dynamodb, code, 5)
    real_get = repository.get_link

    def read_then_click(*args: Any, **kwargs: Any) -> Any:
        item = real_get(*args, **kwargs)
        add_clicks(dynamodb, code, 3)  # the consumer counts between the read and the write
        return item

    monkeypatch.setattr(repository, "get_link", read_then_click)
    assert patch(code, {"title": "t"}).status == 200
    monkeypatch.setattr(repository, "get_link", real_get)
    item = stored(dynamodb, code)
    assert item is not None and item["click_count"] == 8 and item["title"] == "t"


def test_a_link_stored_before_versions_counts_as_version_1(dynamodb: Any) -> None:
    dynamodb.put_item(
        TableName=TABLE,
        Item=repository.to_item(
            {
                "short_code": "legacy1",
                "original_url": "https://legacy.example/",
                "created_at": "2025-01-01T00:00:00Z",
                "click_count": 0,
                "custom_code": True,
                "status": "active",
                "redirect_type": 301,
                "owner_id": "owner-1",
            }
        ),
    )
    shown = get("legacy1")
    assert shown.body["version"] == 1 and shown.headers["ETag"] == '"1"'
    assert shown.body["updated_at"] == "2025-01-01T00:00:00Z"
    assert shown.body["title"] is None and shown.body["tags"] == []
    assert history("legacy1").body == {"items": []}
    assert patch("legacy1", {"title": "x"}, headers={"If-Match": '"2"'}).status == 412
    assert patch("legacy1", {"title": "x"}, headers={"If-Match": '"1"'}).body["version"] == 2
    assert [e["action"] for e in history("legacy1").body["items"]] == ["updated"]
    assert listing().body["items"][0]["short_code"] == "legacy1"


# If-Match --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ('"1"', 200),
        ('"2"', 412),
        ('"0", "1"', 200),
        ("*", 200),
        ('W/"1"', 412),
        ('"abc"', 412),
        ("1", 400),
        ('"1', 400),
        ("", 400),
    ],
)
def test_if_match(dynamodb: Any, if_match: str, status: int) -> None:
    code = make()["short_code"]
    reply = patch(code, {"title": "t"}, headers={"If-Match": if_match})
    assert reply.status == status
    if status == 412:
        assert reply.error == "PreconditionFailed" and reply.body["details"] == {"version": 1}
    if status != 200:
        assert get(code).body["version"] == 1
        assert history_keys(dynamodb, code) == {f"history#{code}#1"}


def test_a_stale_if_match_is_412_and_changes_nothing(dynamodb: Any) -> None:
    code = make()["short_code"]
    etag = get(code).headers["ETag"]
    assert patch(code, {"title": "first"}, headers={"If-Match": etag}).status == 200
    stale = patch(code, {"title": "second"}, headers={"if-match": etag})
    assert stale.status == 412
    assert get(code).body["title"] == "first"
    assert delete(code, headers={"If-Match": etag}).status == 412
    assert get(code).status == 200
    assert delete(code, headers={"If-Match": '"2"'}).status == 204


# DELETE and tombstones -------------------------------------------------------------------------


def test_delete_leaves_a_tombstone_that_answers_410(dynamodb: Any) -> None:
    link = make("https://deleted.example/", ttl_hours=5, custom_code="byebye", tags=["x"])
    code = link["short_code"]
    dynamodb.put_item(
        TableName=TABLE,
        Item={"short_code": {"S": table.stats_key(code)}, "d:2026-01-01": {"N": "3"}},
    )
    reply = delete(code)
    assert reply.status == 204 and reply.body is None
    tombstone = stored(dynamodb, code)
    assert tombstone is not None
    assert tombstone["status"] == "deleted" and tombstone["version"] == 2
    # No URL (not in the dedup index), no owner key (not in the owner index), no expiry (TTL
    # never removes it), no counters.
    for attribute in ("original_url", "owner_id", "expires_at", "click_count", "title", "tags"):
        assert attribute not in tombstone
    assert stored(dynamodb, table.stats_key(code)) is None
    gone = follow(code)
    assert gone["statusCode"] == 410
    assert json.loads(gone["body"])["message"] == "This link was deleted."
    page = follow(code, accept="text/html")
    assert page["statusCode"] == 410 and page["headers"]["Content-Type"].startswith("text/html")
    assert get(code).status == 404
    assert call("GET", f"/urls/{code}/stats").status == 404
    assert patch(code, {"title": "x"}).status == 404
    assert delete(code).status == 404
    assert listing().body["items"] == []
    by_url = dynamodb.query(
        TableName=TABLE,
        IndexName=table.DEDUP_INDEX,
        KeyConditionExpression="original_url = :u",
        ExpressionAttributeValues={":u": {"S": "https://deleted.example/"}},
    )
    assert by_url["Items"] == []


def test_the_edge_path_answers_a_tombstone_410(dynamodb: Any) -> None:
    code = make()["short_code"]
    edge = Redirector(dynamodb, TABLE, LookupCache())
    assert edge.answer(code, time.time(), None).status == 301
    edge.cache.clear()  # type: ignore[union-attr]
    delete(code)
    assert edge.answer(code, time.time(), None).status == 410


def test_the_redirect_reads_a_tombstone_with_one_projected_get(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = make()["short_code"]
    delete(code)
    calls: list[dict[str, Any]] = []
    real_get_item = dynamodb.get_item

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real_get_item(**kwargs)

    def no_write(**_: Any) -> Any:
        pytest.fail("the redirect wrote to the table")

    monkeypatch.setattr(dynamodb, "get_item", spy)
    for write in ("put_item", "update_item", "delete_item", "transact_write_items"):
        monkeypatch.setattr(dynamodb, write, no_write)
    assert follow(code)["statusCode"] == 410
    assert len(calls) == 1
    assert calls[0]["ConsistentRead"] is False and "ProjectionExpression" in calls[0]


def test_a_deleted_code_is_never_assigned_again(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(custom_code="taken1")
    delete("taken1")
    asked = create({"original_url": "https://new.example/", "custom_code": "taken1"})
    assert asked.status == 409 and asked.error == "ConflictError"
    generated = make()["short_code"]
    delete(generated)
    codes = iter([generated, "taken1", "Fresh123"])
    monkeypatch.setattr(service, "generate_code", lambda length: next(codes))
    fresh = create({"original_url": "https://other.example/"})
    assert fresh.status == 201 and fresh.body["short_code"] == "Fresh123"
    for code in (generated, "taken1"):
        tombstone = stored(dynamodb, code)
        assert tombstone is not None and tombstone["status"] == "deleted"
        assert follow(code)["statusCode"] == 410


def test_a_deleted_link_is_never_deduplicated_to(dynamodb: Any) -> None:
    code = make("https://again.example/")["short_code"]
    delete(code)
    again = create({"original_url": "https://again.example/"})
    assert again.status == 201 and again.body["short_code"] != code


# History ---------------------------------------------------------------------------------------


def test_history_is_oldest_first_with_actor_action_and_changes(dynamodb: Any) -> None:
    code = make("https://h.example/", title="T")["short_code"]
    patch(code, {"title": "T2", "tags": ["x"]})
    patch(code, {"status": "disabled"})
    delete(code)
    items = history(code).body["items"]
    assert [entry["action"] for entry in items] == ["created", "updated", "updated", "deleted"]
    assert all(entry["actor"] == "owner-1" for entry in items)
    assert all(set(entry) == {"at", "actor", "action", "changes"} for entry in items)
    assert all(entry["at"].endswith("Z") and len(entry["at"]) == 20 for entry in items)
    assert items[0]["changes"] == {
        "original_url": [None, "https://h.example/"],
        "redirect_type": [None, 301],
        "status": [None, "active"],
        "title": [None, "T"],
    }
    assert items[1]["changes"] == {"title": ["T", "T2"], "tags": [[], ["x"]]}
    assert items[2]["changes"] == {"status": ["active", "disabled"]}
    assert items[3]["changes"]["status"] == ["disabled", "deleted"]
    assert items[3]["changes"]["original_url"] == ["https://h.example/", None]


def test_history_is_one_item_per_version_and_reads_past_100(dynamodb: Any) -> None:
    code = make()["short_code"]
    for n in range(2, 106):
        assert patch(code, {"title": f"t{n}"}).status == 200
    assert history_keys(dynamodb, code) == {f"history#{code}#{n}" for n in range(1, 106)}
    items = history(code).body["items"]
    assert len(items) == 105
    assert [e["changes"]["title"][1] for e in items[1:]] == [f"t{n}" for n in range(2, 106)]
    # The link item does not grow with its history.
    item = stored(dynamodb, code)
    assert item is not None and len(json.dumps(item)) < 1000


def test_history_survives_unprocessed_keys(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    code = make()["short_code"]
    patch(code, {"title": "a"})
    real = dynamodb.batch_get_item
    held_back = [True]

    def partial(**kwargs: Any) -> Any:
        request = kwargs["RequestItems"][TABLE]
        if held_back[0] and len(request["Keys"]) > 1:
            held_back[0] = False
            first, rest = request["Keys"][:1], request["Keys"][1:]
            response = real(RequestItems={TABLE: {**request, "Keys": first}})
            response["UnprocessedKeys"] = {TABLE: {"Keys": rest}}
            return response
        return real(**kwargs)

    monkeypatch.setattr(dynamodb, "batch_get_item", partial)
    assert [e["action"] for e in history(code).body["items"]] == ["created", "updated"]
    assert held_back == [False]


# Owners ----------------------------------------------------------------------------------------


def test_another_owner_gets_404_for_everything(dynamodb: Any) -> None:
    link = make(title="mine")
    code = link["short_code"]
    for reply in (
        get(code, owner=OTHER),
        call("GET", f"/urls/{code}/stats", owner=OTHER),
        history(code, owner=OTHER),
        patch(code, {"title": "theirs"}, owner=OTHER),
        patch(code, {"title": "theirs"}, owner=OTHER, headers={"If-Match": '"1"'}),
        delete(code, owner=OTHER),
        delete(code, owner=OTHER, headers={"If-Match": "*"}),
    ):
        assert reply.status == 404 and reply.error == "NotFound"
    assert listing(owner=OTHER).body == {"items": [], "next_cursor": None}
    assert get(code).body == link
    delete(code)
    assert history(code, owner=OTHER).status == 404
    assert history(code).status == 200


@pytest.mark.parametrize("code", ["zzzzzzzz", "a" * 30, "bad.code"])
def test_unknown_or_impossible_codes_are_404(dynamodb: Any, code: str) -> None:
    for reply in (history(code), patch(code, {"title": "x"}), delete(code)):
        assert reply.status == 404


# Races -----------------------------------------------------------------------------------------


def both_read_first(monkeypatch: pytest.MonkeyPatch, parties: int = 2) -> None:
    """Every racing thread's first read of a link waits for the others' first reads, so all of
    them act on the same version: the conditional writes decide."""
    barrier = threading.Barrier(parties, timeout=10)
    seen = threading.local()
    real = repository.get_link

    def read(*args: Any, **kwargs: Any) -> Any:
        item = real(*args, **kwargs)
        racing = threading.current_thread() is not threading.main_thread()
        if racing and not getattr(seen, "done", False):
            seen.done = True
            barrier.wait()
        return item

    monkeypatch.setattr(repository, "get_link", read)


def run_together(*actions: Callable[[], Any]) -> list[Any]:
    def outcome(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except (PreconditionFailed, NotFound) as error:
            return error.status

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(outcome, actions))


def patch_action(
    dynamodb: Any, code: str, body: dict[str, Any], if_match: frozenset[int] | None = None
) -> Callable[[], Any]:
    prepared = service.prepare_patch(
        UpdateLinkRequest.model_validate(body), service.url_policy(settings()), time.time()
    )

    def run() -> Any:
        link = service.update_link(
            dynamodb,
            settings(),
            code,
            prepared,
            owner_id="owner-1",
            if_match=if_match,
            now=time.time(),
        )
        return 200, link

    return run


def delete_action(
    dynamodb: Any, code: str, if_match: frozenset[int] | None = None
) -> Callable[[], Any]:
    def run() -> int:
        service.delete_link(
            dynamodb, settings(), code, owner_id="owner-1", if_match=if_match, now=time.time()
        )
        return 204

    return run


def status_of(result: Any) -> int:
    return result[0] if isinstance(result, tuple) else result


@pytest.fixture
def racing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    both_read_first(monkeypatch)
    yield


def test_two_patches_with_the_same_if_match_one_wins_one_412(dynamodb: Any, racing: None) -> None:
    code = make()["short_code"]
    results = run_together(
        patch_action(dynamodb, code, {"title": "A"}, frozenset({1})),
        patch_action(dynamodb, code, {"title": "B"}, frozenset({1})),
    )
    assert sorted(status_of(r) for r in results) == [200, 412]
    winner = next(r[1] for r in results if isinstance(r, tuple))
    item = stored(dynamodb, code)
    assert item is not None and item["version"] == 2 and item["title"] == winner["title"]
    assert history_keys(dynamodb, code) == {f"history#{code}#1", f"history#{code}#2"}


def test_concurrent_patches_without_if_match_keep_both_changes(dynamodb: Any, racing: None) -> None:
    code = make()["short_code"]
    results = run_together(
        patch_action(dynamodb, code, {"title": "A"}),
        patch_action(dynamodb, code, {"tags": ["b"]}),
    )
    assert [status_of(r) for r in results] == [200, 200]
    item = stored(dynamodb, code)
    assert item is not None
    assert (item["title"], item["tags"], item["version"]) == ("A", ["b"], 3)
    assert history_keys(dynamodb, code) == {f"history#{code}#{n}" for n in (1, 2, 3)}
    changes = [
        e["changes"]
        for e in service.link_history(dynamodb, settings(), code, owner_id="owner-1")["items"][1:]
    ]
    assert sorted(changes, key=str) == sorted(
        [{"title": [None, "A"]}, {"tags": [[], ["b"]]}], key=str
    )


def test_patch_racing_delete(dynamodb: Any, racing: None) -> None:
    code = make()["short_code"]
    results = run_together(
        patch_action(dynamodb, code, {"title": "A"}), delete_action(dynamodb, code)
    )
    patched, deleted = status_of(results[0]), status_of(results[1])
    # The delete always ends in a tombstone: if the patch won, it deletes the patched version.
    assert deleted == 204 and patched in (200, 404)
    tombstone = stored(dynamodb, code)
    assert tombstone is not None and tombstone["status"] == "deleted"
    actions = [e["action"] for e in history(code).body["items"]]
    expected = ["created", "updated", "deleted"] if patched == 200 else ["created", "deleted"]
    assert actions == expected and tombstone["version"] == len(expected)


def test_patch_racing_delete_with_if_match(dynamodb: Any, racing: None) -> None:
    code = make()["short_code"]
    results = run_together(
        patch_action(dynamodb, code, {"title": "A"}, frozenset({1})),
        delete_action(dynamodb, code, frozenset({1})),
    )
    statuses = sorted(status_of(r) for r in results)
    # One wins; the other finds the version moved on (412) or the link gone (404).
    assert statuses in ([200, 412], [204, 404])
    item = stored(dynamodb, code)
    assert item is not None and item["version"] == 2


def test_two_deletes_one_204_one_404(dynamodb: Any, racing: None) -> None:
    code = make()["short_code"]
    results = run_together(delete_action(dynamodb, code), delete_action(dynamodb, code))
    assert sorted(results) == [204, 404]
    assert history_keys(dynamodb, code) == {f"history#{code}#1", f"history#{code}#2"}


def conflict_once(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next transaction is cancelled as DynamoDB cancels one that met another in flight."""
    from botocore.exceptions import ClientError

    real = dynamodb.transact_write_items
    calls: list[int] = []

    def once(**kwargs: Any) -> Any:
        calls.append(len(kwargs["TransactItems"]))
        if len(calls) == 1:
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (
                len(kwargs["TransactItems"]) - 1
            )
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return real(**kwargs)

    monkeypatch.setattr(dynamodb, "transact_write_items", once)
    return calls


def test_a_transaction_conflict_is_tried_again(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = conflict_once(dynamodb, monkeypatch)
    assert create({"original_url": "https://c.example/", "custom_code": "busy1"}).status == 201
    assert len(calls) == 2
    calls = conflict_once(dynamodb, monkeypatch)
    assert patch("busy1", {"title": "t"}).body["version"] == 2
    assert len(calls) == 2
    calls = conflict_once(dynamodb, monkeypatch)
    assert delete("busy1").status == 204 and len(calls) == 2
