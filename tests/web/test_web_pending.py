"""Web app pages that need routes built alongside it: QR codes (`GET /urls/{code}/qr`, SPEC 9)
and personal tokens (`POST/GET /tokens`, `DELETE /tokens/{id}`, SPEC 8). They pass once those
routes are on the local server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import assert_accessible, new_code, shoot, sign_in

pytestmark = pytest.mark.xdist_group("web")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("label", "fmt"), [("Download QR (SVG)", "svg"), ("Download QR (PNG)", "png")]
)
def test_qr_download_with_the_bearer_token(
    page: Any, web_server: Any, label: str, fmt: str
) -> None:
    code = web_server.create(
        {"original_url": "https://example.com/qr", "custom_code": new_code("qr")}
    ).json()["short_code"]
    sign_in(page, web_server)
    page.goto(f"{web_server.url}/app/#/links/{code}")
    page.get_by_role("img", name=f"QR code for the short link {code}").wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    download = info.value
    assert download.suggested_filename == f"{code}.{fmt}"
    data = download.path().read_bytes()
    expected = web_server.request("GET", f"/urls/{code}/qr?format={fmt}")
    assert expected.status == 200
    assert data == expected.body
    if fmt == "png":
        assert data.startswith(PNG_SIGNATURE)
    else:
        assert b"<svg" in data[:500]
    shoot(page, "stats-qr")


def test_tokens_create_show_once_copy_list_and_revoke(page: Any, web_server: Any) -> None:
    name = new_code("cli")
    sign_in(page, web_server)
    page.get_by_role("link", name="Tokens").click()
    page.get_by_role("heading", name="Personal tokens").wait_for()
    page.get_by_label("Token name").fill(name)
    page.get_by_label("Expires in days").fill("30")
    page.get_by_label("Create and change links (links:write)").uncheck()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("New token")
    secret.wait_for()
    token = secret.input_value()
    assert token.startswith("squrl_")
    page.get_by_role("button", name="Copy token").wait_for()
    shoot(page, "tokens")
    assert_accessible(page)

    listed = web_server.request("GET", "/tokens").json()
    items = listed if isinstance(listed, list) else listed["items"]
    mine = next(t for t in items if t["name"] == name)
    assert sorted(mine["scopes"]) == ["links:read", "stats:read"]
    assert "token" not in mine
    row = page.get_by_role("table", name="Your tokens").get_by_role("row").filter(has_text=name)
    row.wait_for()
    # The new token works, within its scopes only.
    assert (
        web_server.request(
            "GET", "/urls?limit=1", key=False, headers={"Authorization": f"Bearer {token}"}
        ).status
        == 200
    )
    refused = web_server.request(
        "POST",
        "/urls",
        {"original_url": "https://example.com/s"},
        key=False,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status == 403

    # Shown once: after a reload only the list remains.
    page.reload()
    row.wait_for()
    assert page.get_by_label("New token").count() == 0
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    row.wait_for(state="detached")
    assert (
        web_server.request(
            "GET", "/urls?limit=1", key=False, headers={"Authorization": f"Bearer {token}"}
        ).status
        == 403
    )
