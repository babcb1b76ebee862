"""What squrl stores is what a browser requests, and is safe in a `Location` header (docs/api.md
section 3).

Two checks: a property test that every accepted URL normalizes to printable ASCII an HTTP header
can carry, whatever hostile characters the input had in any part; and a differential test
against ada, a WHATWG URL parser (the standard browsers follow), over a few thousand generated
URLs: every URL squrl accepts, ada parses, to the host and port squrl stored.
"""

from __future__ import annotations

import http.client
import ipaddress
import random
from collections import Counter

import ada_url
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.links.errors import InvalidUrl
from shared.links.urls import normalize_url

# Characters that break URLs, HTML attributes or HTTP headers, or that parsers disagree on.
HOSTILE_VISIBLE = (
    "<>\"'`{}|^\\%@:/?#[]"  # delimiters and forbidden host code points
    "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # invisible: mapped away or refused by UTS 46
    "\uff0e\u3002\uff1a\uff0f\uff20\u2100\u2474"  # full-width and compatibility look-alikes
    "€ßäİı\u0301\u05d0\u0627☃😀\udfff"  # letters, marks, RTL, symbols, a lone surrogate
)
HOSTILE = HOSTILE_VISIBLE + "\x00\t\n\r \x7f\x85\xa0\u2028\u3000"  # controls, whitespace
any_character = st.characters(codec="utf-8")
# Text the rules may keep (percent-encoding what they must), and text with anything at all.
visible_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(HOSTILE_VISIBLE),
        any_character.filter(lambda c: c.isprintable() and not c.isspace()),
    ),
    max_size=12,
)
# Visible text with one character of any kind (a control, whitespace, a surrogate) somewhere.
hostile_text = st.builds(
    lambda head, odd, tail: head + odd + tail,
    visible_text,
    st.one_of(st.sampled_from(HOSTILE), any_character),
    visible_text,
)
labels = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True),
    st.sampled_from(
        ["münchen", "ΣΊΣΥΦΟΣ", "例え", "☃", "faß", "مثال", "xn--n3h", "\uff25\uff38", "ⓐ"]
    ),
    st.from_regex(r"[a-z]{1,6}", fullmatch=True),
    visible_text,
    hostile_text,
)
# An IPv4 address in one of WHATWG's spellings: 1-4 parts, each decimal, octal or hex.
ipv4_spellings = st.sampled_from(
    [
        lambda n: ".".join(str(b) for b in n.to_bytes(4, "big")),
        lambda n: ".".join(hex(b) for b in n.to_bytes(4, "big")),
        lambda n: ".".join(f"0{b:o}" for b in n.to_bytes(4, "big")),
        lambda n: f"{n >> 24}.{n & 0xFFFFFF}",
        lambda n: f"{n >> 24}.{n >> 16 & 0xFF}.{n & 0xFFFF:#x}",
        str,
        hex,
        lambda n: f"{n}.",
    ]
)
junk = st.one_of(st.just(""), st.just(""), st.just(""), visible_text, hostile_text)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=3).map(".".join),
    st.builds(
        lambda address, spelling, before, after: before + spelling(address) + after,
        st.integers(0, 2**32 - 1) | st.sampled_from([0x08080808, 0x7F000001, 0xFFFFFFFF]),
        ipv4_spellings,
        junk,
        junk,
    ),
    # IPv6 literals, valid ones mostly (public and not), with zone ids and hostile text.
    st.builds(
        lambda address, spelling, zone, junk: f"[{spelling(address)}{zone}{junk}]",
        st.builds(
            lambda prefix, rest: ipaddress.IPv6Address(prefix << 96 | rest),
            st.sampled_from([0x26064700, 0x20014860, 0x2A001450, 0x20020808, 0xFE800000, 0]),
            st.integers(0, 2**96 - 1) | st.sampled_from([0, 1, 0xFFFF_0808_0808]),
        ),
        st.sampled_from([str, lambda a: a.exploded, lambda a: a.exploded.upper()]),
        st.one_of(
            st.just(""),
            visible_text.map(lambda zone: "%" + zone),
            visible_text.map(lambda zone: "%25" + zone),
            hostile_text.map(lambda zone: "%" + zone),
        ),
        junk,
    ),
)
ports = st.one_of(
    st.just(""),
    st.just(""),
    st.integers(0, 70000).map(lambda n: f":{n}"),
    visible_text.map(lambda port: ":" + port),
    hostile_text.map(lambda port: ":" + port),
)
url_parts = st.one_of(st.just(""), visible_text, visible_text, hostile_text)
hostile_urls = st.builds(
    lambda scheme, userinfo, host, port, path, query, fragment: (
        f"{scheme}://{userinfo}{host}{port}/{path}?{query}#{fragment}"
    ),
    st.sampled_from(["http", "https", "HTTPS", "hTtP"] * 4 + ["javascript", "h\u0442tp"]),
    st.one_of(*[st.just("")] * 4, hostile_text.map(lambda user: user + "@")),
    hosts,
    ports,
    url_parts,
    url_parts,
    url_parts,
)


