"""The built-in redactor's patterns: e-mail addresses, phone numbers, card numbers and IBANs
in free text (the processor step that applies them is :mod:`cs_sdk._redaction`).

Customers paste contact details into feedback comments; :func:`redact_text` masks them.

It runs on the single worker thread over strings of up to 64 KB, so every pattern here is
linear in the length of the text: each quantifier is bounded or runs over characters the
next token cannot start with, so the regex engine never retries a long run from every
position (the former e-mail pattern took 3.9 s on ``"a" * 65535 + "@"``).

The patterns read a normalised copy of the text: the Unicode spaces, dashes and fullwidth
forms people type become their ASCII meaning, one character for one (a no-break space
between digit groups, an en dash, a fullwidth at sign U+FF20). The copy has the same length,
so the masks are cut from the original and everything else is kept as written. NFKC is not
applied to the whole text (it changes lengths: U+FB01 becomes "fi"); only its one-character
mappings of the characters the patterns read are used. Coverage is measured on the corpus in
``tests/test_redaction_corpus.py`` and written down in ``docs/privacy.md``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

EMAIL_MASK: Final = "[email]"
PHONE_MASK: Final = "[phone]"
CARD_MASK: Final = "[card]"
IBAN_MASK: Final = "[iban]"


def _normalisation_table() -> dict[int, str]:
    """Unicode spaces -> " ", dashes and minus signs -> "-", fullwidth ASCII -> ASCII."""
    table: dict[int, str] = {}
    spaces = [0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000]
    dashes = [
        0x058A, 0x05BE, 0x1400, 0x1806, *range(0x2010, 0x2016), 0x2043, 0x2212, 0x2E17,
        0x2E1A, 0x2E3A, 0x2E3B, 0x2E40, 0x301C, 0x30A0, 0xFE31, 0xFE32, 0xFE58, 0xFE63,
    ]  # fmt: skip
    for code in spaces:
        table[code] = " "
    for code in dashes:
        table[code] = "-"
    # Fullwidth and small forms whose NFKC form is one ASCII character: the at signs U+FF20
    # and U+FE6B, full stops, plus signs, brackets, fullwidth letters and digits (an IBAN or a
    # domain typed on a CJK keyboard).
    for code in (*range(0xFF01, 0xFF5F), *range(0xFE50, 0xFE6C)):
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(folded) == 1 and folded.isascii():
            table[code] = " " if folded.isspace() else folded
    return table


_NORMALISE: Final = _normalisation_table()
# Characters masked spans are blanked with before the next pattern reads the text: matched
# by none of them, and not a word character (the digit pattern's boundaries still hold).
_BLANK: Final = "\0"

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
# IBAN: two letters, two check digits, 11 to 30 letters or digits, in groups or not
# ("GB82 WEST 1234 5698 7654 32", "gb82-west-..."). One optional space or dash before each
# character: a run parses one way only. The mod-97 check confirms (1 in 97 random runs of
# this shape would pass it).
_IBAN = re.compile(r"(?<!\w)[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}(?!\w)")
_IBAN_LENGTHS: Final = range(15, 35)
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\(?\d+(?:[ .\-/()]{1,3}\d+)*\)?(?!\w)")
_DIGIT_GROUP = re.compile(r"\d+")
_ANY_DIGIT = re.compile(r"\d")
_TIME_SEPARATOR = re.compile(r":\d")
_DATE_SEPARATORS: Final = frozenset("-/.")
_YEARS: Final = range(1000, 3000)
_PHONE_DIGITS: Final = range(9, 16)
_CARD_DIGITS: Final = range(13, 20)
# Luhn doubles every second digit from the right and adds the digits of the product.
_LUHN_DOUBLED: Final = str.maketrans("0123456789", "0246813579")


def _luhn_valid(digits: str) -> bool:
    if not digits.isascii():  # \d matches any Unicode decimal digit; int() reads them all
        digits = "".join(str(int(char)) for char in digits)
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(map(int, digits[-1::-2])) + sum(map(int, doubled))) % 10 == 0


def _email_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    done = 0  # nothing before this is read again
    for match in _AT_DOMAIN.finditer(text):
        at = match.start()
        window = text[max(done, at - _LOCAL_PART_MAX) : at][::-1]
        local = _LOCAL_PART_REVERSED.match(window)
        if local is None:
            continue
        spans.append((at - local.end(), match.end(), EMAIL_MASK))
        done = match.end()
    return spans


def _iban_end(run: str) -> int:
    """Where the longest IBAN at the start of ``run`` ends (0: none), ending at a space or
    dash of the run or at its end (the greedy pattern reads on into the following words).

    ISO 13616's check: the country and check digits moved to the end, letters as 10-35, the
    number mod 97 is 1. Computed in one pass over the run, as a running remainder, with the
    four moved characters appended arithmetically at each possible end.
    """
    head = "".join(str(int(char, 36)) for char in run[:4])
    head_rem, head_shift = int(head) % 97, pow(10, len(head), 97)
    remainder, length, best = 0, 4, 0
    for index in range(4, len(run)):
        char = run[index]
        if char == " " or char == "-":
            continue
        value = int(char, 36)
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
        length += 1
        at_boundary = index + 1 == len(run) or run[index + 1] in " -"
        if (
            at_boundary
            and length in _IBAN_LENGTHS
            and (remainder * head_shift + head_rem) % 97 == 1
        ):
            best = index + 1
    return best


def _iban_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    match = _IBAN.search(text)
    while match is not None:
        end = _iban_end(match.group(0))
        if end:
            spans.append((match.start(), match.start() + end, IBAN_MASK))
            match = _IBAN.search(text, match.start() + end)
        else:
            match = _IBAN.search(text, match.start() + 1)
    return spans


def _is_date(groups: list[str], separators: list[str]) -> bool:
    """2025-03-01, 01/03/2025, 1.3.2025: three groups, one separator, a 4-digit year, a month
    and a day that exist (so "+44-20-7946-0958" is a phone number, not a date)."""
    first, second = separators
    if first != second or first not in _DATE_SEPARATORS:
        return False
    lengths = [len(group) for group in groups]
    values = [int(group) for group in groups]
    if lengths[0] == 4 and lengths[1] <= 2 and lengths[2] <= 2:
        year, month, day = values
    elif lengths[0] <= 2 and lengths[1] <= 2 and lengths[2] == 4:
        # 01/03/2025 or 03/01/2025: either order may be the month.
        month, day, year = min(values[:2]), max(values[:2]), values[2]
    else:
        return False
    return _YEARS.start <= year < _YEARS.stop and 1 <= month <= 12 and 1 <= day <= 31


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
            and not (index == 0 and text[start] == "+")  # "+44-..." starts a phone number
            and _is_date(groups[index : index + 3], separators[index : index + 2])
        ):
            excluded[index : index + 3] = [True] * 3
            index += 3
        else:
            index += 1
    return excluded


def _digit_spans(match: re.Match[str]) -> list[tuple[int, int, str]]:
    run = match.group(0)
    if len(run) < _PHONE_DIGITS.start:  # fewer characters than the shortest phone number
        return []
    spans = [(group.start(), group.end()) for group in _DIGIT_GROUP.finditer(run)]
    groups = [run[start:end] for start, end in spans]
    separators = [run[spans[i][1] : spans[i + 1][0]] for i in range(len(spans) - 1)]
    excluded = _excluded_groups(match, groups, separators)
    found: list[tuple[int, int, str]] = []
    offset = match.start()
    for first, last, mask in _masked_segments(groups, separators, excluded):
        # The mask takes the run's "+(" prefix and ")" suffix, and the brackets around a
        # segment inside the run ("... (555) 010-9999").
        segment_start = 0 if first == 0 else spans[first][0]
        segment_end = len(run) if last == len(spans) - 1 else spans[last][1]
        if first and separators[first - 1].endswith("("):
            segment_start -= 1
        if last < len(spans) - 1 and separators[last].startswith(")"):
            segment_end += 1
        found.append((offset + segment_start, offset + segment_end, mask))
    return found


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


def _blank(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with ``spans`` blanked out (same length), so later patterns skip them."""
    parts: list[str] = []
    done = 0
    for start, end, _ in spans:
        parts.append(text[done:start])
        parts.append(_BLANK * (end - start))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def redact_text(text: str) -> str:
    """Mask e-mail addresses, IBANs, phone numbers and card-like numbers in ``text``.

    Phone numbers have 9 to 15 digits; card numbers 13 to 19 digits passing the Luhn check;
    IBANs pass the mod-97 check. Dates (``2025-03-01``), times (``12:30``) and IPv4 addresses
    are left alone. Unicode spaces, dashes and fullwidth forms count as their ASCII twins.

    >>> redact_text("mail me at ana@example.com or +1 (555) 010-9999")
    'mail me at [email] or [phone]'
    """
    norm = text.translate(_NORMALISE)
    spans: list[tuple[int, int, str]] = []
    # In this order, each on what the previous ones left: an address may hold digits, an
    # IBAN holds digit groups the phone pattern would take.
    if "@" in norm:
        spans = _email_spans(norm)
        if spans:
            norm = _blank(norm, spans)
    if _ANY_DIGIT.search(norm):
        found = _iban_spans(norm)
        if found:
            norm = _blank(norm, found)
            spans.extend(found)
        for match in _DIGIT_RUN.finditer(norm):
            spans.extend(_digit_spans(match))
    if not spans:
        return text
    spans.sort()
    parts: list[str] = []
    done = 0
    for start, end, mask in spans:  # cut from the original: the rest stays as written
        parts.append(text[done:start])
        parts.append(mask)
        done = end
    parts.append(text[done:])
    return "".join(parts)
