"""Keep customer details out of the logs.

`MaskPersonalData` is a filter for handlers (settings.LOGGING puts it on the
console handler). On a handler it sees every record the handler writes,
including those propagated from child loggers, which a filter on the root
logger would not. It rewrites the message, the exception text and the stack
text with email addresses, phone numbers and link tokens masked.

Masking must not damage the rest of a line: an access log's status code and
size, a timestamp's seconds, an id or a duration are digit runs too. So a
phone number is matched by its shape, not by its digits: an international
number (+ and 7 to 15 digits), a national one with its trunk 0 (9 to 15
digits), or the North American 555-123-4567 / (555) 123-4567 with its
separators; never a bare run that starts with 1-9, nor digits that follow a
`.`, `:` or another digit. tests/site/test_logging.py holds the properties.
"""

from __future__ import annotations

import logging
import re

# An address, also URL-encoded in a query string (ann%40example.com).
EMAIL = re.compile(r"[\w.%+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
# Between two digits of a phone number: one space, dot or dash (or a space
# URL-encoded as %20 or +); after the country code also a bracket: "+1 (555)".
_SEP = r"(?:[ .-]|%20|\+(?=\d))?"
_GAP = r"(?:[ .-]|%20|\+(?=\d))?\)?(?:[ .-]|%20)?\(?"
PHONE = re.compile(
    r"(?<![\w.:+%-])(?:"
    rf"(?:\+|%2[Bb])\(?\d(?:{_GAP}\d){{6,14}}"  # +44 20 7946 0000, +1 (555) 123-4567, %2B4420...
    rf"|0\d(?:{_SEP}\d){{7,13}}"  # 020 7946 0000, 07946 000000
    rf"|\(0\d{{1,4}}\)[ -]?\d(?:{_SEP}\d){{3,11}}"  # (020) 7946-0000
    r"|(?:\([2-9]\d\d\) ?|[2-9]\d\d([ .-]))\d{3}(?(1)\1|[ .-])\d{4}"  # 555-123-4567, (555) 123-4567
    r")(?![\w@]|[.,:-]?\d)"
)
# Secrets in links: a value signed by django.core.signing (payload:
# timestamp:signature, as in survey links) or a password-reset token
# (timestamp-hash); anyone holding one can use the link.
TOKEN = re.compile(r"(?<![\w-])(?:[\w.-]+:[0-9A-Za-z]{6,}:[\w-]{43}|[0-9a-z]{1,13}-[0-9a-f]{32})(?![\w-])")
EMAIL_MASK, PHONE_MASK, TOKEN_MASK = "[email]", "[phone]", "[token]"


def mask_personal(text: str) -> str:
    """Emails and phone numbers masked."""
    return PHONE.sub(PHONE_MASK, EMAIL.sub(EMAIL_MASK, text))


def mask(text: str) -> str:
    """Emails, phone numbers and the tokens of single-use links masked."""
    return mask_personal(TOKEN.sub(TOKEN_MASK, text))


class MaskPersonalData(logging.Filter):
    """Masks emails, phone numbers and link tokens in each record; never drops one."""

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
