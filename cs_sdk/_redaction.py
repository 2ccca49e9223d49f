"""The built-in redactor: e-mail addresses, phone numbers and card numbers in free text.

Customers paste contact details into feedback comments. The redactor runs as a processor
step on the worker, before serialisation and before the spool, so the raw text never leaves
the process or touches disk. It is on by default; ``Client(redact_pii=False)`` turns it off.

It runs on the single worker thread over strings of up to 64 KB, so every pattern here is
linear in the length of the text: each quantifier is bounded or runs over characters the
next token cannot start with, so the regex engine never retries a long run from every
position (the former e-mail pattern took 3.9 s on ``"a" * 65535 + "@"``).
"""

from __future__ import annotations

import re
from typing import Any, Final

from ._record import EventRecord

EMAIL_MASK: Final = "[email]"
PHONE_MASK: Final = "[phone]"
CARD_MASK: Final = "[card]"

# E-mail: found from its "@domain" part, then the local part is read backwards from the "@",
# at most 64 characters (RFC 5321's limit). Domain: up to 127 labels of 1-63 characters and
# a top-level domain of letters. Matching from the "@" means a long run of local-part
# characters is never rescanned from each of its positions.
_AT_DOMAIN = re.compile(r"@(?:[\w\-]{1,63}\.){1,127}[^\W\d_]{2,63}")
_LOCAL_PART_REVERSED = re.compile(r"[\w.%+\-]{1,64}")
_LOCAL_PART_MAX: Final = 64

# A run of digit groups joined by the separators people type in phone and card numbers:
# "+1 (555) 010-9999", "06 12 34 56 78", "4111-1111-1111-1111". Digits and separators are
# disjoint and separators are bounded, so a run parses one way only and backtracking is
# bounded by its length.
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\(?\d+(?:[ .\-/()]{1,3}\d+)*\)?(?!\w)")
_DIGIT_GROUP = re.compile(r"\d+")
_ANY_DIGIT = re.compile(r"\d")
_TIME_SEPARATOR = re.compile(r":\d")
_DATE_SEPARATORS: Final = frozenset("-/.")
_PHONE_DIGITS: Final = range(9, 16)
_CARD_DIGITS: Final = range(13, 20)
# The free-text attributes of each event kind that carries what people write.
_TEXT_ATTRIBUTES: Final = {
    "cs.feedback": ("cs.feedback.comment",),
    "cs.feedback.response": ("cs.response.message",),
}
# Luhn doubles every second digit from the right and adds the digits of the product.
_LUHN_DOUBLED: Final = str.maketrans("0123456789", "0246813579")


def _luhn_valid(digits: str) -> bool:
    if not digits.isascii():  # \d matches any Unicode decimal digit; int() reads them all
        digits = "".join(str(int(char)) for char in digits)
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(map(int, digits[-1::-2])) + sum(map(int, doubled))) % 10 == 0


def _mask_emails(text: str) -> str:
    parts: list[str] = []
    done = 0  # text[:done] is already in parts
    for match in _AT_DOMAIN.finditer(text):
        at = match.start()
        window = text[max(done, at - _LOCAL_PART_MAX) : at][::-1]
        local = _LOCAL_PART_REVERSED.match(window)
        if local is None:
            continue
        parts.append(text[done : at - local.end()])
        parts.append(EMAIL_MASK)
        done = match.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _is_date(lengths: tuple[int, ...], separators: tuple[str, ...]) -> bool:
    """2025-03-01, 01/03/2025, 1.3.2025: three groups, one separator, a 4-digit year."""
    first, second = separators
    if first != second or first not in _DATE_SEPARATORS:
        return False
    year_first = lengths[0] == 4 and lengths[1] <= 2 and lengths[2] <= 2
    year_last = lengths[0] <= 2 and lengths[1] <= 2 and lengths[2] == 4
    return year_first or year_last


def _is_ipv4(groups: list[str], separators: list[str], index: int) -> bool:
    """Four dotted groups of 0-255 at ``index``, not part of a longer dotted sequence."""
    if index + 4 > len(groups) or any(sep != "." for sep in separators[index : index + 3]):
        return False
    if (index and separators[index - 1] == ".") or separators[index + 3 : index + 4] == ["."]:
        return False
    return all(len(group) <= 3 and int(group) <= 255 for group in groups[index : index + 4])


def _excluded_groups(match: re.Match[str], groups: list[str], separators: list[str]) -> list[bool]:
    """Which digit groups of the run belong to a date, a time or an IPv4 address."""
    excluded = [False] * len(groups)
    text, start, end = match.string, match.start(), match.end()
    run_starts_with_digit = text[start].isdigit()
    run_ends_with_digit = text[end - 1].isdigit()
    if run_ends_with_digit and len(groups[-1]) <= 2 and _TIME_SEPARATOR.match(text, end):
        excluded[-1] = True  # the hour of "12:30"
    if (
        run_starts_with_digit
        and len(groups[0]) == 2
        and start >= 2
        and text[start - 1] == ":"
        and text[start - 2].isdigit()
    ):
        excluded[0] = True  # the minutes of "12:30 0612345678"
    index = 0
    while index < len(groups):
        separator = separators[index] if index < len(separators) else ""
        if separator == "." and _is_ipv4(groups, separators, index):
            excluded[index : index + 4] = [True] * 4
            index += 4
        elif (
            separator in _DATE_SEPARATORS
            and index + 2 < len(groups)
            and _is_date(
                tuple(len(group) for group in groups[index : index + 3]),
                tuple(separators[index : index + 2]),
            )
        ):
            excluded[index : index + 3] = [True] * 3
            index += 3
        else:
            index += 1
    return excluded


