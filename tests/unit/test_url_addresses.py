"""docs/api.md section 3 `private_address`: every refused address block, its edges, neighbours.

The expectations are literals taken from the IANA special-purpose registries, not from
`shared/links/urls.py`'s table, so that a block dropped from or widened in the table fails here, on
every Python release: the verdicts must not depend on `ipaddress`'s own classification.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from shared.links.errors import InvalidUrl
from shared.links.urls import embedded_ipv4, normalize_url, refused_block

# (address, the most specific refused block holding it, or None when links to it are accepted).
# Each block: its first address, one inside, its last; then the neighbours just outside it.
IPV4_CASES = [
    ("0.0.0.0", "0.0.0.0/8"),
    ("0.1.2.3", "0.0.0.0/8"),
    ("0.255.255.255", "0.0.0.0/8"),
    ("1.0.0.0", None),
    ("9.255.255.255", None),
    ("10.0.0.0", "10.0.0.0/8"),
    ("10.20.30.40", "10.0.0.0/8"),
    ("10.255.255.255", "10.0.0.0/8"),
    ("11.0.0.0", None),
    ("100.63.255.255", None),
    ("100.64.0.0", "100.64.0.0/10"),
    ("100.100.100.100", "100.64.0.0/10"),
    ("100.127.255.255", "100.64.0.0/10"),
    ("100.128.0.0", None),
    ("126.255.255.255", None),
    ("127.0.0.0", "127.0.0.0/8"),
    ("127.0.0.1", "127.0.0.0/8"),
    ("127.255.255.255", "127.0.0.0/8"),
    ("128.0.0.0", None),
    ("169.253.255.255", None),
    ("169.254.0.0", "169.254.0.0/16"),
    ("169.254.169.254", "169.254.0.0/16"),
    ("169.254.255.255", "169.254.0.0/16"),
    ("169.255.0.0", None),
    ("172.15.255.255", None),
    ("172.16.0.0", "172.16.0.0/12"),
    ("172.20.1.1", "172.16.0.0/12"),
    ("172.31.255.255", "172.16.0.0/12"),
    ("172.32.0.0", None),
    ("191.255.255.255", None),
    ("192.0.0.0", "192.0.0.0/24"),
    # Port Control Protocol anycast: globally reachable, but in the IETF block refused whole.
    ("192.0.0.9", "192.0.0.0/24"),
    ("192.0.0.170", "192.0.0.0/24"),
    ("192.0.0.255", "192.0.0.0/24"),
    ("192.0.1.0", None),
    ("192.0.1.255", None),
    ("192.0.2.0", "192.0.2.0/24"),
    ("192.0.2.45", "192.0.2.0/24"),
    ("192.0.2.255", "192.0.2.0/24"),
    ("192.0.3.0", None),
    # AS112 and AMT: special-purpose, but globally reachable.
    ("192.31.196.1", None),
    ("192.52.193.1", None),
    ("192.88.98.255", None),
    ("192.88.99.0", "192.88.99.0/24"),
    ("192.88.99.1", "192.88.99.0/24"),
    ("192.88.99.255", "192.88.99.0/24"),
    ("192.88.100.0", None),
    ("192.167.255.255", None),
    ("192.168.0.0", "192.168.0.0/16"),
    ("192.168.1.1", "192.168.0.0/16"),
    ("192.168.255.255", "192.168.0.0/16"),
    ("192.169.0.0", None),
    ("198.17.255.255", None),
    ("198.18.0.0", "198.18.0.0/15"),
    ("198.19.0.1", "198.18.0.0/15"),
    ("198.19.255.255", "198.18.0.0/15"),
    ("198.20.0.0", None),
    ("198.51.99.255", None),
    ("198.51.100.0", "198.51.100.0/24"),
    ("198.51.100.7", "198.51.100.0/24"),
    ("198.51.100.255", "198.51.100.0/24"),
    ("198.51.101.0", None),
    ("203.0.112.255", None),
    ("203.0.113.0", "203.0.113.0/24"),
    ("203.0.113.7", "203.0.113.0/24"),
    ("203.0.113.255", "203.0.113.0/24"),
    ("203.0.114.0", None),
    ("223.255.255.255", None),
    ("224.0.0.0", "224.0.0.0/4"),
    ("239.255.255.250", "224.0.0.0/4"),
    ("239.255.255.255", "224.0.0.0/4"),
    ("240.0.0.0", "240.0.0.0/4"),
    ("250.1.2.3", "240.0.0.0/4"),
    ("255.255.255.254", "240.0.0.0/4"),
    ("255.255.255.255", "255.255.255.255/32"),
    # Public resolvers.
    ("8.8.8.8", None),
    ("1.1.1.1", None),
]

IPV6_CASES = [
    # Everything outside 2000::/3 is refused; the special-purpose blocks within ::/8 and 100::/8.
    ("::", "::/128"),
    ("::1", "::1/128"),
    ("::2", "::/8"),
    ("::ffff:0:0", "::ffff:0:0/96"),
    ("::ffff:808:808", "::ffff:0:0/96"),
    ("::ffff:ffff:ffff", "::ffff:0:0/96"),
    ("::1:0:0:0", "::/8"),
    ("64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", "::/8"),
    ("64:ff9b::", "64:ff9b::/96"),
    ("64:ff9b::808:808", "64:ff9b::/96"),
    ("64:ff9b::ffff:ffff", "64:ff9b::/96"),
    ("64:ff9b::1:0:0", "::/8"),
    ("64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "::/8"),
    ("64:ff9b:1::", "64:ff9b:1::/48"),
    ("64:ff9b:1:abcd::808:808", "64:ff9b:1::/48"),
    ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::/48"),
    ("64:ff9b:2::", "::/8"),
    ("ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/8"),
    ("100::", "100::/64"),
    ("100::1", "100::/64"),
    ("100::ffff:ffff:ffff:ffff", "100::/64"),
    ("100:0:0:1::", "100::/8"),
    ("1ab::1", "100::/8"),
    ("1ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "100::/8"),
    ("200::", "200::/7"),
    ("3ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "200::/7"),
    ("400::", "400::/6"),
    ("7ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "400::/6"),
    ("800::", "800::/5"),
    ("fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "800::/5"),
    ("1000::", "1000::/4"),
    ("1abc::1", "1000::/4"),
    ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "1000::/4"),
    # 2000::/3, global unicast: accepted but for the special-purpose blocks in it.
    ("2000::", None),
    ("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ("2001::", "2001::/32"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::/32"),
    ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/32"),
    ("2001:1::", "2001::/23"),
    # Port Control Protocol anycast: globally reachable, but in the IETF block refused whole.
    ("2001:1::1", "2001::/23"),
    ("2001:1:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/23"),
    ("2001:2::", "2001:2::/48"),
    ("2001:2:0:1::1", "2001:2::/48"),
    ("2001:2:0:ffff:ffff:ffff:ffff:ffff", "2001:2::/48"),
    ("2001:2:1::", "2001::/23"),
    ("2001:20::1", "2001::/23"),
    ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "2001::/23"),
    ("2001:200::", None),
    ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ("2001:db8::", "2001:db8::/32"),
    ("2001:db8::1", "2001:db8::/32"),
    ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32"),
    ("2001:db9::", None),
    ("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ("2002::", "2002::/16"),
    ("2002:808:808::1", "2002::/16"),
    ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2002::/16"),
    ("2003::", None),
    # The AS112 direct-delegation block is special-purpose but globally reachable.
    ("2620:4f:8000::1", None),
    ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ("3fff::", "3fff::/20"),
    ("3fff:abc::1", "3fff::/20"),
    ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff::/20"),
    ("3fff:1000::", None),
    ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ("4000::", "4000::/3"),
    ("5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::/3"),
    ("5f00::", "5f00::/16"),
    ("5f00:1::1", "5f00::/16"),
    ("5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "5f00::/16"),
    ("5f01::", "4000::/3"),
    ("5fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::/3"),
    ("6000::", "6000::/3"),
    ("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "6000::/3"),
    ("8000::", "8000::/3"),
    ("9fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/3"),
    ("a000::", "a000::/3"),
    ("bfff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "a000::/3"),
    ("c000::", "c000::/3"),
    ("dfff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "c000::/3"),
    ("e000::", "e000::/4"),
    ("efff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "e000::/4"),
    ("f000::", "f000::/5"),
    ("f7ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "f000::/5"),
    ("f800::", "f800::/6"),
    ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "f800::/6"),
    ("fc00::", "fc00::/7"),
    ("fd12:3456::1", "fc00::/7"),
    ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::/7"),
    ("fe00::", "fe00::/9"),
    ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::/9"),
    ("fe80::", "fe80::/10"),
    ("fe80::1", "fe80::/10"),
    ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/10"),
    ("fec0::", "fec0::/10"),
    ("fec0::1", "fec0::/10"),
    ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::/10"),
    ("ff00::", "ff00::/8"),
    ("ff02::1", "ff00::/8"),
    ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::/8"),
    # Public resolvers.
    ("2606:4700:4700::1111", None),
    ("2001:4860:4860::8888", None),
]


def url_of(address: str) -> str:
    return f"http://[{address}]/" if ":" in address else f"http://{address}/"


@pytest.mark.parametrize(("address", "block"), IPV4_CASES + IPV6_CASES)
def test_every_refused_block_from_first_to_last_address(address: str, block: str | None) -> None:
    url = url_of(address)
    if block is None:
        assert normalize_url(url) == url
        assert refused_block(ipaddress.ip_address(address)) is None
    else:
        with pytest.raises(InvalidUrl) as caught:
            normalize_url(url)
        assert caught.value.reason == "private_address"
        found = refused_block(ipaddress.ip_address(address))
        assert found is not None
        assert found.cidr == block


# (IPv6 address, (form, the IPv4 address it carries)), or None for no embedding form.
EMBEDDINGS = [
    ("::ffff:0.0.0.0", ("IPv4-mapped", "0.0.0.0")),
    ("::ffff:127.0.0.1", ("IPv4-mapped", "127.0.0.1")),
    ("::ffff:8.8.8.8", ("IPv4-mapped", "8.8.8.8")),
    ("::ffff:255.255.255.255", ("IPv4-mapped", "255.255.255.255")),
    ("::fffe:ffff:ffff", None),
    ("::1:0:0:0", None),
    ("::ffff:0:0:0", ("IPv4-translated", "0.0.0.0")),
    ("::ffff:0:7f00:1", ("IPv4-translated", "127.0.0.1")),
    ("::ffff:0:ffff:ffff", ("IPv4-translated", "255.255.255.255")),
    ("::fffe:ffff:ffff:ffff", None),
    ("::ffff:1:0:0", None),
    # IPv4-compatible: `::` and `::1` are the unspecified and loopback addresses instead.
    ("::", None),
    ("::1", None),
    ("::2", ("IPv4-compatible", "0.0.0.2")),
    ("::127.0.0.1", ("IPv4-compatible", "127.0.0.1")),
    ("::8.8.8.8", ("IPv4-compatible", "8.8.8.8")),
    ("::ffff:ffff", ("IPv4-compatible", "255.255.255.255")),
    ("::1:0:0", None),
    # RFC 6052 2.4's example.
    ("64:ff9b::c000:221", ("NAT64", "192.0.2.33")),
    ("64:ff9b::", ("NAT64", "0.0.0.0")),
    ("64:ff9b::ffff:ffff", ("NAT64", "255.255.255.255")),
    ("64:ff9b::1:0:0", None),
    ("64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ("64:ff9b:1::a00:1", ("local-use NAT64", "10.0.0.1")),
    ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", ("local-use NAT64", "255.255.255.255")),
    ("64:ff9b:0:ffff:ffff:ffff:ffff:ffff", None),
    ("64:ff9b:2::", None),
    # RFC 3056: the 32 bits after 2002.
    ("2002:c000:22a::1", ("6to4", "192.0.2.42")),
    ("2002:808:808::1", ("6to4", "8.8.8.8")),
    ("2002::", ("6to4", "0.0.0.0")),
    ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ("6to4", "255.255.255.255")),
    ("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ("2003::", None),
    # RFC 4380 4's example: server 65.54.227.120, client 192.0.2.45 (the last 32 bits inverted).
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ("Teredo", "192.0.2.45")),
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", ("Teredo", "8.8.8.8")),
    ("2001::", ("Teredo", "255.255.255.255")),
    ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", ("Teredo", "0.0.0.0")),
    ("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    ("2001:1::", None),
    ("2606:4700:4700::1111", None),
]


@pytest.mark.parametrize(("address", "expected"), EMBEDDINGS)
def test_squrl_decodes_each_ipv4_embedding_form(
    address: str, expected: tuple[str, str] | None
) -> None:
    found = embedded_ipv4(ipaddress.IPv6Address(address))
    assert (None if found is None else (found[0], str(found[1]))) == expected


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("::ffff:8.8.8.8", "8.8.8.8"),
        ("::ffff:10.0.0.1", "10.0.0.1, private use"),
        ("::ffff:0:808:808", "8.8.8.8"),
        ("::ffff:0:a9fe:a9fe", "169.254.169.254, link-local"),
        ("::8.8.8.8", "8.8.8.8"),
        ("::127.0.0.1", "127.0.0.1, loopback"),
        ("64:ff9b::808:808", "8.8.8.8"),
        ("64:ff9b::7f00:1", "127.0.0.1, loopback"),
        ("64:ff9b:1::808:808", "8.8.8.8"),
        ("64:ff9b:1::a00:1", "10.0.0.1, private use"),
        ("2002:808:808::1", "8.8.8.8"),
        ("2002:c0a8:101::", "192.168.1.1, private use"),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "8.8.8.8"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1, loopback"),
    ],
)
def test_embedding_forms_are_refused_whatever_they_carry(address: str, carried: str) -> None:
    with pytest.raises(InvalidUrl) as caught:
        normalize_url(f"https://[{address}]/")
    assert caught.value.reason == "private_address"
    assert f"form of {carried})" in caught.value.message


ADDRESS_CLASSIFIERS = re.compile(
    r"\.(is_global|is_private|is_reserved|is_loopback|is_link_local|is_site_local|"
    r"is_multicast|is_unspecified|ipv4_mapped|sixtofour|teredo)\b"
)


def test_the_runtime_never_asks_python_to_classify_an_address() -> None:
    # `ipaddress`'s tables differ between Python releases (6to4 was global on 3.11 and is not on
    # 3.13): squrl parses with it and decides with its own table.
    shared = Path(__file__).resolve().parents[2] / "shared"
    offenders = [
        f"{path.name}: {match.group(0)}"
        for path in sorted(shared.rglob("*.py"))
        for match in ADDRESS_CLASSIFIERS.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
