"""Click events: what a click is reduced to.

A click keeps only the short code, a UTC timestamp, the referrer's host, the viewer's country
(as CloudFront resolved it) and a device class derived from the user agent. The IP address, the
user agent itself and the referrer's path and query never leave the request that carried them.
How the redirect hands a click off is shared.clicks.producer.

Standard library only: the redirect imports this module on the hot path.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from shared.contracts.clicks import MARKER
from shared.contracts.codes import is_possible_code

MOBILE, TABLET, DESKTOP, BOT, OTHER = "mobile", "tablet", "desktop", "bot", "other"
DEVICES = (MOBILE, TABLET, DESKTOP, BOT, OTHER)
UNKNOWN_COUNTRY = "unknown"
# Referrer placeholders use parentheses, which no hostname can contain.
DIRECT = "(direct)"
UNPARSABLE_REFERRER = "(other)"
SOURCES = ("regional", "edge")

_COUNTRY = re.compile(r"[A-Z]{2}")
_HOSTNAME = re.compile(r"(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*")

# Crawlers, link unfurlers, uptime monitors and HTTP libraries, matched as lowercase substrings
# (plain `in` checks: a regular expression with this many alternatives costs ~80 us per user
# agent, on the redirect's hot path). Library user agents count as bots: browsers always name
# themselves, and scripted traffic is what inflates counts.
_BOT_TOKENS = (
    "bot",  # googlebot, bingbot, applebot, slackbot, twitterbot, discordbot, ...
    "crawl",
    "spider",
    "slurp",
    "scrap",
    "archiver",
    "facebookexternalhit",
    "facebookcatalog",
    "embedly",
    "preview",
    "unfurl",
    "whatsapp/",
    "telegram",
    "skypeuripreview",
    "vkshare",
    "pingdom",
    "uptime",
    "monitor",
    "statuscake",
    "headless",
    "phantomjs",
    "lighthouse",
    "pagespeed",
    "curl/",
    "wget/",
    "httpie",
    "python-",
    "aiohttp",
    "okhttp",
    "go-http-client",
    "java/",
    "apache-httpclient",
    "libwww",
    "node-fetch",
    "axios",
    "undici",
    "postman",
    "insomnia",
    "httpclient",
    "guzzle",
)
# Phone brands whose names contain a bot token.
_NOT_BOTS = ("cubot",)
_TABLET_TOKENS = ("ipad", "tablet", "kindle", "silk/", "playbook")
_MOBILE_TOKENS = (
    "mobi",
    "iphone",
    "ipod",
    "windows phone",
    "blackberry",
    "bb10",
    "opera mini",
    "iemobile",
)
_DESKTOP_TOKENS = ("windows nt", "macintosh", "mac os x", "x11", "linux", "cros")
# TVs, streaming sticks and consoles: their browsers say Linux, Android or Windows too, so they
# are recognized before tablet, mobile and desktop.
_OTHER_DEVICE_TOKENS = (
    "smart-tv",
    "smarttv",
    "hbbtv",
    "googletv",
    "android tv",
    "appletv",
    "apple tv",
    "crkey",
    "roku",
    "web0s",
    "netcast",
    "bravia",
    "aftb",
    "aftm",
    "aftt",
    "afts",
    "playstation",
    "xbox",
    "nintendo",
)


class InvalidClick(ValueError):
    """A click event that does not have the shape of one: a poison record downstream."""


@dataclass(frozen=True, slots=True)
class ClickEvent:
    id: str  # unique per click, so a duplicate delivered in the same batch is counted once
    code: str
    ts: int  # epoch milliseconds, UTC
    referrer: str  # host only, DIRECT or UNPARSABLE_REFERRER
    country: str  # ISO 3166-1 alpha-2 or UNKNOWN_COUNTRY
    device: str  # one of DEVICES
    source: str = "regional"

    @property
    def is_bot(self) -> bool:
        return self.device == BOT

    @property
    def day(self) -> str:
        return datetime.fromtimestamp(self.ts / 1000, UTC).strftime("%Y-%m-%d")

    def to_dict(self) -> dict[str, object]:
        return {
            MARKER: 1,
            "id": self.id,
            "code": self.code,
            "ts": self.ts,
            "referrer": self.referrer,
            "country": self.country,
            "device": self.device,
            "source": self.source,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: object) -> ClickEvent:
        """Validate a decoded event. Anything off-shape is an InvalidClick, never a crash."""
        if not isinstance(data, dict) or data.get(MARKER) != 1:
            raise InvalidClick("not a click event")
        try:
            event = cls(
                id=str(data["id"]),
                code=str(data["code"]),
                ts=int(data["ts"]),
                referrer=str(data["referrer"]),
                country=str(data["country"]),
                device=str(data["device"]),
                source=str(data.get("source", "regional")),
            )
        except KeyError as error:
            raise InvalidClick(f"malformed click event: no {error.args[0]!r} field") from None
        except (TypeError, ValueError):
            # The conversion's own message would quote the value, which may be anything a
            # producer put there: the reason reaches logs and the dead-letter queue.
            raise InvalidClick("malformed click event: a field has the wrong type") from None
        event.validate()
        return event

    def validate(self) -> None:
        if not is_possible_code(self.code):
            raise InvalidClick("the short code is malformed")
        if not 0 < self.ts < 10**14 or not 0 < len(self.id) <= 128:
            raise InvalidClick("the timestamp or id is out of range")
        if self.device not in DEVICES or self.source not in SOURCES:
            raise InvalidClick("unknown device class or source")
        if self.country != UNKNOWN_COUNTRY and not _COUNTRY.fullmatch(self.country):
            raise InvalidClick("malformed country")
        if self.referrer not in (DIRECT, UNPARSABLE_REFERRER) and not _HOSTNAME.fullmatch(
            self.referrer
        ):
            raise InvalidClick("malformed referrer domain")


def device_class(user_agent: str | None) -> str:
    """mobile, tablet, desktop, bot or other. A missing user agent is a bot: browsers send one."""
    ua = (user_agent or "").strip().lower()
    # A bare "Mozilla/5.0" is a script pretending to be a browser.
    if not ua or ua == "mozilla/5.0":
        return BOT
    if any(token in ua for token in _BOT_TOKENS) and not any(name in ua for name in _NOT_BOTS):
        return BOT
    if any(token in ua for token in _OTHER_DEVICE_TOKENS):
        return OTHER
    if any(token in ua for token in _TABLET_TOKENS) or ("android" in ua and "mobile" not in ua):
        return TABLET
    if any(token in ua for token in _MOBILE_TOKENS):
        return MOBILE
    if any(token in ua for token in _DESKTOP_TOKENS):
        return DESKTOP
    return OTHER


def referrer_domain(referer: str | None) -> str:
    """The referrer's host, lowercased, without port, credentials, path or query."""
    if not referer or referer == "-":
        return DIRECT
    try:
        host = urlsplit(referer.strip()).hostname
    except ValueError:
        return UNPARSABLE_REFERRER
    if not host:
        return UNPARSABLE_REFERRER
    host = host.rstrip(".").lower()
    return host if _HOSTNAME.fullmatch(host) else UNPARSABLE_REFERRER


def viewer_country(value: str | None) -> str:
    if value:
        value = value.strip().upper()
        if _COUNTRY.fullmatch(value):
            return value
    return UNKNOWN_COUNTRY


def click_event(
    code: str,
    *,
    user_agent: str | None,
    referer: str | None,
    country: str | None,
    ts_ms: int,
    event_id: str | None = None,
    source: str = "regional",
) -> ClickEvent:
    return ClickEvent(
        id=event_id or uuid.uuid4().hex,
        code=code,
        ts=ts_ms,
        referrer=referrer_domain(referer),
        country=viewer_country(country),
        device=device_class(user_agent),
        source=source,
    )
