"""Where the `squrl` command keeps its settings: one JSON file in the user's config directory.

`config.json` holds the base URL, the credential and the sign-in settings; `imports.json` the
import jobs by file hash (so a second `squrl import` of the same file resumes instead of
importing twice). Both are written with mode 0600 in a 0700 directory: the file holds a secret.

Precedence: a command-line `--url`, then `SQURL_URL` / `SQURL_TOKEN`, then the file.
`SQURL_CONFIG_DIR` moves the directory (tests, several accounts).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

DEFAULT_URL = "http://127.0.0.1:8080"
ENV_URL = "SQURL_URL"
ENV_TOKEN = "SQURL_TOKEN"
ENV_CONFIG_DIR = "SQURL_CONFIG_DIR"
CONFIG_FILE = "config.json"
IMPORTS_FILE = "imports.json"
# A JWT is refreshed this long before it expires, so a call does not race its expiry.
REFRESH_MARGIN_SECONDS = 60


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override) if override else Path(platformdirs.user_config_dir("squrl"))


def read_json(name: str) -> dict[str, Any]:
    path = config_dir() / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object")
    return data


def write_json(name: str, data: dict[str, Any]) -> Path:
    """Write atomically, readable by the user only (0600 from the first byte)."""
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / name
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2, sort_keys=True)
        stream.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


class ConfigError(Exception):
    pass


@dataclass
class Settings:
    """The effective settings of one command run, and what the file stores."""

    url: str = DEFAULT_URL
    token: str | None = None
    # Set when the token is a Cognito JWT from `squrl login` (browser): how to renew it.
    refresh_token: str | None = None
    token_expires_at: float | None = None
    oidc: dict[str, Any] = field(default_factory=dict)
    # Where each value came from ("flag", "env", "file", "default"), for `squrl config`.
    sources: dict[str, str] = field(default_factory=dict)

    def token_needs_refresh(self, now: float | None = None) -> bool:
        if not (self.refresh_token and self.token_expires_at):
            return False
        return (now or time.time()) >= self.token_expires_at - REFRESH_MARGIN_SECONDS


def load(url_flag: str | None = None) -> Settings:
    stored = read_json(CONFIG_FILE)
    settings = Settings(
        refresh_token=stored.get("refresh_token"),
        token_expires_at=stored.get("token_expires_at"),
        oidc=dict(stored.get("oidc") or {}),
    )
    for name, flag, env in (("url", url_flag, ENV_URL), ("token", None, ENV_TOKEN)):
        if flag:
            value, source = flag, "flag"
        elif os.environ.get(env):
            value, source = os.environ[env], "env"
        elif stored.get(name):
            value, source = stored[name], "file"
        else:
            value, source = getattr(settings, name), "default"
        setattr(settings, name, value)
        settings.sources[name] = source
    if settings.sources["token"] == "env":
        # An explicit token is used as given: the stored JWT's refresh does not apply to it.
        settings.refresh_token = settings.token_expires_at = None
    settings.url = settings.url.rstrip("/")
    return settings


def save(
    *,
    url: str | None = None,
    token: str | None = None,
    refresh_token: str | None = None,
    token_expires_at: float | None = None,
    oidc: dict[str, Any] | None = None,
) -> Path:
    """Store a sign-in: the credential replaces the previous one (and its refresh token)."""
    stored = read_json(CONFIG_FILE)
    if url:
        stored["url"] = url.rstrip("/")
    if token:
        stored["token"] = token
        stored.pop("refresh_token", None)
        stored.pop("token_expires_at", None)
    if refresh_token:
        stored["refresh_token"] = refresh_token
    if token_expires_at:
        stored["token_expires_at"] = token_expires_at
    if oidc:
        stored["oidc"] = oidc
    return write_json(CONFIG_FILE, stored)


def forget_credentials() -> bool:
    """Remove the stored credential; True when there was one."""
    stored = read_json(CONFIG_FILE)
    removed = [stored.pop(key, None) for key in ("token", "refresh_token", "token_expires_at")]
    write_json(CONFIG_FILE, stored)
    return any(removed)
