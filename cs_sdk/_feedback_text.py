"""A feedback comment over the length limit is cut, not refused.

The comment is what a customer typed: the application cannot keep it short, and refusing it
used to drop the whole answer, score included. It is cut to the limit with a marker at the
end, so whoever reads it knows there was more, and the cut is counted
(``stats()["warnings"]["comment_truncated"]``) and logged once.

    >>> len(truncated("x" * 70_000)) == MAX_STRING_LENGTH
    True
"""

from __future__ import annotations

from ._validate import MAX_STRING_LENGTH

__all__ = ["TRUNCATION_MARKER", "truncated"]

TRUNCATION_MARKER = " [… truncated by cs_sdk]"


def truncated(comment: str, limit: int = MAX_STRING_LENGTH) -> str:
    """``comment`` cut so that it, with the marker, holds ``limit`` characters."""
    return comment[: limit - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
