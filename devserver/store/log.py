"""The store's files: a write-ahead log in numbered segments, and snapshots that replace them.

    LOCK                  held (flock) by the one server using the directory
    wal-00000007.log      committed writes since snapshot 7, one framed record each
    snapshot-00000007.jsonl   every table and item as of the start of wal-00000007

A log record is framed as `length (4 bytes) | crc32 (4 bytes) | JSON payload`, appended and
fsynced before the write is answered. A record cut short or garbled by a crash mid-write fails
its length or checksum: at the end of the newest segment that is a write nobody was told
succeeded, and it is cut off; anywhere else it is damage, and the store refuses to start.

A snapshot is written to a temporary file, fsynced, renamed into place and the directory
fsynced, so it is either whole or absent; only then are the segments it covers deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from devserver.store.errors import StoreError

logger = logging.getLogger(__name__)

WAL_MAGIC = b"squrl-wal 1\n"
SNAPSHOT_FORMAT = 1
_HEADER = struct.Struct(">II")
_MAX_RECORD = 256 * 1024 * 1024
_WAL = re.compile(r"wal-(\d{8})\.log")
_SNAPSHOT = re.compile(r"snapshot-(\d{8})\.jsonl")


def wal_name(number: int) -> str:
    return f"wal-{number:08d}.log"


def snapshot_name(number: int) -> str:
    return f"snapshot-{number:08d}.jsonl"


def encode_record(record: dict[str, Any]) -> bytes:
    payload = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass
class Segment:
    number: int
    records: list[dict[str, Any]]
    good_bytes: int  # where the last whole record ends
    torn: bool  # bytes after good_bytes that are no whole record


def read_segment(path: Path, number: int) -> Segment:
    data = path.read_bytes()
    if not data.startswith(WAL_MAGIC):
        if WAL_MAGIC.startswith(data):  # created, but the crash came before its header was
            return Segment(number, [], 0, bool(data))
        raise StoreError(f"{path} is not a squrl write-ahead log")
    records = []
    offset = len(WAL_MAGIC)
    while offset < len(data):
        if offset + _HEADER.size > len(data):
            break
        length, checksum = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start : start + length]
        if length > _MAX_RECORD or len(payload) != length or zlib.crc32(payload) != checksum:
            break
        try:
            records.append(json.loads(payload))
        except ValueError:
            break
        offset = start + length
    return Segment(number, records, offset, offset < len(data))


class WriteAheadLog:
    """The open segment: appends are durable (fsynced) when `append` returns."""

    def __init__(self, directory: Path, number: int, *, truncate_to: int | None = None):
        self.number = number
        self.path = directory / wal_name(number)
        new = not self.path.exists()
        self._file: IO[bytes] = open(self.path, "r+b" if not new else "w+b")  # noqa: SIM115
        if truncate_to is not None and truncate_to < len(WAL_MAGIC):
            truncate_to = 0
        if truncate_to is not None:
            self._file.truncate(truncate_to)
        self._file.seek(0, os.SEEK_END)
        if self._file.tell() == 0:
            self._file.write(WAL_MAGIC)
            self._sync()
        elif truncate_to is not None:
            self._sync()
        if new:
            fsync_directory(directory)
        self.size = self._file.tell()

    def append(self, record: dict[str, Any]) -> None:
        frame = encode_record(record)
        self._file.write(frame)
        self._sync()
        self.size += len(frame)

    def _sync(self) -> None:
        self._file.flush()
        os.fdatasync(self._file.fileno()) if hasattr(os, "fdatasync") else os.fsync(
            self._file.fileno()
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()


def write_snapshot(
    directory: Path, number: int, header: dict[str, Any], rows: Iterator[Any]
) -> None:
    """Every item as of the start of segment `number`, atomically."""
    final = directory / snapshot_name(number)
    temporary = final.with_suffix(".tmp")
    checksum = 0
    count = 0
    with open(temporary, "wb") as out:
        for entry in _snapshot_lines(header, rows):
            line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            line += b"\n"
            checksum = zlib.crc32(line, checksum)
            count += 1
            out.write(line)
        out.write(json.dumps({"end": count, "crc32": checksum}).encode("utf-8") + b"\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, final)
    fsync_directory(directory)


def _snapshot_lines(header: dict[str, Any], rows: Iterator[Any]) -> Iterator[Any]:
    yield {"squrl_snapshot": SNAPSHOT_FORMAT, **header}
    yield from rows


def read_snapshot(path: Path) -> tuple[dict[str, Any], list[Any]]:
    """The header and rows of a whole snapshot; StoreError if it is not whole."""
    lines = path.read_bytes().splitlines(keepends=True)
    if len(lines) < 2:
        raise StoreError(f"{path} is incomplete")
    checksum = 0
    for line in lines[:-1]:
        checksum = zlib.crc32(line, checksum)
    try:
        footer = json.loads(lines[-1])
        header = json.loads(lines[0])
        rows = [json.loads(line) for line in lines[1:-1]]
    except ValueError:
        raise StoreError(f"{path} is damaged") from None
    if footer.get("end") != len(lines) - 1 or footer.get("crc32") != checksum:
        raise StoreError(f"{path} is damaged (checksum)")
    if header.get("squrl_snapshot") != SNAPSHOT_FORMAT:
        raise StoreError(f"{path} has an unknown format")
    return header, rows


class DataDirectory:
    """One server's hold on a data directory, and what it finds there at start."""

    def __init__(self, path: Path, *, fresh: bool = False):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self._lock = open(path / "LOCK", "a+")  # noqa: SIM115
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise StoreError(
                f"{path} is in use by another squrl server; stop it, or give this one its own "
                "SQURL_DATA_DIR"
            ) from None
        if fresh:
            for name in os.listdir(path):
                if _WAL.fullmatch(name) or _SNAPSHOT.fullmatch(name) or name.endswith(".tmp"):
                    (path / name).unlink()
            fsync_directory(path)
        for name in os.listdir(path):
            if name.endswith(".tmp"):  # a snapshot a crash interrupted
                (path / name).unlink()

    def numbers(self, pattern: re.Pattern[str]) -> list[int]:
        found = (pattern.fullmatch(name) for name in os.listdir(self.path))
        return sorted(int(match.group(1)) for match in found if match)

    def snapshots(self) -> list[int]:
        return self.numbers(_SNAPSHOT)

    def segments(self) -> list[int]:
        return self.numbers(_WAL)

    def remove_before(self, number: int) -> None:
        """Segments and snapshots that snapshot `number` made redundant."""
        for old in self.segments():
            if old < number:
                (self.path / wal_name(old)).unlink(missing_ok=True)
        for old in self.snapshots():
            if old < number:
                (self.path / snapshot_name(old)).unlink(missing_ok=True)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
