"""Bounds on values that come from outside, so that whatever is accepted can
be stored on SQLite and PostgreSQL alike and read back by any JSON reader.

Generic on purpose: no domain rule lives here, only what a database, a
JSON encoder or a client in another language cannot handle. Every entry
path runs these checks before anything is written (feedback.validation for
feedback; the filtersets and forms for ids in queries).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, time
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# The largest id a table holds: ids are BigAutoField (signed 64-bit) on both
# databases, and SQLite raises OverflowError for a larger Python int.
MAX_ID = 2**63 - 1
# I-JSON (RFC 7493): integers beyond ±(2^53 − 1) are not read exactly by
# most JSON readers (JavaScript, SQLite's JSON functions read them as reals).
MAX_JSON_INTEGER = 2**53 - 1
# Objects and lists nested deeper than this are refused: recursive code
# (Python's json, our readers, PostgreSQL's jsonb) must never meet its limit.
JSON_MAX_DEPTH = 20

# NUL: PostgreSQL refuses it in text and jsonb. Unpaired surrogates: not
# encodable as UTF-8, so PostgreSQL refuses them and a reply carrying one
# cannot be written. SQLite stores both, which is why the rule is ours.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]{1,40}")
_DIGITS = re.compile(r"[0-9]{1,19}")


def text_problem(value: str) -> str | None:
    """Why this text cannot be stored and sent back, or None."""
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (U+0000), which cannot be stored"
    return f"contains an unpaired surrogate (U+{ord(found.group()):04X}), which is not valid Unicode text"


def json_problem(value, *, max_depth: int = JSON_MAX_DEPTH, max_chars: int | None = None) -> str | None:
    """Why `value` (as a JSON parser returns it) cannot be stored as JSON and
    read back the same on every database, or None when it can.

    Refused: text with NUL or unpaired surrogates (keys included), numbers
    that are not finite or integers beyond ±(2^53 − 1), nesting deeper than
    `max_depth`, more than `max_chars` characters once encoded, and anything
    that is not a JSON value. The message names where (`at a.b[2]: ...`)
    without repeating the offending text.
    """
    if max_chars is None and not isinstance(value, (dict, list)):  # most fields: one scalar
        return _scalar_problem(value)
    # Paths are kept as (parent, key) links and spelled out only for a problem:
    # a valid value, the usual case, costs no string building.
    stack: list = [(value, None, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, (dict, list)):
            too_deep = f"nested deeper than {max_depth} levels" if depth >= max_depth else None
            if isinstance(item, dict):
                problem = _keys_problem(item) or too_deep
                stack.extend((v, (path, k), depth + 1) for k, v in item.items())
            else:
                problem = too_deep
                stack.extend((v, (path, i), depth + 1) for i, v in enumerate(item))
        else:
            problem = _scalar_problem(item)
        if problem is not None:
            return f"at {_spelled(path)}: {problem}" if path else problem
    if max_chars is not None:
        size = len(json.dumps(value, ensure_ascii=False))
        if size > max_chars:
            return f"{size:,} characters of JSON; at most {max_chars:,} are accepted"
    return None


def _spelled(path) -> str:
    parts = []
    while path is not None:
        path, key = path
        parts.append(f"[{key}]" if isinstance(key, int) else _key_part(key))
    return "".join(reversed(parts)).lstrip(".")


def _scalar_problem(item) -> str | None:
    if item is None or isinstance(item, bool):
        return None
    if isinstance(item, str):
        return text_problem(item)
    if isinstance(item, int):
        return (
            None
            if abs(item) <= MAX_JSON_INTEGER
            else f"a whole number beyond ±{MAX_JSON_INTEGER:,}, which JSON readers round (send it as text)"
        )
    if isinstance(item, float):
        return None if math.isfinite(item) else "a number too large to represent"
    if isinstance(item, Decimal):
        return None if item.is_finite() else "a number too large to represent"
    # In-process callers (the CSV importer, the demo, the survey page) hand
    # over parsed dates; the field that reads them checks them further.
    if isinstance(item, (datetime, date, time)):
        return None
    return "not a JSON value"


def _keys_problem(item: dict) -> str | None:
    for key in item:
        if not isinstance(key, str):
            return "an object key that is not text"
        problem = text_problem(key)
        if problem is not None:
            return f"an object key {problem}"
    return None


def _key_part(key) -> str:
    key = str(key)
    if _PLAIN_KEY.fullmatch(key):
        return f".{key}"
    # ASCII-escaped and cut short: the path must itself be safe to show.
    return f"[{json.dumps(key[:40] + ('…' if len(key) > 40 else ''))}]"


def parse_id(text) -> int | None:
    """The database id written as `text` (ASCII digits, 1 to MAX_ID), or
    None: a number no table can hold finds nothing rather than raising
    OverflowError on SQLite."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_bounded_int(text, *, low: int, high: int) -> int | None:
    """A whole number in ASCII digits within [low, high], or None.
    (`str.isdigit` accepts "²", which int() then refuses.)"""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with JSON nested too deep for Python's decoder a
    400 like any other malformed body, not a RecursionError and a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
