"""Each export format's fixture parsed into create bodies (docs/imports.md, docs/api.md 9)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from shared.imports.formats import FORMATS, HeaderError, parse_file
from shared.imports.records import count_records, records
from shared.links.errors import SqurlError
from shared.links.models import CreateLinkRequest
from shared.links.urls import UrlPolicy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
FILES = {
    "csv": "squrl.csv",
    "bitly": "bitly.csv",
    "yourls": "yourls.csv",
    "kutt": "kutt.csv",
    "shlink": "shlink.csv",
    "dub": "dub.csv",
}
NOW = time.time()
POLICY = UrlPolicy.of((), ())


def parsed(fmt: str) -> dict[int, CreateLinkRequest | SqurlError]:
    with (FIXTURES / FILES[fmt]).open("rb") as source:
        return dict(parse_file(fmt, source, NOW, POLICY))


def error_of(result: CreateLinkRequest | SqurlError) -> tuple[str, str]:
    assert isinstance(result, SqurlError), result
    return result.code, (result.details or {}).get("reason", "")


def test_every_format_in_the_spec_has_a_fixture() -> None:
    assert set(FORMATS) == {"csv", "bitly", "yourls", "kutt", "shlink", "dub"} == set(FILES)


def test_squrl_csv_maps_each_column_and_reports_bad_rows_by_line() -> None:
    rows = parsed("csv")
    assert set(rows) == {2, 3, 4, 5, 6, 8, 9, 10, 11}  # line 7 continues line 6's quoted title
    first = rows[2]
    assert isinstance(first, CreateLinkRequest)
    assert (first.custom_code, first.title, first.tags) == (
        "docs-start",
        "Getting started",
        ["docs", "onboarding"],
    )
    pricing = rows[3]
    assert isinstance(pricing, CreateLinkRequest)
    assert (pricing.title, pricing.ttl_hours, pricing.redirect_type) == (
        "Pricing, team plan",
        720,
        302,
    )
    careers = rows[6]
    assert isinstance(careers, CreateLinkRequest)
    assert careers.title == "Careers\n(multi-line title)" and careers.redirect_type == 308
    assert error_of(rows[5]) == ("InvalidUrl", "private_address")
    assert error_of(rows[8]) == ("InvalidUrl", "invalid_scheme")
    assert error_of(rows[9]) == ("ValidationError", "format")  # custom code "ev": 2 characters
    assert error_of(rows[10]) == ("ValidationError", "type")  # ttl_hours "abc"


def test_bitly_back_halves_become_custom_codes_and_tags_are_squrl_tags() -> None:
    rows = parsed("bitly")
    spring = rows[2]
    assert isinstance(spring, CreateLinkRequest)
    assert spring.custom_code == "3Kq9xZt"
    assert spring.original_url.endswith("spring-2026?utm_source=bitly")
    assert spring.tags == ["marketing", "spring-2026"]
    press = rows[3]
    assert isinstance(press, CreateLinkRequest) and press.custom_code == "press-kit-2026"
    assert error_of(rows[5]) == ("InvalidUrl", "private_address")
    webinar = rows[6]
    assert isinstance(webinar, CreateLinkRequest) and webinar.tags == ["events", "webinar"]


def test_yourls_keywords_that_do_not_fit_get_generated_codes() -> None:
    rows = parsed("yourls")
    codes = {line: r.custom_code for line, r in rows.items() if isinstance(r, CreateLinkRequest)}
    # "gh" and "x1" are shorter than 3 characters, "admin" is reserved: generated codes.
    assert codes == {2: None, 3: "roadmap", 4: None, 5: None, 7: "docs_v2"}
    assert error_of(rows[6]) == ("InvalidUrl", "invalid_scheme")


def test_kutt_expiry_becomes_ttl_hours_and_a_past_expiry_fails() -> None:
    rows = parsed("kutt")
    summer = rows[2]
    assert isinstance(summer, CreateLinkRequest)
    assert (summer.custom_code, summer.title, summer.ttl_hours) == (
        "summer",
        "Summer sale landing page",
        None,
    )
    limited = rows[3]
    assert isinstance(limited, CreateLinkRequest) and limited.ttl_hours == 87600  # capped
    assert error_of(rows[4]) == ("ValidationError", "expired")


def test_kutt_expiry_rounds_up_to_whole_hours() -> None:
    soon = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(NOW + 90 * 60))
    data = f"address,target,expire_in\nsoon,https://example.com/s,{soon}\n".encode()
    ((line, request),) = list(parse_file("kutt", io.BytesIO(data), NOW))
    assert line == 2 and isinstance(request, CreateLinkRequest) and request.ttl_hours == 2


def test_shlink_export_tags_split_on_pipes() -> None:
    rows = parsed("shlink")
    migration = rows[3]
    assert isinstance(migration, CreateLinkRequest)
    assert migration.tags == ["blog", "migration-notes"]
    assert error_of(rows[4]) == ("InvalidUrl", "private_address")
    docs = rows[5]
    assert isinstance(docs, CreateLinkRequest) and docs.custom_code is None  # "docs" is reserved


def test_dub_export_keys_titles_and_nulls() -> None:
    rows = parsed("dub")
    launch = rows[2]
    assert isinstance(launch, CreateLinkRequest)
    assert (launch.custom_code, launch.tags) == ("launch-week", ["launch", "product"])
    careers = rows[4]
    assert isinstance(careers, CreateLinkRequest)
    assert careers.title is None and careers.custom_code == "careers"
    assert error_of(rows[5]) == ("InvalidUrl", "credentials")


def test_dub_dashboard_column_labels_are_accepted() -> None:
    data = b"Short link,Destination URL,Title\nhttps://dub.sh/abc-1,https://example.com/a,A\n"
    ((_, request),) = list(parse_file("dub", io.BytesIO(data), NOW))
    assert isinstance(request, CreateLinkRequest)
    assert (request.custom_code, request.original_url) == ("abc-1", "https://example.com/a")


def test_a_header_without_the_url_column_is_refused() -> None:
    with pytest.raises(HeaderError):
        list(parse_file("shlink", io.BytesIO(b"shortCode,title\nabc,x\n"), NOW))


def test_records_know_their_byte_offsets_so_a_reader_can_resume_mid_file() -> None:
    data = (FIXTURES / "squrl.csv").read_bytes()
    every = list(records(io.BytesIO(data)))
    assert every[-1].end == len(data)
    middle = every[5]  # the record on line 6, which spans two lines
    assert (middle.line, every[6].line) == (6, 8)
    resumed = list(records(io.BytesIO(data[middle.end :]), offset=middle.end, line=8))
    assert [(r.line, r.end, r.fields) for r in resumed] == [
        (r.line, r.end, r.fields) for r in every[6:]
    ]


def test_bom_crlf_and_blank_lines() -> None:
    data = b"\xef\xbb\xbforiginal_url\r\nhttps://example.com/a\r\n\r\nhttps://example.com/b\r\n"
    rows = list(parse_file("csv", io.BytesIO(data), NOW))
    assert [line for line, _ in rows] == [2, 4]
    assert count_records(io.BytesIO(data)) == 2


def test_a_row_that_is_not_utf8_fails_with_its_line() -> None:
    data = b"original_url\nhttps://example.com/\xff\nhttps://example.com/ok\n"
    rows = dict(parse_file("csv", io.BytesIO(data), NOW))
    assert error_of(rows[2]) == ("ValidationError", "encoding")
    assert isinstance(rows[3], CreateLinkRequest)


@pytest.mark.parametrize("size", [20_000, 70_000])
def test_a_row_over_the_8_kib_link_limit_is_a_too_long_validation_error(size: int) -> None:
    # A row is one link: over POST /urls's 8 KiB body limit (20 KB), or over the reader's
    # 64 KiB record limit (70 KB), it is ValidationError `too_long`, never PayloadTooLarge.
    big = "https://example.com/" + "a" * size
    data = f"original_url\n{big}\nhttps://example.com/ok\n".encode()
    rows = dict(parse_file("csv", io.BytesIO(data), NOW))
    assert error_of(rows[2]) == ("ValidationError", "too_long")
    assert isinstance(rows[3], CreateLinkRequest)
