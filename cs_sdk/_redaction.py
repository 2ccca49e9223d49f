"""The redaction processor step: masks what people type in feedback before it leaves.

The redactor runs as a processor step on the worker, before serialisation and before the
spool, so the raw text never leaves the process or touches disk. It is on by default;
``Client(redact_pii=False)`` turns it off. What it finds, and how, is in :mod:`cs_sdk._pii`.
"""

from __future__ import annotations

from typing import Any, Final

from ._attributes import FEEDBACK_COMMENT
from ._pii import CARD_MASK, EMAIL_MASK, IBAN_MASK, PHONE_MASK, redact_text
from ._record import EventRecord

__all__ = ["CARD_MASK", "EMAIL_MASK", "IBAN_MASK", "PHONE_MASK", "redact_feedback", "redact_text"]

# The free-text attributes of each event kind that carries what people write.
_TEXT_ATTRIBUTES: Final = {
    "cs.feedback": (FEEDBACK_COMMENT,),
    "cs.feedback.response": ("cs.response.message",),
}


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return _redact_mapping(value)
    return value


def _redact_mapping(mapping: dict[Any, Any]) -> dict[Any, Any]:
    """Keys are free text too (``{"ana@example.com": "vip"}``): both are redacted.

    Two keys may redact to the same text; the second becomes ``"[email] (2)"`` and so on, so
    no value is lost.
    """
    redacted: dict[Any, Any] = {}
    for key, item in mapping.items():
        if isinstance(key, str):
            key = base = redact_text(key)
            number = 2
            while key in redacted:
                key = f"{base} ({number})"
                number += 1
        redacted[key] = _redact_value(item)
    return redacted


def redact_feedback(record: EventRecord) -> EventRecord:
    """Processor step: redact the free text of feedback events (comment, property keys and
    values) and of the teams' answers to them (message)."""
    keys = _TEXT_ATTRIBUTES.get(record.schema.name)
    if keys is None:
        return record
    attributes = record.attributes
    if attributes:
        for key in keys:
            value = attributes.get(key)
            if isinstance(value, str):
                attributes[key] = redact_text(value)
    if isinstance(record.body, dict):
        record.body = _redact_value(record.body)
    return record
