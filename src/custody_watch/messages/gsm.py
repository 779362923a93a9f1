"""How long an SMS is on the air, and how to keep one short.

A text made only of GSM-7 characters fits 160 to a single SMS, or 153 per part when it is
split (each part carries a 7-character header). One character outside that alphabet, such as a
curly quote pasted from a word processor, switches the whole text to UCS-2: 70 characters, or
67 per part. Operators bill and deliver per part, and long chains arrive out of order, so
alerts are kept to two parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# 3GPP TS 23.038 default alphabet. ESC (0x1B) is left out: it only introduces the extension
# table below, it is not a character of its own.
_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these costs two septets (ESC + the character).
_EXTENSION = frozenset("^{}\\[~]|€\f")

# Characters that editors and templates slip in, with the GSM-7 text a reader expects instead.
_LOOKALIKES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "′": "'",
        "´": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "«": '"',
        "»": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "•": "-",
        "·": "-",
        "…": "...",
        "\t": " ",
        "\u00a0": " ",  # no-break space
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space
        "\u200b": "",  # zero-width space
        "\ufeff": "",  # byte-order mark
    }
)

Encoding = Literal["GSM-7", "UCS-2"]

# A cut backs up to the previous space if that loses at most this many characters; longer
# runs without spaces (URLs, references) are cut where they stand.
_MAX_WORD_LOSS = 15

_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True, slots=True)
class SmsSize:
    """``units`` are septets for GSM-7 and UTF-16 code units for UCS-2."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    return all(c in _BASIC or c in _EXTENSION for c in text)


def to_gsm7(text: str) -> str:
    """Replace typographic punctuation and odd spaces with their plain GSM-7 equivalents.

    Other characters (a name with ``ł``, say) are kept: the text then goes as UCS-2, which
    costs length but keeps the name right."""
    return text.translate(_LOOKALIKES)


def measure(text: str) -> SmsSize:
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    costs = [_cost(c, encoding) for c in text]
    return SmsSize(encoding, sum(costs), _count_segments(costs, encoding))


def fit_sms(text: str, max_segments: int = 2) -> str:
    """``text`` with lookalike punctuation replaced, cut with an ellipsis to ``max_segments``."""
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    text = to_gsm7(text)
    if measure(text).segments <= max_segments:
        return text
    # GSM-7 has no "…" character; three dots keep the text in the cheaper alphabet.
    ellipsis = "..." if is_gsm7(text) else "…"
    # The part count only grows with the prefix, so the longest prefix that fits is found by
    # bisection rather than by re-measuring every length.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text[:middle].rstrip() + ellipsis).segments <= max_segments:
            low = middle
        else:
            high = middle - 1
    return _cut_between_words(text, low) + ellipsis


def _cut_between_words(text: str, length: int) -> str:
    """``text[:length]``, shortened to the last word boundary when that loses little."""
    cut = text[:length]
    if cut and not cut[-1].isspace() and not text[length].isspace():
        space = cut.rfind(" ")
        if space >= length - _MAX_WORD_LOSS:
            cut = cut[:space]
    return cut.rstrip()


def _cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in _EXTENSION else 1
    # Characters beyond the Basic Multilingual Plane (emoji) take a UTF-16 surrogate pair.
    return 2 if ord(char) > 0xFFFF else 1


def _count_segments(costs: list[int], encoding: Encoding) -> int:
    single, per_part = _LIMITS[encoding]
    if sum(costs) <= single:
        return 1
    # Phones never split an escape sequence or a surrogate pair across two parts, so a
    # two-unit character that does not fit at the end of a part starts the next one.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            segments, used = segments + 1, 0
        used += cost
    return segments
