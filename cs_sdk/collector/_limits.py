"""What the collector accepts from a sender, in one place.

    limits = Limits(max_body=1 << 20, max_connections=64)
    LocalCollector(limits=limits)

Every figure bounds something a hostile or broken sender could otherwise make unbounded:
memory (body, inflated body, records and attributes per request, nesting), threads (the
decode pool), file descriptors (connections) and time (the deadlines). The defaults are far
above what the SDK sends (a batch is at most 2 MiB and 2,048 records unless configured) and
far below what hurts a laptop.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one sender can make the collector do.

    Args:
        max_body: bytes of a request body as received (413 beyond).
        inflate_ratio: a gzip body inflates to at most ``inflate_ratio * max_body`` bytes
            (400 beyond): the cap follows the body limit, so a bomb costs a bounded multiple.
        max_records: log records in one request (413 beyond).
        max_attributes: attributes on one record, resource or scope (400 beyond).
        max_depth: nesting of AnyValue arrays and maps, and of a JSON document (400 beyond).
        max_values: attributes, map entries and array items in one request, all records
            together (413 beyond): each becomes a Python object.
        max_json_containers: objects and arrays in an OTLP/JSON body (413 beyond). JSON is
            parsed in Python at ~20 us per object; an SDK batch of 2,048 events holds ~60,000.
        max_connections: open connections, further clamped to the process's file limit
            less a reserve. When full, the connection that has waited longest for its next
            request is closed to make room: an idle or trickling sender loses its place and
            a new sender is served.
        max_concurrent: requests decoded and stored at the same time (threads of the pool).
        max_buffered: body bytes held by all connections together before decoding; a
            request that would go past it is answered 503 with Retry-After.
        header_timeout: seconds to receive a request's head, from its first byte.
        body_timeout: seconds to receive a request's body, from the end of its head.
        idle_timeout: seconds a keep-alive connection may wait for its next request.
        write_timeout: seconds to hand an answer to a client that does not read.
        insert_chunk: rows per SQLite transaction: a large request does not hold the
            database away from other senders for the whole of it. Above the SDK's largest
            batch (2,048 by default), so that an SDK request is one transaction (each commit
            costs about as much as inserting a few hundred rows).
        max_id_length: characters kept in an id column (event, user, account, session...);
            a longer value is stored NULL in the column (it stays in ``attributes``).
    """

    max_body: int = 16 * 1024 * 1024
    inflate_ratio: int = 4
    max_records: int = 100_000
    max_attributes: int = 256
    max_depth: int = 32
    max_values: int = 2_000_000
    max_json_containers: int = 250_000
    max_connections: int = 1024
    max_concurrent: int = 2
    max_buffered: int = 128 * 1024 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    idle_timeout: float = 60.0
    write_timeout: float = 30.0
    insert_chunk: int = 8_192
    max_id_length: int = 256

    @property
    def max_inflated(self) -> int:
        """Bytes a gzip body may inflate to."""
        return self.inflate_ratio * self.max_body
