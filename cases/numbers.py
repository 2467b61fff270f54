"""Case numbers as people read and type them: case id 42 is "CX-000042".
Every page, reply, email, export, log line and form that shows or reads a
case number goes through this pair, so the format is written once."""

from __future__ import annotations

from cvx_site.inputs import parse_id

PREFIX = "CX-"
WIDTH = 6  # zero-padded to six digits; a larger id simply has more
EXAMPLE = 42


def case_number(case_id: int | None) -> str:
    """The number of the case with this id: 42 -> "CX-000042"; "CX-new"
    for a case not saved yet (None)."""
    return f"{PREFIX}new" if case_id is None else f"{PREFIX}{case_id:0{WIDTH}d}"


def parse_case_number(text) -> int | None:
    """The case id a person typed: "CX-000042", "cx-42", "000042" or "42"
    (surrounding spaces ignored) -> 42. None for anything else: not text,
    empty, no ASCII digits after the prefix, 0, or an id no table can hold
    (so a huge number finds nothing instead of overflowing a query)."""
    if not isinstance(text, str):
        return None
    digits = text.strip()
    if digits[: len(PREFIX)].upper() == PREFIX:
        digits = digits[len(PREFIX) :]
    return parse_id(digits)
