"""Worst-case inputs for the PII redactor, at any size (shared by the test and the bench).

Each shape is a text that made a former pattern retry a long run from each of its positions
(seconds per 64 KB string). The redactor is linear: redacting a shape four times as long
costs about four times as much.
"""

from __future__ import annotations

SIZE = 65_536  # the longest string a property or comment may hold


def shapes(size: int = SIZE) -> dict[str, str]:
    """Every adversarial shape, each exactly ``size`` characters long or just under."""
    return {
        "local part, then @": "a" * (size - 1) + "@",
        "dotted local part": ("a." * size)[: size - 2] + "@b",
        "@ and a long domain": ("a@" + "b." * size)[:size],
        "@ and numeric labels": ("a@" + "1." * size)[:size],
        "many @": ("a@" * size)[:size],
        "many short addresses": ("a@b.c" * size)[:size],
        "one long number": "1" * (size - 1) + "a",
        "spaced digits": ("1 " * size)[: size - 1] + "a",
        "dashed digits": ("1-" * size)[:size],
        "bracketed digits": ("(1) " * size)[:size],
        "plus signs": ("+1 " * size)[:size],
        "dates and times": ("2025-03-01 12:30 " * size)[:size],
        "IBAN-shaped groups": ("AB12 " * size)[:size],
        "IBAN-shaped words": ("AB12" + "C" * 40 + " ") * (size // 45),
        "fullwidth and no-break separators": ("\uff11\u00a0\u2013" * size)[:size],
        "mixed contact details": (
            "ana@example.com +1 (555) 010-9999 4111 1111 1111 1111 10.0.0.1 " * size
        )[:size],
    }
