"""What the `squrl` command draws: link tables, a link's card, the daily-clicks chart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

BAR = "█"
STATUS_STYLES = {"active": "green", "disabled": "yellow", "expired": "red"}


def status_text(status: str | None) -> Text:
    return Text(status or "?", style=STATUS_STYLES.get(status or "", ""))


def shorten(text: str | None, width: int) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def links_table(links: Iterable[Mapping[str, Any]], *, title: str = "Your links") -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("Code", style="bold cyan", no_wrap=True)
    table.add_column("Destination", overflow="fold", max_width=60)
    table.add_column("Status", no_wrap=True)
    table.add_column("Clicks", justify="right")
    table.add_column("Tags")
    table.add_column("Created", no_wrap=True)
    for link in links:
        table.add_row(
            str(link.get("short_code", "")),
            shorten(link.get("original_url"), 60),
            status_text(link.get("status")),
            str(link.get("click_count", 0)),
            ", ".join(link.get("tags") or []),
            str(link.get("created_at", ""))[:10],
        )
    return table


def link_card(link: Mapping[str, Any]) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows: list[tuple[str, Any]] = [
        ("Short URL", link.get("short_url")),
        ("Destination", link.get("original_url")),
        ("Status", status_text(link.get("status"))),
        ("Redirect", link.get("redirect_type")),
        ("Title", link.get("title") or "-"),
        ("Tags", ", ".join(link.get("tags") or []) or "-"),
        ("Clicks", link.get("click_count", 0)),
        ("Created", link.get("created_at")),
        ("Updated", link.get("updated_at", "-")),
        ("Expires", link.get("expires_at") or "never"),
        ("Version", link.get("version", "-")),
    ]
    for name, value in rows:
        table.add_row(name, value if isinstance(value, Text) else str(value))
    return table


def history_table(entries: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title="History", title_justify="left")
    table.add_column("At", no_wrap=True)
    table.add_column("Action")
    table.add_column("Actor")
    table.add_column("Changes", overflow="fold")
    for entry in entries:
        changes = "; ".join(
            f"{name}: {pair[0]!r} → {pair[1]!r}"
            for name, pair in (entry.get("changes") or {}).items()
        )
        table.add_row(
            str(entry.get("at", "")), str(entry.get("action", "")), str(entry.get("actor")), changes
        )
    return table


def daily_series(
    daily: Sequence[Mapping[str, Any]], days: int, today: date
) -> list[tuple[str, int]]:
    """The last `days` UTC days up to `today`, days without clicks as 0."""
    counts = {str(point["date"]): int(point["clicks"]) for point in daily}
    if counts:
        # A server clock ahead of ours (or a day that just began there) still shows.
        today = max(today, max(date.fromisoformat(day) for day in counts))
    first = today - timedelta(days=days - 1)
    return [
        (
            (first + timedelta(days=n)).isoformat(),
            counts.get((first + timedelta(days=n)).isoformat(), 0),
        )
        for n in range(days)
    ]


def bar_chart(series: Sequence[tuple[str, int]], *, width: int = 40) -> Text:
    """One line per label: the bar scaled to the largest value, then the value."""
    peak = max((value for _, value in series), default=0)
    label_width = max((len(label) for label, _ in series), default=0)
    text = Text()
    for label, value in series:
        length = 0 if peak == 0 else max(1 if value else 0, round(value / peak * width))
        text.append(f"{label:<{label_width}} ")
        text.append(BAR * length, style="magenta")
        text.append(f" {value}\n")
    return text


def breakdown_table(title: str, key: str, rows: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(key.capitalize())
    table.add_column("Clicks", justify="right")
    for row in rows:
        table.add_row(str(row.get(key)), str(row.get("clicks", 0)))
    return table


def stats_view(stats: Mapping[str, Any], *, days: int, today: date) -> RenderableType:
    series = daily_series(stats.get("daily") or [], days, today)
    headline = Text.assemble(
        ("Clicks ", "bold"),
        (str(stats.get("click_count", 0)), "bold magenta"),
        f"  (bots apart: {stats.get('bot_clicks', 0)})",
    )
    parts: list[RenderableType] = [
        headline,
        Text(f"Daily clicks, last {days} days (UTC)", style="bold"),
        bar_chart(series),
    ]
    for title, key, rows in (
        ("Referrers", "domain", stats.get("referrers")),
        ("Countries", "country", stats.get("countries")),
        ("Devices", "device", stats.get("devices")),
    ):
        parts.append(breakdown_table(title, key, rows) if rows else Text(f"{title}: none yet"))
    return Group(*parts)


def tokens_table(tokens: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title="Tokens", title_justify="left")
    for column in ("ID", "Name", "Scopes", "Created", "Expires", "Last used"):
        table.add_column(column)
    for token in tokens:
        table.add_row(
            str(token.get("id")),
            str(token.get("name")),
            " ".join(token.get("scopes") or []),
            str(token.get("created_at") or "-"),
            str(token.get("expires_at") or "never"),
            str(token.get("last_used_at") or "-"),
        )
    return table


def import_errors_table(errors: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title="Rows not imported", title_justify="left")
    table.add_column("Line", justify="right")
    table.add_column("Error", overflow="fold")
    for error in errors:
        table.add_row(str(error.get("line")), str(error.get("error")))
    return table