def _header_safe(value: str) -> None:
    """Fails unless `value` can be sent as a header as it stands, by any HTTP stack."""
    assert all(0x21 <= ord(char) <= 0x7E for char in value), value
    assert value.encode("latin-1").decode("ascii") == value
    assert "\r" not in value and "\n" not in value
    # `http.client`'s own header validation; nothing is sent, no socket is opened.
    connection = http.client.HTTPConnection("squrl.invalid")
    try:
        connection.putrequest("GET", "/")
        connection.putheader("Location", value)
    finally:
        connection.close()


@settings(max_examples=1500, deadline=None)
@given(hostile_urls)
def test_every_accepted_url_is_printable_ascii_a_header_can_carry(raw: str) -> None:
    try:
        normalized = normalize_url(raw)
    except InvalidUrl:
        return
    _header_safe(normalized)
    # A stored URL is accepted again unchanged, so an update never rewrites it.
    assert normalize_url(normalized) == normalized


def test_the_header_check_refuses_what_broke_redirects() -> None:
    # The values a zone id let through before it was refused (`[...%€]`, `[::1%<script>]`).
    for value in ("http://[2606:4700:4700::1111%€]/", "http://[::1%\r\nSet-Cookie:x]/"):
        try:
            _header_safe(value)
        except (AssertionError, UnicodeError, ValueError):
            continue
        raise AssertionError(f"{value!r} passed the header check")


# Differential test against ada -------------------------------------------------------------

SEED = 20240917
COUNT = 5000

PUBLIC_LABELS = ["example", "Example", "a", "x1", "my_host", "b-c", "EXAMPLE", "0a", "1", "www"]
TLDS = ["com", "org", "DE", "io", "xn--p1ai", "рф", "中国", "co.uk", "test", "local"]
IDN_LABELS = [
    "münchen",
    "MÜNCHEN",
    "faß",
    "ΣΊΣΥΦΟΣ",
    "例え",
    "テスト",
    "☃",
    "i❤",
    "😀",
    "مثال",
    "\u05d0\u05d1",
    "a\u05d0",
    "0\u00e0",
    "\uff25\uff38\uff21",
    "xn--n3h",
    "XN--MNCHEN-3YA",
    "xn--a",
    "xn--abc-",
    "xn---n3h",
    "a\u200db",
    "\u0301a",
    "ǅ",
    "ﬀ",
    "ⓐ",
    "ß\u200c",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\u0915\u094d\u200d",
    "i̇",
    "Ⅻ",
]
HOSTILE_HOST_CHARS = [
    *"<>\"'`{}|^%@[]\\ \t\x00\x7f\u00ad\u200b\uff0e\u3002\uff0f\uff1a\u2044\ufe6b",
    *["%41", "%2e", "%00", "%zz", "%e2%98%83"],
]


