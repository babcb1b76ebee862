"""The web app (SPEC 10) in Chromium at 1280 px and 375 px, driven by the accessible names the
spec fixes: sign-in by link, create with every option, list, filters, paging, edit, disable,
delete with confirmation, stats, keyboard-only use and an axe scan of every page."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.web.conftest import (
    DESKTOP,
    OTHER_OWNER_KEY,
    PHONE,
    assert_accessible,
    links_table,
    new_code,
    row_of,
    shoot,
    sign_in,
)

pytestmark = pytest.mark.xdist_group("web")


def create(server: Any, **body: Any) -> dict[str, Any]:
    response = server.create({"original_url": "https://example.com/web", **body})
    assert response.status in (200, 201), response.body
    return response.json()


def test_sign_in_link_stores_the_token_and_removes_it_from_the_url(page: Any, web_server: Any):
    sign_in(page, web_server)
    assert "token" not in page.url
    assert page.url.endswith("/app/#/")
    assert page.evaluate("localStorage.getItem('squrl.token')") == web_server.api_key
    # A reload stays signed in.
    page.reload()
    links_table(page).wait_for()
    page.get_by_role("button", name="Sign out").wait_for()
    shoot(page, "links")
    assert_accessible(page)


def test_sign_in_form_refuses_a_wrong_token_readably_then_accepts_a_good_one(
    page: Any, web_server: Any
):
    page.goto(f"{web_server.url}/app/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("document.activeElement.tagName") == "H1"
    shoot(page, "signin")
    assert_accessible(page)
    page.get_by_label("Personal token").fill("not-a-token")
    page.get_by_role("button", name="Use token").click()
    refused = web_server.request("GET", "/urls?limit=1", key="not-a-token").json()["message"]
    page.get_by_role("alert").filter(has_text=refused).wait_for()
    assert page.get_by_label("Personal token").input_value() == "not-a-token"
    page.get_by_label("Personal token").fill(web_server.api_key)
    page.get_by_role("button", name="Use token").click()
    links_table(page).wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("localStorage.getItem('squrl.token')") is None


def test_shorten_with_every_option(page: Any, web_server: Any):
    code = new_code("web")
    sign_in(page, web_server)
    page.get_by_label("Destination URL").fill("https://example.com/every/option")
    page.get_by_label("Title").fill("Every option")
    page.get_by_label("Custom code").fill(code)
    page.get_by_label("Expires in hours").fill("24")
    page.get_by_label("Redirect type").select_option("307")
    page.get_by_label("Tags").fill("launch, web-test")
    before = datetime.now(UTC)
    page.get_by_role("button", name="Shorten").click()
    row = row_of(page, code)
    row.wait_for()
    assert "https://example.com/every/option" in row.inner_text()
    page.get_by_role("status").filter(has_text="Short link created").wait_for()
    # The form is empty again for the next link.
    assert page.get_by_label("Destination URL").input_value() == ""

    stored = web_server.request("GET", f"/urls/{code}").json()
    assert stored["original_url"] == "https://example.com/every/option"
    assert stored["title"] == "Every option"
    assert stored["redirect_type"] == 307
    assert stored["tags"] == ["launch", "web-test"]
    expires = datetime.fromisoformat(stored["expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(hours=24) - timedelta(minutes=1) <= expires
    assert expires <= datetime.now(UTC) + timedelta(hours=24)
    shoot(page, "created")


def test_a_refused_create_shows_the_api_message_and_keeps_the_input(page: Any, web_server: Any):
    sign_in(page, web_server)
    page.get_by_label("Destination URL").fill("javascript:alert(1)")
    page.get_by_label("Title").fill("kept")
    page.get_by_label("Tags").fill("kept-tag")
    page.get_by_role("button", name="Shorten").click()
    expected = web_server.create({"original_url": "javascript:alert(1)"})
    assert expected.status == 400
    message = expected.json()["message"]
    page.get_by_role("alert").filter(has_text=message).wait_for()
    destination = page.get_by_label("Destination URL")
    assert destination.get_attribute("aria-invalid") == "true"
    assert destination.input_value() == "javascript:alert(1)"
    assert page.get_by_label("Title").input_value() == "kept"
    assert page.get_by_label("Tags").input_value() == "kept-tag"
    assert page.evaluate("document.activeElement.name") == "original_url"
    shoot(page, "create-error")
    assert_accessible(page)


def test_a_taken_custom_code_is_a_readable_conflict(page: Any, web_server: Any):
    taken = create(web_server, custom_code=new_code("taken"))["short_code"]
    sign_in(page, web_server)
    page.get_by_label("Destination URL").fill("https://example.com/other")
    page.get_by_label("Custom code").fill(taken)
    page.get_by_role("button", name="Shorten").click()
    message = web_server.create(
        {"original_url": "https://example.com/other", "custom_code": taken}
    ).json()["message"]
    page.get_by_role("alert").filter(has_text=message).wait_for()
    assert page.get_by_label("Custom code").input_value() == taken


def test_edit_sends_only_the_changes_with_if_match(page: Any, web_server: Any):
    link = create(web_server, custom_code=new_code("edit"), tags=["old"], title="Before")
    code = link["short_code"]
    sign_in(page, web_server)
    row_of(page, code).get_by_role("button", name="Edit").click()
    page.get_by_role("heading", name=f"Edit {code}").wait_for()
    assert page.get_by_label("Destination URL").input_value() == link["original_url"]
    shoot(page, "edit")
    assert_accessible(page)
    page.get_by_label("Destination URL").fill("https://example.com/after")
    page.get_by_label("Tags").fill("new, fresh")
    page.get_by_label("Redirect type").select_option("302")
    page.get_by_role("button", name="Save").click()
    row_of(page, code).filter(has_text="https://example.com/after").wait_for()
    stored = web_server.request("GET", f"/urls/{code}").json()
    assert stored["original_url"] == "https://example.com/after"
    assert stored["tags"] == ["fresh", "new"]
    assert stored["redirect_type"] == 302
    assert stored["title"] == "Before"
    assert stored["version"] == 2
    history = web_server.request("GET", f"/urls/{code}/history").json()["items"]
    assert set(history[-1]["changes"]) == {"original_url", "tags", "redirect_type"}


def test_edit_of_a_link_changed_elsewhere_is_refused_and_keeps_the_input(
    page: Any, web_server: Any
):
    code = create(web_server, custom_code=new_code("stale"))["short_code"]
    sign_in(page, web_server)
    page.goto(f"{web_server.url}/app/#/links/{code}/edit")
    page.get_by_label("Destination URL").fill("https://example.com/mine")
    changed = web_server.request("PATCH", f"/urls/{code}", {"title": "elsewhere"})
    assert changed.status == 200
    page.get_by_role("button", name="Save").click()
    page.get_by_role("alert").filter(has_text="changed somewhere else").wait_for()
    assert page.get_by_label("Destination URL").input_value() == "https://example.com/mine"
    stored = web_server.request("GET", f"/urls/{code}").json()
    assert stored["original_url"] == "https://example.com/web"
    assert stored["version"] == 2


def test_disable_then_enable(page: Any, web_server: Any):
    code = create(web_server, custom_code=new_code("dis"))["short_code"]
    sign_in(page, web_server)
    row = row_of(page, code)
    row.get_by_role("button", name="Disable").click()
    row.get_by_role("button", name="Enable").wait_for()
    assert "disabled" in row.inner_text()
    # Focus stays on the control that was used, now named Enable.
    assert page.evaluate("document.activeElement.textContent") == "Enable"
    assert web_server.request("GET", f"/{code}", key=False).status == 410
    row.get_by_role("button", name="Enable").click()
    row.get_by_role("button", name="Disable").wait_for()
    assert web_server.request("GET", f"/urls/{code}").json()["status"] == "active"


def test_delete_asks_first_and_cancel_keeps_the_link(page: Any, web_server: Any):
    code = create(web_server, custom_code=new_code("del"))["short_code"]
    sign_in(page, web_server)
    row_of(page, code).get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert code in dialog.inner_text()
    shoot(page, "delete-dialog", full_page=False)
    assert_accessible(page)
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="detached")
    assert web_server.request("GET", f"/urls/{code}").status == 200
    assert page.evaluate("document.activeElement.textContent") == "Delete"

    row_of(page, code).get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    row_of(page, code).wait_for(state="detached")
    assert web_server.request("GET", f"/urls/{code}").status == 404
    assert web_server.request("GET", f"/{code}", key=False).status == 410


def test_escape_closes_the_delete_dialog_without_deleting(page: Any, web_server: Any):
    code = create(web_server, custom_code=new_code("esc"))["short_code"]
    sign_in(page, web_server)
    row_of(page, code).get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="detached")
    assert web_server.request("GET", f"/urls/{code}").status == 200


def shown_codes(page: Any) -> set[str]:
    return set(links_table(page).locator("tbody tr th a").all_inner_texts())


def test_status_and_tag_filters_and_paging(page: Any, web_server: Any, width: int):
    tag = f"page-{width}-{new_code('')[:6].lower()}"
    codes = {
        create(web_server, original_url=f"https://example.com/p/{i}", tags=[tag])["short_code"]
        for i in range(27)
    }
    disabled = sorted(codes)[0]
    assert web_server.request("PATCH", f"/urls/{disabled}", {"status": "disabled"}).status == 200
    sign_in(page, web_server)
    page.get_by_label("Filter by tag").fill(tag)
    page.get_by_role("button", name="Filter", exact=True).click()
    table = links_table(page)
    # 25 a page, then the other 2; together every link with the tag, once.
    page.get_by_text("Page 1").wait_for()
    table.locator("tbody tr").nth(24).wait_for()
    first = shown_codes(page)
    assert len(first) == 25 and first <= codes
    page.get_by_role("button", name="Next page").click()
    page.get_by_text("Page 2").wait_for()
    second = shown_codes(page)
    assert len(second) == 2
    assert first | second == codes
    assert page.get_by_role("button", name="Next page").is_disabled()
    page.get_by_role("button", name="Previous page").click()
    page.get_by_text("Page 1").wait_for()
    assert shown_codes(page) == first
    page.get_by_label("Status").select_option("disabled")
    row_of(page, disabled).wait_for()
    table.locator("tbody tr").nth(1).wait_for(state="detached")
    assert shown_codes(page) == {disabled}


def test_only_the_callers_links_are_listed(page: Any, web_server: Any):
    mine = create(web_server, custom_code=new_code("mine"))["short_code"]
    theirs = web_server.create(
        {"original_url": "https://example.com/theirs", "custom_code": new_code("theirs")},
        key=OTHER_OWNER_KEY,
    ).json()["short_code"]
    sign_in(page, web_server, OTHER_OWNER_KEY)
    row_of(page, theirs).wait_for()
    assert row_of(page, mine).count() == 0


def wait_for_clicks(server: Any, code: str, humans: int, bots: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        body = server.request("GET", f"/urls/{code}/stats").json()
        if body["click_count"] >= humans and body["bot_clicks"] >= bots:
            return
        assert time.monotonic() < deadline, body
        time.sleep(0.25)


def test_stats_page_with_chart_breakdowns_and_bots_apart(page: Any, web_server: Any):
    code = create(web_server, custom_code=new_code("stats"), redirect_type=302)["short_code"]
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"
    for _ in range(3):
        headers = {
            "User-Agent": iphone,
            "Referer": "https://news.example.org/x",
            "CloudFront-Viewer-Country": "DE",
        }
        assert web_server.request("GET", f"/{code}", headers=headers, key=False).status == 302
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    web_server.request("GET", f"/{code}", headers={"User-Agent": googlebot}, key=False)
    wait_for_clicks(web_server, code, 3, 1)

    sign_in(page, web_server)
    row_of(page, code).get_by_role("link", name=code, exact=True).click()
    page.get_by_role("heading", name="Clicks").wait_for()
    assert page.evaluate("document.activeElement.tagName") == "H1"
    chart = page.get_by_role("img", name="Bar chart of visits per day")
    chart.wait_for()
    assert chart.locator("rect").count() >= 30
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    day_rows = page.get_by_role("table").filter(has_text="Per day").get_by_role("row")
    assert day_rows.filter(has_text=today).filter(has_text="3").count() == 1
    page.get_by_role("row", name="news.example.org 3").wait_for()
    page.get_by_role("row", name="DE 3").wait_for()
    devices = page.get_by_role("region", name="Devices")
    assert devices.get_by_role("row").filter(has_text="3").count() == 1
    bots = page.get_by_role("region", name="Bots")
    assert "1 request came from" in bots.inner_text()
    total = page.get_by_role("region", name="Clicks").inner_text()
    assert "3 visits by people" in total
    assert "1 by bots" in total
    shoot(page, "stats")
    assert_accessible(page)


def test_keyboard_only_create_with_visible_focus(page: Any, web_server: Any):
    code = new_code("keys")
    sign_in(page, web_server)
    page.reload()
    links_table(page).wait_for()
    # Focus starts on the page heading; the next Tab is the first field of the form.
    page.keyboard.press("Tab")
    typed = {
        "Destination URL": "https://example.com/keyboard",
        "Title": "Typed",
        "Custom code": code,
        "Expires in hours": "5",
    }
    for label, text in typed.items():
        assert focused_label(page) == label
        assert_focus_visible(page)
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    assert focused_label(page) == "Redirect type"
    page.keyboard.press("ArrowDown")  # 301 -> 302
    page.keyboard.press("Tab")
    assert focused_label(page) == "Tags"
    page.keyboard.type("keys")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Shorten"
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    row_of(page, code).wait_for()
    # Focus lands on the new short link's box; the next Tab is the link itself.
    assert page.evaluate("document.activeElement.className") == "result"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").endswith(f"/{code}")
    stored = web_server.request("GET", f"/urls/{code}").json()
    assert stored["redirect_type"] == 302
    assert stored["tags"] == ["keys"]
    assert stored["title"] == "Typed"


def focused_label(page: Any) -> str:
    return page.evaluate("document.activeElement.labels?.[0]?.textContent ?? ''")


def assert_focus_visible(page: Any) -> None:
    style = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert style[0] != "none" and style[1] != "0px", style


def test_keyboard_reaches_row_actions_and_the_dialog_in_order(page: Any, web_server: Any):
    code = create(web_server, custom_code=new_code("tab"))["short_code"]
    sign_in(page, web_server)
    row_of(page, code).get_by_role("button", name="Disable").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Delete"
    page.keyboard.press("Enter")
    page.get_by_role("dialog").wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Cancel"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Delete"
    page.keyboard.press("Enter")
    row_of(page, code).wait_for(state="detached")


def test_nothing_is_wider_than_the_screen(page: Any, web_server: Any, width: int):
    create(web_server, original_url="https://example.com/" + "long-path-segment/" * 12)
    sign_in(page, web_server)
    # The rows, not the "Loading" row that stands in for them until the list answers.
    links_table(page).get_by_role("button", name="Delete").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width == PHONE:
        # On a phone the row still shows where the link goes and every action.
        row = links_table(page).locator("tbody tr").first
        row.get_by_role("button", name="Delete").wait_for()
        shoot(page, "links-phone", full_page=False)


def test_loads_are_retried_and_failures_offer_a_retry(page: Any, web_server: Any, width: int):
    if width != DESKTOP:
        pytest.skip("one width is enough for network behaviour")
    sign_in(page, web_server)
    failures = {"left": 2}

    def flaky(route: Any) -> None:
        if route.request.method == "GET" and failures["left"] > 0:
            failures["left"] -= 1
            route.fulfill(
                status=503,
                content_type="application/json",
                body='{"error":"InternalServerError","message":"down","details":null}',
            )
        else:
            route.continue_()

    page.route("**/urls?*", flaky)
    page.get_by_role("button", name="Filter", exact=True).click()
    links_table(page).locator("tbody tr th a").first.wait_for()
    assert failures["left"] == 0
    assert page.get_by_role("alert").all_inner_texts() == []

    page.unroute("**/urls?*")
    page.route("**/urls?*", lambda route: route.abort())
    page.get_by_role("button", name="Filter", exact=True).click()
    alert = page.get_by_role("alert").filter(has_text="could not be reached")
    alert.wait_for()
    page.unroute("**/urls?*")
    alert.get_by_role("button", name="Try again").click()
    alert.wait_for(state="detached")
    assert links_table(page).locator("tbody tr").count() >= 1


def test_a_lost_create_answer_is_retried_without_a_second_link(
    page: Any, web_server: Any, width: int
):
    if width != DESKTOP:
        pytest.skip("one width is enough for network behaviour")
    code = new_code("idem")
    sign_in(page, web_server)
    seen: list[str | None] = []

    def lose_first_answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        seen.append(route.request.headers.get("idempotency-key"))
        response = route.fetch()
        if len(seen) == 1:
            route.fulfill(status=503, body="")
        else:
            route.fulfill(response=response)

    page.route("**/urls", lose_first_answer)
    page.get_by_label("Destination URL").fill("https://example.com/idempotent")
    page.get_by_label("Custom code").fill(code)
    page.get_by_role("button", name="Shorten").click()
    row_of(page, code).wait_for()
    assert len(seen) == 2 and seen[0] == seen[1] and seen[0]
    assert page.get_by_role("alert").count() == 0


def test_a_sign_in_the_api_refuses_returns_to_the_sign_in_page(page: Any, web_server: Any):
    page.goto(f"{web_server.url}/app/#token=revoked-or-wrong")
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_role("alert").filter(has_text="Sign in again").wait_for()


def test_a_bad_expiry_reaches_the_api_and_its_message_names_the_field(page: Any, web_server: Any):
    sign_in(page, web_server)
    page.get_by_label("Destination URL").fill("https://example.com/expiry")
    page.get_by_label("Expires in hours").fill("87601")
    page.get_by_role("button", name="Shorten").click()
    refused = web_server.create({"original_url": "https://example.com/expiry", "ttl_hours": 87601})
    assert refused.status == 400
    body = refused.json()
    page.get_by_role("alert").filter(has_text=body["message"]).wait_for()
    assert body["details"]["field"] == "ttl_hours"
    assert page.get_by_label("Expires in hours").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Expires in hours").input_value() == "87601"


def test_a_filtered_page_that_comes_back_empty_reads_on(page: Any, web_server: Any):
    """The API may answer a filtered page with no items and a cursor (it reads a bounded number
    of links per page, docs/design.md): the app follows the cursor instead of saying nothing
    matches."""
    tag = f"hop-{new_code('')[:6].lower()}"
    code = create(web_server, original_url="https://example.com/hop", tags=[tag])["short_code"]
    hops: list[str] = []

    def empty_first(route: Any) -> None:
        url = route.request.url
        if f"tag={tag}" not in url:
            route.continue_()
        elif "cursor=" not in url:
            hops.append("empty")
            route.fulfill(json={"items": [], "next_cursor": "read-on"}, status=200)
        else:
            hops.append("real")
            route.fulfill(response=route.fetch(url=url.replace("&cursor=read-on", "")))

    page.route("**/urls?*", empty_first)
    sign_in(page, web_server)
    page.get_by_label("Filter by tag").fill(tag)
    page.get_by_role("button", name="Filter", exact=True).click()
    row_of(page, code).wait_for()
    assert hops == ["empty", "real"]
    assert page.get_by_text("No links match these filters.").count() == 0


def test_the_sign_in_page_shows_no_stray_text(page: Any, web_server: Any):
    page.goto(f"{web_server.url}/app/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert "null" not in page.locator("main").inner_text()
    page.goto(f"{web_server.url}/app/#token=squrl_not_a_token")
    page.get_by_role("alert").first.wait_for()
    assert "null" not in page.locator("main").inner_text()
