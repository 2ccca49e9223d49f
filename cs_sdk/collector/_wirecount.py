"""Counting the log records of a protobuf ExportLogsServiceRequest without parsing it.

    count_log_records(data, limit=100_000)   # stops counting once past ``limit``

Protobuf builds every message before we could look at it, and an empty LogRecord costs two
bytes on the wire: 10^6 of them gzip to 2 KiB and took gigabytes once built. Walking the tags
of the three enclosing levels (request -> ResourceLogs -> ScopeLogs -> LogRecord) costs one
step per field at those levels and stops at ``limit + 1``. A malformed body is not judged
here: the count stops where the wire stops making sense and protobuf says why.
"""

from __future__ import annotations

from collections.abc import Iterator

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def _varint(data: bytes, at: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while at < end and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
    raise ValueError("bad varint")


def _fields(data: bytes, at: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(field number, start, end) of each length-delimited field in ``data[at:end]``."""
    while at < end:
        key, at = _varint(data, at, end)
        number, kind = key >> 3, key & 7
        if kind == _LEN:
            size, at = _varint(data, at, end)
            if at + size > end:
                raise ValueError("field past the end")
            yield number, at, at + size
            at += size
        elif kind == _VARINT:
            _, at = _varint(data, at, end)
        elif kind == _I64:
            at += 8
        elif kind == _I32:
            at += 4
        else:
            raise ValueError("unknown wire type")


def count_log_records(data: bytes, limit: int) -> int:
    """How many LogRecords ``data`` holds, or the first count past ``limit``."""
    count = 0
    try:
        for number, start, end in _fields(data, 0, len(data)):
            if number != 1:  # ExportLogsServiceRequest.resource_logs
                continue
            for inner, s_start, s_end in _fields(data, start, end):
                if inner != 2:  # ResourceLogs.scope_logs
                    continue
                for field, _, _ in _fields(data, s_start, s_end):
                    if field == 2:  # ScopeLogs.log_records
                        count += 1
                        if count > limit:
                            return count
    except ValueError:
        pass  # malformed: protobuf's parser gives the reason
    return count
