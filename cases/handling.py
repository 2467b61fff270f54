"""Handling time of a contact with the customer (a logged contact or a sent
message), as contact centres count it: entered by the agent, or measured
from when the page's form (the contact form, the composer) was opened.

The minutes go into the contact event's data (`handling_minutes`, and
`handling_measured`: true when measured), which the audit chain covers;
the loop metrics read them from there (cases.insights.loop)."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core import signing

from cvx_site.errors import InvalidInput

# Bounds of one contact's handling time, in minutes: more than 0, at most a
# working day. Stored to a tenth of a minute (six seconds).
MAX_MINUTES = 480
STEP = Decimal("0.1")
FIELD = "handling_minutes"
OPENED_FIELD = "opened"
_SALT = "cvx.cases.handling.opened"
ENTERED_HELP = (
    f"The contact's handling time in minutes (more than 0, at most {MAX_MINUTES}, kept to a tenth); "
    "without it no handling time is recorded"
)


def parse_minutes(value) -> float | None:
    """The entered handling time in minutes, to a tenth; None when nothing was
    entered. Raises InvalidInput naming `handling_minutes` unless it is a
    number more than 0 and at most MAX_MINUTES."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidInput("Must be a number of minutes.", field=FIELD)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput("Must be a number of minutes.", field=FIELD) from None
    if not number.is_finite():
        raise InvalidInput("Must be a number of minutes.", field=FIELD)
    # Bounds before rounding: a huge exponent cannot be rounded to a tenth.
    if not 0 < number <= MAX_MINUTES or number.quantize(STEP) == 0:
        shown = f"{number:.6g}" if abs(number.adjusted()) > 6 else str(number)
        raise InvalidInput(f"Must be more than 0 and at most {MAX_MINUTES} minutes (got {shown}).", field=FIELD)
    return float(number.quantize(STEP))


def opened_token(case_id: int, at: datetime) -> str:
    """The signed time a form acting on the case was opened: the hidden field
    the case page sends back, so that the server measures the time (a
    page cannot make it up, nor move it to another case)."""
    return signing.dumps([case_id, at.timestamp()], salt=_SALT)


def measured_minutes(token: str, case_id: int, now: datetime) -> float:
    """Minutes from the token's time to `now`, to a tenth, clamped to more
    than 0 and at most MAX_MINUTES. Raises InvalidInput naming `opened` for
    a token that was not made here for this case."""
    try:
        signed_case, opened = signing.loads(token, salt=_SALT)
        opened = float(opened)
    except (signing.BadSignature, TypeError, ValueError):
        raise InvalidInput("The form's opening time is not valid: reload the page.", field=OPENED_FIELD) from None
    if signed_case != case_id or not math.isfinite(opened):
        raise InvalidInput("The form's opening time belongs to another case: reload the page.", field=OPENED_FIELD)
    minutes = min(max((now.timestamp() - opened) / 60, float(STEP)), MAX_MINUTES)
    return float(Decimal(minutes).quantize(STEP))


def handling_data(*, minutes: float | None, opened: str, case_id: int, now: datetime) -> dict:
    """What a contact event records of its handling time: the entered
    `minutes` (from parse_minutes; they win), else the minutes measured from
    the `opened` token, else nothing."""
    if minutes is not None:
        return {FIELD: minutes, "handling_measured": False}
    if opened and isinstance(opened, str):
        return {FIELD: measured_minutes(opened, case_id, now), "handling_measured": True}
    return {}
