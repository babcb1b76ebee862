"""The committed price table, docs/prices.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICE_TABLE = Path(__file__).resolve().parents[2] / "docs" / "prices.toml"


@dataclass(frozen=True)
class Prices:
    table: dict[str, Any]

    @classmethod
    def load(cls, path: Path = PRICE_TABLE) -> Prices:
        return cls(tomllib.loads(path.read_text()))

    def __call__(self, service: str, item: str) -> float:
        """One price, e.g. prices("waf", "web_acl_month"); a missing entry is an error."""
        try:
            return float(self.table[service][item])
        except KeyError:
            raise KeyError(f"docs/prices.toml has no [{service}] {item}") from None

    def dax_node_hour(self, node_type: str) -> float:
        table = self.table["dax"]["node_hour"]
        if node_type not in table:
            raise KeyError(
                f"docs/prices.toml has no DAX price for {node_type}; add it under "
                f"[dax] node_hour with its source (known: {', '.join(sorted(table))})"
            )
        return float(table[node_type])

    @property
    def hours_per_month(self) -> float:
        return float(self.table["meta"]["hours_per_month"])

    @property
    def seconds_per_month(self) -> float:
        return self.hours_per_month * 3600

    @property
    def transcribed(self) -> str:
        return str(self.table["meta"]["transcribed"])

    @property
    def sources(self) -> dict[str, str]:
        return dict(self.table["sources"])