def _mask_digits(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) < _PHONE_DIGITS.start:  # fewer characters than the shortest phone number
        return run
    spans = [(group.start(), group.end()) for group in _DIGIT_GROUP.finditer(run)]
    groups = [run[start:end] for start, end in spans]
    separators = [run[spans[i][1] : spans[i + 1][0]] for i in range(len(spans) - 1)]
    excluded = _excluded_groups(match, groups, separators)
    parts: list[str] = []
    done = 0
    for first, last, mask in _masked_segments(groups, separators, excluded):
        # The mask takes the run's "+(" prefix and ")" suffix, and the brackets around a
        # segment inside the run ("... (555) 010-9999").
        segment_start = 0 if first == 0 else spans[first][0]
        segment_end = len(run) if last == len(spans) - 1 else spans[last][1]
        if first and separators[first - 1].endswith("("):
            segment_start -= 1
        if last < len(spans) - 1 and separators[last].startswith(")"):
            segment_end += 1
        parts.append(run[done:segment_start])
        parts.append(mask)
        done = segment_end
    if not parts:
        return run
    parts.append(run[done:])
    return "".join(parts)


def _masked_segments(
    groups: list[str], separators: list[str], excluded: list[bool]
) -> list[tuple[int, int, str]]:
    """``(first, last, mask)`` for each stretch of groups that is a phone or card number.

    A stretch is a maximal sequence of groups not excluded. One with too many digits for a
    phone number that is not a card ("0612345678 0698765432") is cut at its spaces and read
    from the left: a card number if one starts there, else the shortest phone number.
    """
    found: list[tuple[int, int, str]] = []
    index = 0
    while index < len(groups):
        if excluded[index]:
            index += 1
            continue
        last = index
        while last + 1 < len(groups) and not excluded[last + 1]:
            last += 1
        mask = _mask_for("".join(groups[index : last + 1]))
        if mask is not None:
            found.append((index, last, mask))
        elif sum(len(group) for group in groups[index : last + 1]) > _PHONE_DIGITS.stop - 1:
            found.extend(_split_at_spaces(groups, separators, index, last))
        index = last + 1
    return found


def _split_at_spaces(
    groups: list[str], separators: list[str], first: int, last: int
) -> list[tuple[int, int, str]]:
    # Words: groups joined by separators without a space ("010-9999" is one word).
    words: list[tuple[int, int]] = []
    start = first
    for index in range(first, last + 1):
        if index == last or " " in separators[index]:
            words.append((start, index))
            start = index + 1
    found: list[tuple[int, int, str]] = []
    word = 0
    while word < len(words):
        # Candidate ends: each further word, while the digits fit a card number (at most 19),
        # so the work per word is bounded.
        digits = ""
        ends: list[tuple[int, str]] = []
        for end in range(word, len(words)):
            digits += "".join(groups[words[end][0] : words[end][1] + 1])
            if len(digits) > _CARD_DIGITS.stop - 1:
                break
            ends.append((end, digits))
        card = next(
            (end for end, d in reversed(ends) if len(d) in _CARD_DIGITS and _luhn_valid(d)),
            None,
        )
        phone = next((end for end, d in ends if len(d) in _PHONE_DIGITS), None)
        if card is not None:
            found.append((words[word][0], words[card][1], CARD_MASK))
            word = card + 1
        elif phone is not None:
            found.append((words[word][0], words[phone][1], PHONE_MASK))
            word = phone + 1
        else:
            word += 1
    return found


def _mask_for(digits: str) -> str | None:
    if len(digits) in _CARD_DIGITS and _luhn_valid(digits):
        return CARD_MASK
    # 9+ digits: dates (8 digits) and short codes stay readable.
    if len(digits) in _PHONE_DIGITS:
        return PHONE_MASK
    return None


def redact_text(text: str) -> str:
    """Mask e-mail addresses, phone numbers and card-like numbers in ``text``.

    Phone numbers have 9 to 15 digits; card numbers 13 to 19 digits passing the Luhn check.
    Dates (``2025-03-01``), times (``12:30``) and IPv4 addresses are left alone.

    >>> redact_text("mail me at ana@example.com or +1 (555) 010-9999")
    'mail me at [email] or [phone]'
    """
    if "@" in text:
        text = _mask_emails(text)
    if _ANY_DIGIT.search(text):
        text = _DIGIT_RUN.sub(_mask_digits, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    return value


def redact_feedback(record: EventRecord) -> EventRecord:
    """Processor step: redact the free text of feedback events (comment and properties) and
    of the teams' answers to them (message)."""
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
