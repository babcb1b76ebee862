"""docs/api.md section 3: every rule, every reason, and the normalization the spec names."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.links.errors import InvalidUrl
from shared.links.urls import MAX_URL_LENGTH, UrlPolicy, normalize_url

POLICY = UrlPolicy.of(own_hosts=["sq.example.com"], blocklist=["blocked.example", "evil.test"])


def reason_of(url: str, policy: UrlPolicy = POLICY) -> str:
    with pytest.raises(InvalidUrl) as caught:
        normalize_url(url, policy)
    return caught.value.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://Example.COM", "https://example.com/"),
        ("HTTPS://EXAMPLE.com/Path?Q=1#Frag", "https://example.com/Path?Q=1#Frag"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("http://example.com:443/", "http://example.com:443/"),
        ("https://example.com?q", "https://example.com/?q"),
        ("https://example.com#top", "https://example.com/#top"),
        ("https://münchen.de/", "https://xn--mnchen-3ya.de/"),
        # UTS 46 as browsers apply it: symbols it maps as valid, deviations kept (not
        # transitional), full-width and ideographic dots mapped, punycode checked and kept.
        ("https://i❤.ws/", "https://xn--i-7iq.ws/"),
        ("https://☃.com/", "https://xn--n3h.com/"),
        ("https://XN--N3H.com/", "https://xn--n3h.com/"),
        ("https://faß.de/", "https://xn--fa-hia.de/"),
        ("https://\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0ecom/", "https://example.com/"),
        ("https://例え。テスト/", "https://xn--r8jz45g.xn--zckzah/"),
        ("https://مثال.إختبار/", "https://xn--mgbh0fb.xn--kgbechtv/"),
        ("https://xn--mgbh0fb.com/", "https://xn--mgbh0fb.com/"),
        ("https://a.\u05d0/", "https://a.xn--4db/"),
        ("https://EXAMPLE.com/straße?q=ü#ä", "https://example.com/stra%C3%9Fe?q=%C3%BC#%C3%A4"),
        ("https://example.com/%7Efoo%2f?a=%20", "https://example.com/%7Efoo%2f?a=%20"),
        ("https://example.com/a/../b/./c", "https://example.com/a/../b/./c"),
        ("https://example.com/😀", "https://example.com/%F0%9F%98%80"),
        ("http://8.8.8.8/dns", "http://8.8.8.8/dns"),
        ("http://0x08080808/", "http://8.8.8.8/"),
        ("https://[2606:4700:4700::1111]/", "https://[2606:4700:4700::1111]/"),
        # IPv6 as WHATWG serializes it: lowercase, no leading zeros, the first longest zero run
        # written `::`.
        ("http://[2606:4700:4700:0000:0000:0000:0000:1111]/", "http://[2606:4700:4700::1111]/"),
        ("https://[2001:4860:0:0:1:0:0:8888]/", "https://[2001:4860::1:0:0:8888]/"),
        ("https://[2A00:1450:4001:0:0:0:0:0]:443/", "https://[2a00:1450:4001::]/"),
        ("https://[2a00:1450:0:1:2:3:4:0]:8443/", "https://[2a00:1450:0:1:2:3:4:0]:8443/"),
        ("https://example.com./", "https://example.com./"),
        ("https://example.com/a\\b?q=c\\d#e\\f", "https://example.com/a\\b?q=c\\d#e\\f"),
    ],
)
def test_normalizes_as_browsers_do(raw: str, expected: str) -> None:
    assert normalize_url(raw, POLICY) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "example.com",
        "//example.com/x",
        "/relative/path",
        "https://",
        "https:///path",
        "http:example.com",
        "https:/example.com",
        " https://example.com",
        "https://example.com ",
        "https://exa mple.com",
        "https://example.com/a b",
        "https://example.com/\t",
        "\nhttps://example.com",
        "https://example.com/\x00",
        "https://example.com/\x7f",
        "https://example.com/\u0085",
        "https://example.com/\u00a0",
        "https://example.com/\u2028",
        "https://good.com\\@evil.com",
        "https://example.com\\path",
        "https://a..b.com/",
        "https://-bad-.com/",
        "https://example.com:99999/",
        "https://example.com:80a/",
        "http://256.1.1.1/",
        "http://1.2.3.4.5/",
        "https://[::1/",
        "https://[not-ipv6]/",
        # Zone ids: browsers refuse them, and Python would keep any text there verbatim.
        "http://[2606:4700:4700::1111%€]/",
        "http://[2606:4700:4700::1111%25eth0]/",
        "http://[fe80::1%eth0]/",
        "http://[::1%<script>]/",
        'http://[fe80::1%"onmouseover=alert(1)]/',
        "http://[2606:4700:4700::1111%]/",
        "https://exa<mple.com/",
        # Punycode that does not decode to a valid non-ASCII label, in any case.
        "https://xn--a.com/",
        "https://XN--AB.com/",
        "https://xn--zz.com/",
        "https://xn--.com/",
        "https://xn--abc-.com/",
        "https://xn--n3h-.com/",
        "https://xn---n3h.com/",
        # UTS 46 validity: a leading combining mark, a joiner out of context, mixed bidi.
        "https://\u0301a.com/",
        "https://a\u200db.com/",
        "https://a\u05d0.com/",
        # Once one label is right-to-left, the bidi rule covers every label (IdnaTestV2 B1).
        "https://0\u00e0.\u05d0/",
        "https://0a.\u05d0/",
    ],
)
def test_malformed(raw: str) -> None:
    assert reason_of(raw) == "malformed"


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "ftp://example.com/file",
        "FTP://example.com/file",
        "ws://example.com/",
        "mailto:someone@example.com",
    ],
)
def test_invalid_scheme(raw: str) -> None:
    assert reason_of(raw) == "invalid_scheme"


def test_too_long_counts_the_normalized_form() -> None:
    base = "https://example.com/"
    fits = base + "a" * (MAX_URL_LENGTH - len(base))
    assert normalize_url(fits, POLICY) == fits
    assert reason_of(fits + "a") == "too_long"
    # One non-ASCII character becomes nine ASCII characters (%XX%XX%XX), pushing it over.
    assert reason_of(base + "a" * (MAX_URL_LENGTH - len(base) - 2) + "€") == "too_long"


@pytest.mark.parametrize(
    "raw",
    ["https://a@b.com", "https://u:p@h.com/", "https://user@example.com:8080/", "https://@x.com/"],
)
def test_credentials(raw: str) -> None:
    assert reason_of(raw) == "credentials"


@pytest.mark.parametrize(
    "raw",
    [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::1]/",
        "http://[::]/",
        "http://0.0.0.0/",
        "http://0/",
        "http://localhost/",
        "http://LOCALHOST:8080/",
        "http://localhost./",
        "http://api.localhost/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://239.255.255.250/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fec0::1]/",
        "http://[FEFF::1]/",
        "http://[ff02::1]/",
        "http://[2001:db8::1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[2002:c0a8:101::]/",
        "http://[::127.0.0.1]/",
        "http://[::ffff:0:127.0.0.1]/",
        # Embedding forms are refused even around a public address (docs/design.md).
        "http://[::ffff:8.8.8.8]/",
        "http://[64:ff9b::808:808]/",
        "http://[2002:808:808::1]/",
    ],
)
def test_private_address_in_any_spelling(raw: str) -> None:
    assert reason_of(raw) == "private_address"


@pytest.mark.parametrize(
    "raw",
    [
        "https://sq.example.com/abc",
        "https://SQ.EXAMPLE.COM/abc",
        "https://www.sq.example.com/",
        "https://sq.example.com:8443/",
        "https://sq.example.com./x",
        "http://WWW.SQ.example.com.:80/",
    ],
)
def test_self_reference(raw: str) -> None:
    assert reason_of(raw) == "self_reference"


def test_own_hosts_are_compared_however_they_were_configured() -> None:
    policy = UrlPolicy.of(own_hosts=["https://www.Short.Example/", "api.example.org:443"])
    assert reason_of("https://short.example/x", policy) == "self_reference"
    assert reason_of("https://api.example.org/", policy) == "self_reference"
    assert normalize_url("https://other.example/", policy) == "https://other.example/"


@pytest.mark.parametrize(
    "raw",
    ["https://blocked.example/", "https://sub.blocked.example/x", "https://a.b.EVIL.test/"],
)
def test_blocked_domain_and_its_subdomains(raw: str) -> None:
    assert reason_of(raw) == "blocked_domain"


def test_blocklist_matches_whole_labels_only() -> None:
    assert normalize_url("https://notblocked.example/", POLICY) == "https://notblocked.example/"
    assert normalize_url("https://evil.test.example.com/", POLICY).startswith("https://evil.test.")


def test_blocklist_entries_may_be_international() -> None:
    policy = UrlPolicy.of(blocklist=["bücher.example"])
    assert reason_of("https://www.BÜCHER.example/", policy) == "blocked_domain"
    assert reason_of("https://xn--bcher-kva.example/", policy) == "blocked_domain"


# Property tests ---------------------------------------------------------------------------

url_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
schemes = st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "javascript", "data", ""])
hosts = st.one_of(
    st.from_regex(
        r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?(\.[a-zA-Z]{2,6}){1,2}", fullmatch=True
    ),
    st.sampled_from(["münchen.de", "例え.jp", "127.0.0.1", "8.8.8.8", "[::1]", "localhost"]),
    url_text,
)
candidates = st.one_of(
    url_text,
    st.builds(lambda s, h, rest: f"{s}://{h}{rest}", schemes, hosts, url_text),
    st.builds(lambda s, h, rest: f"{s}://{h}/{rest}", schemes, hosts, url_text),
)


@settings(max_examples=400, deadline=None)
@given(candidates)
def test_normalization_is_idempotent(raw: str) -> None:
    try:
        once = normalize_url(raw, POLICY)
    except InvalidUrl:
        return
    assert normalize_url(once, POLICY) == once


@settings(max_examples=400, deadline=None)
@given(candidates)
def test_accepted_urls_are_ascii_http_without_control_characters(raw: str) -> None:
    try:
        normalized = normalize_url(raw, POLICY)
    except InvalidUrl as error:
        assert error.reason in {
            "malformed",
            "invalid_scheme",
            "too_long",
            "credentials",
            "private_address",
            "self_reference",
            "blocked_domain",
        }
        return
    assert normalized.isascii()
    assert len(normalized) <= MAX_URL_LENGTH
    assert normalized.split(":", 1)[0] in {"http", "https"}
    assert not any(
        ch in string.whitespace or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in normalized
    )


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["javascript", "data", "file", "vbscript", "ftp", "gopher"]), url_text)
def test_no_other_scheme_is_ever_accepted(scheme: str, rest: str) -> None:
    for spelling in (scheme, scheme.upper(), scheme.capitalize()):
        with pytest.raises(InvalidUrl):
            normalize_url(f"{spelling}:{rest}", POLICY)
