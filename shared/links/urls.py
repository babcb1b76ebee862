"""URL validation and normalization (docs/api.md section 3).

The normalized URL is what is stored, compared for deduplication and sent in `Location`, so it
must be exactly what a browser would request: the host is parsed the way browsers parse it (the
WHATWG URL standard), which is also how `127.1` or `0x7f000001` reach loopback.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from shared.links.errors import InvalidUrl

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# ASCII a host may not contain: WHATWG's forbidden domain code points, and the `"`, `'`, `` ` ``,
# `{` and `}` that WHATWG lets stand but no DNS name has (docs/design.md).
FORBIDDEN_HOST_CHARS = frozenset("\x00\t\n\r #/:<>?@[\\]^|%\x7f\"'`{}")
HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


@dataclass(frozen=True)
class UrlPolicy:
    """What an environment forbids besides the fixed rules: its own hosts and its blocklist."""

    own_hosts: frozenset[str] = frozenset()
    blocklist: frozenset[str] = frozenset()

    @classmethod
    def of(cls, own_hosts: Iterable[str] = (), blocklist: Iterable[str] = ()) -> UrlPolicy:
        return cls(
            own_hosts=frozenset(_comparable_host(h) for h in own_hosts if h.strip()),
            blocklist=frozenset(_comparable_host(d) for d in blocklist if d.strip()),
        )


# Special-purpose address blocks squrl refuses as `private_address` (docs/api.md section 3),
# written once as data so that the verdict is squrl's own and not the Python release's:
# `ipaddress` only parses here, since its `is_global` and `is_private` tables changed between
# 3.11 and 3.13.
#
# Sources, transcribed 2026-11-30 from the registries as last updated in 2024 (newest entries
# used: 192.0.0.170/31, RFC 8880; 3fff::/20, RFC 9637; 5f00::/16, RFC 9602):
#   IANA IPv4 Special-Purpose Address Registry,
#     https://www.iana.org/assignments/iana-ipv4-special-registry/
#   IANA IPv6 Special-Purpose Address Registry,
#     https://www.iana.org/assignments/iana-ipv6-special-registry/
#   IANA IPv4 Multicast Address Space Registry (224.0.0.0/4),
#     https://www.iana.org/assignments/multicast-addresses/
#   IANA IPv6 Address Space (what lies outside 2000::/3),
#     https://www.iana.org/assignments/ipv6-address-space/
# Every block the special-purpose registries do not call globally reachable is here. So are the
# IETF protocol-assignment blocks whole (192.0.0.0/24, 2001::/23), though a few anycast members
# of them are globally reachable: none serves a web page. Blocks the registries call globally
# reachable outside those (192.31.196.0/24, 192.52.193.0/24, 2620:4f:8000::/48) stay allowed.
REFUSED_IPV4_BLOCKS = (
    ("0.0.0.0/8", '"this network"'),
    ("10.0.0.0/8", "private use"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private use"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited broadcast"),
)
REFUSED_IPV6_BLOCKS = (
    # The special-purpose registry.
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("64:ff9b::/96", "NAT64 well-known prefix"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments"),
    ("2001::/32", "Teredo"),
    ("2001:2::/48", "benchmarking"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing SIDs"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    # The address space registry: only 2000::/3 is global unicast; the rest is reserved by the
    # IETF, site-local (deprecated, RFC 3879) or multicast.
    ("::/8", "reserved by the IETF"),
    ("100::/8", "reserved by the IETF"),
    ("200::/7", "reserved by the IETF"),
    ("400::/6", "reserved by the IETF"),
    ("800::/5", "reserved by the IETF"),
    ("1000::/4", "reserved by the IETF"),
    ("4000::/3", "reserved by the IETF"),
    ("6000::/3", "reserved by the IETF"),
    ("8000::/3", "reserved by the IETF"),
    ("a000::/3", "reserved by the IETF"),
    ("c000::/3", "reserved by the IETF"),
    ("e000::/4", "reserved by the IETF"),
    ("f000::/5", "reserved by the IETF"),
    ("f800::/6", "reserved by the IETF"),
    ("fe00::/9", "reserved by the IETF"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)


@dataclass(frozen=True)
class AddressBlock:
    """A block of addresses as integers, first and last included, with its CIDR text and name."""

    first: int
    last: int
    cidr: str
    name: str


def _address_blocks(entries: Iterable[tuple[str, str]]) -> tuple[AddressBlock, ...]:
    blocks = []
    for cidr, name in entries:
        network = ipaddress.ip_network(cidr)
        blocks.append(
            AddressBlock(int(network.network_address), int(network.broadcast_address), cidr, name)
        )
    return tuple(blocks)


REFUSED_IPV4 = _address_blocks(REFUSED_IPV4_BLOCKS)
REFUSED_IPV6 = _address_blocks(REFUSED_IPV6_BLOCKS)


@dataclass(frozen=True)
class Ipv4Embedding:
    """An IPv6 form that carries an IPv4 address: `((value >> shift) & 0xffffffff) ^ xor`."""

    block: AddressBlock
    shift: int = 0
    xor: int = 0
    excluded: frozenset[int] = frozenset()


def _embedding(
    cidr: str, name: str, shift: int = 0, xor: int = 0, excluded: frozenset[int] = frozenset()
) -> Ipv4Embedding:
    return Ipv4Embedding(_address_blocks([(cidr, name)])[0], shift, xor, excluded)


IPV4_EMBEDDINGS = (
    # RFC 4291 2.5.5.2: the last 32 bits.
    _embedding("::ffff:0:0/96", "IPv4-mapped"),
    # RFC 2765 2.1 (SIIT): the last 32 bits.
    _embedding("::ffff:0:0:0/96", "IPv4-translated"),
    # RFC 4291 2.5.5.1, deprecated: the last 32 bits; `::` and `::1` are the unspecified and
    # loopback addresses, not this form.
    _embedding("::/96", "IPv4-compatible", excluded=frozenset({0, 1})),
    # RFC 6052 2.1: the last 32 bits of the well-known prefix.
    _embedding("64:ff9b::/96", "NAT64"),
    # RFC 8215: prefixes of any RFC 6052 length are cut from it; read as the /96 layout, the
    # usual one. The whole /48 is refused, so the layout only changes the address named.
    _embedding("64:ff9b:1::/48", "local-use NAT64"),
    # RFC 3056 2: the 32 bits after 2002::/16.
    _embedding("2002::/16", "6to4", shift=80),
    # RFC 4380 4: the client's address is the last 32 bits, each bit inverted.
    _embedding("2001::/32", "Teredo", xor=0xFFFFFFFF),
)


def normalize_url(raw: str, policy: UrlPolicy = UrlPolicy()) -> str:
    """Validate `raw` and return its normalized form, or raise InvalidUrl naming the rule."""
    if any(ch.isspace() or _is_control(ch) for ch in raw):
        raise InvalidUrl("malformed", "The URL contains whitespace or control characters.")
    scheme, rest = _split_scheme(raw)
    authority, tail = _split_authority(rest[2:])
    # Browsers treat a backslash like a slash in http(s) URLs, so `good.com\@evil.com` is host
    # good.com to them and evil.com to most parsers: refused in the authority. In the path,
    # query and fragment it is kept as given.
    if "\\" in authority:
        raise InvalidUrl("malformed", "The URL's host part contains a backslash.")
    _, at, hostport = authority.rpartition("@")
    if at:
        raise InvalidUrl("credentials", "URLs with a user name or password are not accepted.")
    host, port = _split_port(hostport, scheme)
    host = _normalize_host(host)
    _check_host_policy(host, policy)

    if not tail or tail[0] in "?#":
        tail = "/" + tail
    normalized = f"{scheme}://{host}{port}{_percent_encode_non_ascii(tail)}"
    if len(normalized) > MAX_URL_LENGTH:
        raise InvalidUrl("too_long", f"The URL is longer than {MAX_URL_LENGTH} characters.")
    return normalized


def _split_scheme(raw: str) -> tuple[str, str]:
    """The lowercased http(s) scheme and what follows its colon, which must start with `//`."""
    scheme, sep, rest = raw.partition(":")
    if not sep or not SCHEME.fullmatch(scheme):
        raise InvalidUrl("malformed", "The URL must be absolute, like https://example.com/path.")
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidUrl("invalid_scheme", "Only http and https URLs can be shortened.")
    if not rest.startswith("//"):
        raise InvalidUrl("malformed", "The URL must be absolute, like https://example.com/path.")
    return scheme, rest


def _check_host_policy(host: str, policy: UrlPolicy) -> None:
    """The host rules: no private address, not squrl itself, not a blocked domain."""
    _check_address(host)
    comparable = _comparable_host(host)
    if _matches_own_host(comparable, policy.own_hosts):
        raise InvalidUrl("self_reference", "A short link may not point to squrl itself.")
    if _is_blocked(comparable, policy.blocklist):
        raise InvalidUrl("blocked_domain", "Links to this domain are not allowed.")


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F


def _split_authority(after_slashes: str) -> tuple[str, str]:
    """Split at the first `/`, `?` or `#`: what precedes is the authority."""
    match = re.search(r"[/?#]", after_slashes)
    if match is None:
        return after_slashes, ""
    return after_slashes[: match.start()], after_slashes[match.start() :]


def _split_port(hostport: str, scheme: str) -> tuple[str, str]:
    """Return the host and the port suffix to keep (`""` for none or the scheme's default)."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise InvalidUrl("malformed", "The URL's IPv6 host is missing its closing bracket.")
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidUrl("malformed", "The URL's host is not valid.")
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_or_empty = hostport.partition(":")
        port_text = port_text_or_empty if colon else None
    if port_text is None or port_text == "":
        return host, ""
    if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
        raise InvalidUrl("malformed", "The URL's port is not a number between 0 and 65535.")
    port = int(port_text)
    return host, "" if port == DEFAULT_PORTS[scheme] else f":{port}"


def _normalize_host(host: str) -> str:
    if not host:
        raise InvalidUrl("malformed", "The URL has no host.")
    if host.startswith("["):
        # `ipaddress` reads `fe80::1%eth0` as an address with a zone id and keeps the zone as
        # given, any text at all; browsers refuse zone ids in URLs (WHATWG), so squrl does.
        if "%" in host:
            raise InvalidUrl("malformed", "The URL's IPv6 host has a zone id.")
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise InvalidUrl("malformed", "The URL's IPv6 host is not valid.") from None
        return f"[{_ipv6_text(address)}]"
    if not host.isascii() or "xn--" in host.lower():
        host = _to_punycode(host)
    host = host.lower()
    if any(ch in FORBIDDEN_HOST_CHARS for ch in host):
        raise InvalidUrl("malformed", "The URL's host contains characters a host may not have.")
    ipv4 = _parse_ipv4(host)
    if ipv4 is not None:
        return str(ipv4)
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(host) > 254 or not all(HOST_LABEL.fullmatch(label) for label in labels):
        raise InvalidUrl("malformed", "The URL's host is not a valid domain name.")
    return host


def _ipv6_text(address: ipaddress.IPv6Address) -> str:
    """WHATWG's IPv6 serializer: eight lowercase hex pieces without leading zeros, the first
    longest run of two or more zero pieces written `::`. Python's `str` is not used: since 3.13
    it writes IPv4-mapped addresses with a dotted tail, as no browser does."""
    pieces = [(int(address) >> (112 - 16 * index)) & 0xFFFF for index in range(8)]
    run_start, run_length, start = 0, 1, None
    for index, piece in enumerate([*pieces, 1]):
        if piece == 0 and start is None:
            start = index
        elif piece != 0 and start is not None:
            if index - start > run_length:
                run_start, run_length = start, index - start
            start = None
    if run_length == 1:
        return ":".join(f"{piece:x}" for piece in pieces)
    head = ":".join(f"{piece:x}" for piece in pieces[:run_start])
    tail = ":".join(f"{piece:x}" for piece in pieces[run_start + run_length :])
    return f"{head}::{tail}"


def _to_punycode(host: str) -> str:
    """WHATWG's "domain to ASCII": UTS 46 processing, non-transitional, with CheckHyphens and
    UseSTD3ASCIIRules off and CheckBidi and CheckJoiners on, as browsers do.

    Symbols UTS 46 maps as valid (`☃.com`, `i❤.ws`) convert like any other name, and a label
    already in punycode must decode to a valid non-ASCII label (`xn--a.com` is refused).
    """
    import idna

    try:
        # Maps case, width and the ideographic full stops to ASCII dots; refuses disallowed
        # code points.
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        labels, unicode_labels = [], []
        for label in mapped.split("."):
            if label.startswith("xn--"):
                decoded = label[4:].encode("ascii").decode("punycode")
                if not decoded or decoded.isascii():
                    raise ValueError("a punycode label must decode to a non-ASCII label")
                # Python's decoder is lenient (`xn---n3h` gives `☃`); RFC 3492 and browsers
                # are not, so the label must be exactly the encoding of what it decodes to.
                if "xn--" + decoded.encode("punycode").decode("ascii") != label:
                    raise ValueError("the punycode label is not in canonical form")
                _check_unicode_label(decoded)
                labels.append(label)
                unicode_labels.append(decoded)
            elif label.isascii():
                labels.append(label)
                unicode_labels.append(label)
            else:
                _check_unicode_label(label)
                labels.append("xn--" + label.encode("punycode").decode("ascii"))
                unicode_labels.append(label)
        # CheckBidi: once any label is right-to-left, the bidi rule holds for every label of
        # the name, ASCII ones included (RFC 5893 via UTS 46).
        if any(_has_rtl(label) for label in unicode_labels):
            for label in unicode_labels:
                if label:
                    idna.check_bidi(label, check_ltr=True)
    except (idna.IDNAError, UnicodeError, ValueError):
        raise InvalidUrl("malformed", "The URL's international host name is not valid.") from None
    return ".".join(labels)


def _has_rtl(label: str) -> bool:
    return any(unicodedata.bidirectional(char) in ("R", "AL", "AN") for char in label)


def _check_unicode_label(label: str) -> None:
    """UTS 46's validity criteria for one label, but the bidi rule, which `_to_punycode` applies
    to the whole name (raises `idna.IDNAError` or `ValueError`)."""
    import idna

    idna.check_nfc(label)
    idna.check_initial_combiner(label)
    if idna.uts46_remap(label, std3_rules=False, transitional=False) != label:
        raise ValueError("the label has code points that are not valid as they stand")
    for position, char in enumerate(label):
        if char in "\u200c\u200d" and not idna.valid_contextj(label, position):
            raise ValueError("a joiner is not allowed here")


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG IPv4 parser: a host whose last label is a number is an IPv4 address.

    Each of its 1-4 parts may be decimal, octal (leading 0) or hex (0x); the last part fills the
    remaining bytes, so `127.1`, `0x7f000001` and `2130706433` all mean 127.0.0.1.
    """
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if not _is_number_label(parts[-1]):
        return None
    if len(parts) > 4:
        raise InvalidUrl("malformed", "The URL's host is not a valid IPv4 address.")
    numbers = []
    for part in parts:
        value = _ipv4_number(part)
        if value is None:
            raise InvalidUrl("malformed", "The URL's host is not a valid IPv4 address.")
        numbers.append(value)
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise InvalidUrl("malformed", "The URL's host is not a valid IPv4 address.")
    address = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        address += number * 256 ** (3 - index)
    return ipaddress.IPv4Address(address)


def _is_number_label(label: str) -> bool:
    if label.isascii() and label.isdigit():
        return True
    return label[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in label[2:])


def _ipv4_number(part: str) -> int | None:
    if part == "":
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if part == "":
        return 0
    try:
        return int(part, radix) if part.isascii() and part.isalnum() else None
    except ValueError:
        return None


def _check_address(host: str) -> None:
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    if host.startswith("["):
        address = ipaddress.IPv6Address(host[1:-1])
        embedding = embedded_ipv4(address)
        if embedding is not None:
            # Refused whatever it carries (docs/design.md); what it carries is still decoded
            # and named, so the verdict on a private one never rests on that decision alone.
            form, ipv4 = embedding
            inner = refused_block(ipv4)
            carried = f"{ipv4}, {inner.name}" if inner is not None else f"{ipv4}"
            raise _private_address(f"{host[1:-1]} is the {form} form of {carried}")
    else:
        bare = host.rstrip(".")
        if bare == "localhost" or bare.endswith(".localhost"):
            raise InvalidUrl("private_address", "Links to localhost are not allowed.")
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            return
    block = refused_block(address)
    if block is not None:
        raise _private_address(f"{host.strip('[]')} is in {block.cidr}, {block.name}")


def _private_address(why: str) -> InvalidUrl:
    return InvalidUrl(
        "private_address", f"Links to private or reserved addresses are not allowed ({why})."
    )


def refused_block(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> AddressBlock | None:
    """The most specific refused block that holds `address`, or None if links to it are fine."""
    blocks = REFUSED_IPV6 if isinstance(address, ipaddress.IPv6Address) else REFUSED_IPV4
    value = int(address)
    holding = [block for block in blocks if block.first <= value <= block.last]
    return min(holding, key=lambda block: block.last - block.first, default=None)


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, with the name of the form, or None."""
    value = int(address)
    for form in IPV4_EMBEDDINGS:
        if form.block.first <= value <= form.block.last and value not in form.excluded:
            ipv4 = (value >> form.shift) & 0xFFFFFFFF
            return form.block.name, ipaddress.IPv4Address(ipv4 ^ form.xor)
    return None


def _comparable_host(host: str) -> str:
    """A host as compared with squrl's own hosts and the blocklist: bare, lowercase, ASCII."""
    host = host.strip().lower()
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0]
    if host.startswith("["):
        host = host[: host.find("]") + 1]
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    host = host.rstrip(".")
    if not host.isascii():
        try:
            host = _to_punycode(host)
        except InvalidUrl:
            return host
    return host


def _matches_own_host(host: str, own_hosts: frozenset[str]) -> bool:
    bare = host.removeprefix("www.")
    return any(bare == own.removeprefix("www.") for own in own_hosts)


def _is_blocked(host: str, blocklist: frozenset[str]) -> bool:
    labels = host.split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels)))


def _percent_encode_non_ascii(text: str) -> str:
    """Percent-encode non-ASCII characters as UTF-8, as browsers do; keep everything else."""
    if text.isascii():
        return text
    try:
        return "".join(
            ch if ch.isascii() else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in text
        )
    except UnicodeEncodeError:
        raise InvalidUrl("malformed", "The URL contains text that is not valid Unicode.") from None