def _random_domain(rng: random.Random) -> str:
    labels = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.55:
            label = rng.choice(PUBLIC_LABELS)
        elif kind < 0.85:
            label = rng.choice(IDN_LABELS)
        else:
            label = "".join(rng.choice("abcXYZ019-_") for _ in range(rng.randint(1, 8)))
        labels.append(label)
    labels.append(rng.choice(TLDS))
    host = rng.choice([".", ".", ".", "\u3002", "\uff0e"]).join(labels)
    if rng.random() < 0.25:
        position = rng.randint(0, len(host))
        host = host[:position] + rng.choice(HOSTILE_HOST_CHARS) + host[position:]
    if rng.random() < 0.1:
        host += "."
    return host


def _ipv4_part(value: int, rng: random.Random) -> str:
    style = rng.random()
    if style < 0.6:
        return str(value)
    if style < 0.8:
        return rng.choice(["0x", "0X"]) + format(value, rng.choice(["x", "X"]))
    return "0" + format(value, "o")


def _random_ipv4(rng: random.Random) -> str:
    address = rng.choice(
        [0x08080808, 0x01010101, 0x7F000001, 0xC0A80101, 0x0A000001, rng.getrandbits(32)]
    )
    octets = list(address.to_bytes(4, "big"))
    parts = rng.randint(1, 4)
    numbers = [*octets[: parts - 1], int.from_bytes(bytes(octets[parts - 1 :]), "big")]
    text = [_ipv4_part(n, rng) for n in numbers]
    if rng.random() < 0.15:  # out of range, too many parts, a bad digit, an empty part
        mutation = rng.choice(["256", "1.2.3.4.5", "09", "0x", "", "4294967296", "1e1", "0xg"])
        text[rng.randrange(len(text))] = mutation
    host = ".".join(text)
    return host + "." if rng.random() < 0.1 else host


def _random_ipv6(rng: random.Random) -> str:
    pieces = [rng.choice([0, 0, 0, 1, 0xFFFF, rng.getrandbits(16)]) for _ in range(8)]
    if rng.random() < 0.8:  # public prefixes mostly, then embedding and local ones
        public = [0x2606, 0x2A00, 0x2400, 0x2001, 0x2C0F, 0x3FFE]
        pieces[0] = rng.choice(public * 3 + [0x2002, 0x64, 0xFE80, 0xFEC0, 0xFD00, 0xFF02])
    texts = [format(piece, rng.choice(["x", "X", "04x"])) for piece in pieces]
    if rng.random() < 0.2:  # a dotted IPv4 tail
        texts[6:] = [".".join(str(b) for b in (pieces[6] << 16 | pieces[7]).to_bytes(4, "big"))]
    if rng.random() < 0.6:  # `::` in place of any run, empty or not
        start = rng.randint(0, len(texts))
        end = rng.randint(start, len(texts))
        literal = ":".join(texts[:start]) + "::" + ":".join(texts[end:])
    else:
        literal = ":".join(texts)
    if rng.random() < 0.15:
        literal += rng.choice(["%eth0", "%25eth0", "%€", "%<b>", ":", ":1:2:3", "%", "]"])
    if rng.random() < 0.05:
        literal = literal.replace(":", rng.choice([":::", "", "::1::"]), 1)
    return f"[{literal}]"


def _random_url(rng: random.Random) -> tuple[str, str]:
    """A URL and the kind of host it was built around."""
    kind = rng.choices(["name", "ipv4", "ipv6"], weights=[4, 3, 3])[0]
    host = {"name": _random_domain, "ipv4": _random_ipv4, "ipv6": _random_ipv6}[kind](rng)
    scheme = rng.choice(["http", "https", "HTTP", "Https"])
    userinfo = rng.choice([""] * 18 + ["user@", "u:p@"])
    port = rng.choice(
        ["", "", "", ":", ":80", ":443", ":8080", ":0", ":00443", ":65535", ":65536", ":8a"]
    )
    tail = rng.choice(["", "/", "/a/b?c=d#e", "?q", "#f", "/ü?é#€", "/%41%zz", "/<>\"'"])
    return kind, f"{scheme}://{userinfo}{host}{port}{tail}"


