"""Reading squrl's configuration from the CDK context: cdk.json's `squrl` key and `-c` overrides."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from squrl_config.models import EnvironmentConfig, SqurlConfig

CONTEXT_KEY = "squrl"
ENV_SELECTOR_KEY = "env"


class ConfigError(Exception):
    """A value in cdk.json is wrong or missing; the message names the key."""


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in (CONTEXT_KEY, *item["loc"]))
        lines.append(f"  {key}: {item['msg']}")
    return "invalid squrl configuration in cdk.json context:\n" + "\n".join(lines)


def _apply_override(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `environments.<env>.<path>` from a `-c squrl.<env>.<path>=<value>` CLI override."""
    parts = dotted.split(".")
    node: dict[str, Any] = raw.setdefault("environments", {})
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    if isinstance(value, str) and not isinstance(node.get(parts[-1]), str):
        # CLI context values arrive as strings; JSON lets lists, numbers and booleans through,
        # except where cdk.json holds a string (an account id must stay "0123...").
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    node[parts[-1]] = value


def load_config(context: Mapping[str, Any]) -> SqurlConfig:
    """Validate the `squrl` context and apply `squrl.<env>.<key>=<value>` overrides."""
    raw = context.get(CONTEXT_KEY)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"context key {CONTEXT_KEY!r} is not valid JSON: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"cdk.json context key {CONTEXT_KEY!r} is missing or not an object; it must hold "
            "an 'environments' object"
        )
    merged: dict[str, Any] = json.loads(json.dumps(raw))
    prefix = CONTEXT_KEY + "."
    for key in sorted(context):
        if key.startswith(prefix):
            _apply_override(merged, key[len(prefix) :], context[key])
    try:
        return SqurlConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None


def select_environments(config: SqurlConfig, selector: str | None) -> list[EnvironmentConfig]:
    """All environments, or only the one named by `-c env=NAME`."""
    if selector is None or selector == "":
        return list(config.environments.values())
    if selector not in config.environments:
        known = ", ".join(sorted(config.environments))
        raise ConfigError(f"unknown environment {selector!r} (-c env=...); known: {known}")
    return [config.environments[selector]]
