"""CSV records with their byte offsets and line numbers, read as a stream.

A job resumes at a byte offset, so the reader must know where each record ends: it splits the
raw bytes on newlines itself and joins physical lines while a quoted field is open (an odd count
of `"` so far: an escaped quote, `""`, adds two). Each record is then parsed by the csv module.
Nothing is held beyond the record being read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

BLOCK_BYTES = 64 * 1024
BOM = b"\xef\xbb\xbf"
# One record may not be longer than this (a field with an unclosed quote would otherwise swallow
# the rest of the file).
MAX_RECORD_BYTES = 64 * 1024


class RecordError(ValueError):
    """A record that cannot be read as CSV: its reason names the rule (docs/imports.md)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Record:
    line: int  # the physical line the record starts on, 1-based (the header is line 1)
    end: int  # byte offset just after the record: where the next one starts
    fields: list[str] | None  # None when the record could not be read
    error: RecordError | None = None


def _lines(source: BinaryIO, offset: int) -> Iterator[tuple[bytes, int]]:
    """Physical lines (with their newline) and the offset after each."""
    pending = b""
    while True:
        block = source.read(BLOCK_BYTES)
        if not block:
            break
        pending += block
        start = 0
        while True:
            newline = pending.find(b"\n", start)
            if newline < 0:
                break
            line = pending[start : newline + 1]
            offset += len(line)
            yield line, offset
            start = newline + 1
        pending = pending[start:]
    if pending:
        yield pending, offset + len(pending)


def _parse(raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordError("encoding", "The line is not valid UTF-8.") from None
    try:
        rows = list(csv.reader([text.rstrip("\r\n")], strict=True))
    except csv.Error as error:
        raise RecordError("csv", f"The line is not valid CSV: {error}.") from None
    return rows[0] if rows else []


def records(source: BinaryIO, *, offset: int = 0, line: int = 1) -> Iterator[Record]:
    """The CSV records of `source`, read from `offset` (where line `line` starts).

    Blank lines are skipped. A UTF-8 byte order mark at the start of the file is ignored.
    """
    buffer, start_line, physical = b"", line, line - 1
    quotes, end = 0, offset
    for raw, end in _lines(source, offset):
        physical += 1
        if not buffer:
            start_line = physical
            if end - len(raw) == 0 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
        buffer += raw
        quotes += raw.count(b'"')
        if quotes % 2 and len(buffer) <= MAX_RECORD_BYTES:
            continue  # a quoted field goes on past this newline
        record_bytes, buffer, open_quote, quotes = buffer, b"", quotes % 2, 0
        if not record_bytes.strip():
            continue
        if open_quote:
            too_long = RecordError("too_long", f"A record is longer than {MAX_RECORD_BYTES} bytes.")
            yield Record(start_line, end, None, too_long)
            continue
        try:
            yield Record(start_line, end, _parse(record_bytes))
        except RecordError as refused:
            yield Record(start_line, end, None, refused)
    if buffer.strip():
        error = RecordError("csv", "The last record has an unclosed quote.")
        yield Record(start_line, end, None, error)


def count_records(source: BinaryIO) -> int:
    """How many records follow the header: the job's `total`, known before the first chunk."""
    return max(0, sum(1 for _ in records(source)) - 1)
