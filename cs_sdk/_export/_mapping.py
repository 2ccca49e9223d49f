"""Event record -> OTLP LogRecord: the mapping documented in docs/otlp-mapping.md.

This module is the single place that decides how a record maps to OTLP; the attribute names
live in ``cs_sdk/_attributes.py``. Keep both and the document in step, since reports, schema
validation and other backends query these names. ``testing.capture()`` maps through
``to_otlp``; the protobuf writer's one-pass ``encode_event`` shares ``add_who_and_pilots``
and is checked byte for byte against ``to_otlp`` + ``encode_record`` (tests/export).
"""

from __future__ import annotations

from typing import Any, Final

from .._attributes import (
    ACCOUNT_ID,
    EVENT_ID,
    EVENT_NAME,
    PILOT_COHORTS,
    PILOT_IDS,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    SESSION_ID,
    USER_ID,
)
from .._record import EventRecord
from ._otlp_types import AttributeValue, OtlpLogRecord, OtlpScope

__all__ = [
    "ACCOUNT_ID",
    "EVENT_ID",
    "EVENT_NAME",
    "MAPPED_ATTRIBUTES",
    "PILOT_COHORTS",
    "PILOT_IDS",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "SESSION_ID",
    "USER_ID",
    "add_who_and_pilots",
    "build_scope",
    "to_otlp",
]
MAPPED_ATTRIBUTES: Final = frozenset(
    {EVENT_ID, EVENT_NAME, SCHEMA_NAME, SCHEMA_VERSION, USER_ID, SESSION_ID, ACCOUNT_ID}
    | {PILOT_IDS, PILOT_COHORTS}
)
"""The attributes ``to_otlp`` writes from the record's own fields."""


def to_otlp(record: EventRecord) -> OtlpLogRecord:
    """Map one event record (its typed body already resolved) to an OTLP log record."""
    schema = record.schema
    attributes: dict[str, AttributeValue] = {
        EVENT_ID: record.event_id,
        EVENT_NAME: record.name,
        SCHEMA_NAME: schema.name,
        SCHEMA_VERSION: schema.version,
    }
    add_who_and_pilots(record, attributes)
    if record.attributes:
        attributes.update(record.attributes)
    body: Any = record.body
    return OtlpLogRecord(
        time_unix_nano=record.time_unix_nano,
        observed_time_unix_nano=record.time_unix_nano,
        event_name=schema.name,
        attributes=attributes,
        body=body or None,
        trace_id=record.trace_id.to_bytes(16, "big") if record.trace_id else b"",
        span_id=record.span_id.to_bytes(8, "big") if record.span_id else b"",
        flags=record.trace_flags,
    )


def add_who_and_pilots(record: EventRecord, attributes: dict[str, AttributeValue]) -> None:
    """The attributes after the event's id, name and schema: user, session, account, pilots.

    Shared by ``to_otlp`` and the protobuf writer's one-pass ``encode_event``.
    """
    if record.user_id is not None:
        attributes[USER_ID] = record.user_id
    if record.session_id is not None:
        attributes[SESSION_ID] = record.session_id
    if record.account_id is not None:
        attributes[ACCOUNT_ID] = record.account_id
    if record.pilots:
        attributes[PILOT_IDS] = [pilot for pilot, _ in record.pilots]
        # Parallel to cs.pilot.ids; "" where the membership has no cohort.
        attributes[PILOT_COHORTS] = [cohort or "" for _, cohort in record.pilots]


def build_scope(resource_attributes: dict[str, str], sdk_version: str) -> OtlpScope:
    """The resource (service and SDK identity) and the instrumentation scope of a client."""
    resource: dict[str, AttributeValue] = {
        "telemetry.sdk.name": "cs_sdk",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": sdk_version,
    }
    resource.update(resource_attributes)
    return OtlpScope(resource_attributes=resource, scope_name="cs_sdk", scope_version=sdk_version)