def _squrl(raw: str) -> tuple[str, str] | tuple[str, str, str]:
    """(host, port) squrl stores for `raw`, or (reason, message, "refused")."""
    try:
        normalized = normalize_url(raw)
    except InvalidUrl as error:
        return error.reason, error.message.split(" (")[0], "refused"
    authority = normalized.split("://", 1)[1].split("/", 1)[0]
    if authority.startswith("["):
        host, _, port = authority.partition("]")
        return host + "]", port.removeprefix(":")
    host, _, port = authority.partition(":")
    return host, port


def _ada(raw: str) -> tuple[str, str] | None:
    try:
        url = ada_url.URL(raw)
    except ValueError:
        return None
    return str(url.hostname), str(url.port)


# Where squrl refuses a URL that a WHATWG parser reads, on purpose (docs/design.md, "URL rules").
# Keyed by reason and message; any other refusal of a URL ada parses fails the test. There is no
# exception the other way: every URL squrl accepts must have ada's host and port exactly.
STRICTER_THAN_WHATWG = {
    # docs/api.md section 3's own rules, which are not about parsing.
    ("private_address", "Links to private or reserved addresses are not allowed"),
    ("private_address", "Links to localhost are not allowed."),
    ("credentials", "URLs with a user name or password are not accepted."),
    # docs/api.md section 3 refuses whitespace and controls anywhere; WHATWG strips leading and
    # trailing C0 and spaces and removes tabs and newlines everywhere, so `exa\tmple.com` is
    # example.com to it.
    ("malformed", "The URL contains whitespace or control characters."),
    # `good.com\@evil.com`: a backslash is a slash to browsers and not to other parsers.
    ("malformed", "The URL's host part contains a backslash."),
    # WHATWG percent-decodes the host (`ex%41mple.com`) and lets `"`, `'`, `` ` ``, `{` and `}`
    # stand in a name; squrl takes hosts as DNS names: letters, digits, `-` and `_`.
    ("malformed", "The URL's host contains characters a host may not have."),
    # Labels that begin or end with `-`, empty labels, labels over 63 characters: not DNS names.
    ("malformed", "The URL's host is not a valid domain name."),
    # UTS 46 validity as WHATWG asks for it (CheckBidi across labels, no leading combining mark,
    # canonical punycode); ada skips some of these checks, browsers apply them.
    ("malformed", "The URL's international host name is not valid."),
    # `http:///example.com`: WHATWG skips the third slash; squrl wants the host after `//`.
    ("malformed", "The URL has no host."),
}


def test_squrl_agrees_with_a_whatwg_parser_on_every_url_it_accepts() -> None:
    rng = random.Random(SEED)
    tally: Counter[str] = Counter()
    disagreements = []
    for _ in range(COUNT):
        kind, raw = _random_url(rng)
        ours, theirs = _squrl(raw), _ada(raw)
        if len(ours) == 3:
            refusal = ours[:2]
            if theirs is None:
                tally[f"{kind}: both refuse"] += 1
            elif refusal in STRICTER_THAN_WHATWG:
                tally[f"{kind}: squrl refuses on purpose, {refusal[0]}"] += 1
            else:
                disagreements.append((raw, ours, theirs))
        # The stored URL must mean the same host to a browser as what the user gave.
        elif theirs == ours and _ada(normalize_url(raw)) == ours:
            tally[f"{kind}: both accept, same host and port"] += 1
        else:
            disagreements.append((raw, ours, theirs))
    print("\n".join(f"{count:5d}  {what}" for what, count in sorted(tally.items())))
    assert disagreements == []
    # The generator must exercise both sides for every kind of host.
    for kind in ("name", "ipv4", "ipv6"):
        assert tally[f"{kind}: both accept, same host and port"] >= COUNT // 20
        assert tally[f"{kind}: both refuse"] >= COUNT // 50
