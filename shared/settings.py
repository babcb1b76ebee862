"""Configuration from environment variables, parsed once per process and validated.

Standard library only: the redirect imports it on the hot path. Every capability (links,
redirect, clicks) reads its settings here, which is why it sits above the packages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from shared.contracts import names
from shared.contracts.codes import DEFAULT_LENGTH, MAX_CODE_LENGTH, MIN_GENERATED_LENGTH


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    env: str
    table_name: str
    region: str
    home_region: str
    short_base_url: str
    own_hosts: tuple[str, ...]
    blocklist: tuple[str, ...]
    code_length: int
    dax_endpoint: str
    click_stream: str

    def short_url(self, code: str) -> str:
        return f"{self.short_base_url}/{code}"


def _csv(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings. Cached: environment variables do not change in a running Lambda."""
    env = os.environ.get("SQURL_ENV", "dev")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    raw_length = os.environ.get("SQURL_CODE_LENGTH", str(DEFAULT_LENGTH))
    try:
        code_length = int(raw_length)
    except ValueError:
        raise ConfigurationError(
            f"SQURL_CODE_LENGTH must be an integer, got {raw_length!r}"
        ) from None
    if not MIN_GENERATED_LENGTH <= code_length <= MAX_CODE_LENGTH:
        raise ConfigurationError(
            f"SQURL_CODE_LENGTH must be {MIN_GENERATED_LENGTH}..{MAX_CODE_LENGTH}, "
            f"got {code_length}"
        )
    base_url = os.environ.get("SQURL_SHORT_BASE_URL", "").rstrip("/")
    if base_url and not base_url.startswith(("https://", "http://")):
        raise ConfigurationError(f"SQURL_SHORT_BASE_URL must be an http(s) URL, got {base_url!r}")
    own_hosts = _csv("SQURL_OWN_HOSTS")
    if base_url:
        own_hosts = (*own_hosts, base_url.split("://", 1)[1].split("/", 1)[0])
    return Settings(
        env=env,
        table_name=os.environ.get("SQURL_TABLE_NAME") or names.table_name(env),
        region=region,
        home_region=os.environ.get("SQURL_HOME_REGION") or region,
        short_base_url=base_url,
        own_hosts=own_hosts,
        blocklist=_csv("SQURL_BLOCKLIST"),
        code_length=code_length,
        dax_endpoint=os.environ.get("SQURL_DAX_ENDPOINT", ""),
        click_stream=os.environ.get("SQURL_CLICK_STREAM", ""),
    )
