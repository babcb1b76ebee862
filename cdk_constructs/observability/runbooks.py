"""Every alarm description links its runbook, docs/runbooks/<slug>.md, which must exist."""

from __future__ import annotations

from pathlib import Path

RUNBOOK_DIR = Path(__file__).resolve().parents[2] / "docs" / "runbooks"


class Runbooks:
    """Links to runbooks: under `base_url` when set, else the repository path."""

    def __init__(self, base_url: str | None) -> None:
        self._base = base_url

    def link(self, slug: str) -> str:
        if not (RUNBOOK_DIR / f"{slug}.md").is_file():
            raise FileNotFoundError(f"alarm {slug!r} has no runbook at docs/runbooks/{slug}.md")
        if self._base:
            return f"{self._base}/{slug}.md"
        return f"docs/runbooks/{slug}.md"
