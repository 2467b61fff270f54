"""Keep customer details out of the logs.

`MaskPersonalData` is a filter for handlers (settings.LOGGING puts it on the
console handler). On a handler it sees every record the handler writes,
including those propagated from child loggers, which a filter on the root
logger would not. It rewrites the message, the exception text and the stack
text with email addresses and phone-like digit runs masked.
"""

from __future__ import annotations

import logging
import re

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, optionally led by + and split by spaces, dots,
# dashes, slashes or brackets: "+44 20 7946 0000", "(020) 7946-0000". A whole
# token only (not inside a hash or a word); ISO dates are left alone.
PHONE = re.compile(r"(?<![\w+-])(?!\d{4}-\d{2}-\d{2}(?!\d))\+?\(?\d(?:[ ./()-]{0,2}\d){6,}(?![\w@])")
EMAIL_MASK, PHONE_MASK = "[email]", "[phone]"


def mask(text: str) -> str:
    return PHONE.sub(PHONE_MASK, EMAIL.sub(EMAIL_MASK, text))


class MaskPersonalData(logging.Filter):
    """Masks emails and phone numbers in each record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format is logging's to report, not ours
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True
