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
# Code points a host may not contain (WHATWG "forbidden domain code point", ASCII part).
FORBIDDEN_HOST_CHARS = frozenset("\x00\t\n\r #/:<>?@[\\]^|%\x7f\"'`{}")
HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


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


def normalize_url(raw: str, policy: UrlPolicy = UrlPolicy()) -> str:
    """Validate `raw` and return its normalized form, or raise InvalidUrl naming the rule."""
    if any(ch.isspace() or _is_control(ch) for ch in raw):
        raise InvalidUrl("malformed", "The URL contains whitespace or control characters.")

    scheme, sep, rest = raw.partition(":")
    if not sep or not SCHEME.fullmatch(scheme):
        raise InvalidUrl("malformed", "The URL must be absolute, like https://example.com/path.")
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidUrl("invalid_scheme", "Only http and https URLs can be shortened.")
    if not rest.startswith("//"):
        raise InvalidUrl("malformed", "The URL must be absolute, like https://example.com/path.")

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

    _check_address(host)
    comparable = _comparable_host(host)
    if _matches_own_host(comparable, policy.own_hosts):
        raise InvalidUrl("self_reference", "A short link may not point to squrl itself.")
    if _is_blocked(comparable, policy.blocklist):
        raise InvalidUrl("blocked_domain", "Links to this domain are not allowed.")

    if not tail or tail[0] in "?#":
        tail = "/" + tail
    normalized = f"{scheme}://{host}{port}{_percent_encode_non_ascii(tail)}"
    if len(normalized) > MAX_URL_LENGTH:
        raise InvalidUrl("too_long", f"The URL is longer than {MAX_URL_LENGTH} characters.")
    return normalized


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
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise InvalidUrl("malformed", "The URL's IPv6 host is not valid.") from None
        return f"[{address.compressed}]"
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
    if host.startswith("["):
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv6Address(host[1:-1])
    else:
        bare = host.rstrip(".")
        if bare == "localhost" or bare.endswith(".localhost"):
            raise InvalidUrl("private_address", "Links to localhost are not allowed.")
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            return
    if not _is_public(address):
        raise InvalidUrl(
            "private_address", "Links to private or reserved addresses are not allowed."
        )


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not _is_public(embedded):
            return False
    # Reserved covers IPv6's ::/8, where the IPv4-compatible (::127.0.0.1) and IPv4-translated
    # (::ffff:0:127.0.0.1) forms live; `is_global` alone lets them through.
    return address.is_global and not (address.is_multicast or address.is_reserved)


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
