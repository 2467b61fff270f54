"""Console email that keeps customer details out of the worker's output.

With DJANGO_EMAIL_HOST empty, emails are written to the console, and the
console is the web server's and worker's log: Django's own console backend
would leave there every customer's address and every single-use survey or
password-reset link, long after `erase_customer`. This backend writes each
message readably (headers, then its text) with addresses and phone numbers
masked. With DJANGO_DEBUG on, links stay, so a developer can follow them;
with it off (only when CVX_ALLOW_CONSOLE_EMAIL says so: see cvx_site.checks)
links are masked too.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

from cvx_site.logging import mask, mask_personal

LINK = re.compile(r"https?://\S+")
LINK_MASK = "[link]"
HEADERS = ("Subject", "From", "To", "Cc", "Reply-To", "Date", "Message-ID")


def render(message, *, keep_links: bool) -> str:
    """The message's headers and text parts, masked; other parts by name only."""
    msg = message.message()
    clean = mask_personal if keep_links else (lambda text: LINK.sub(LINK_MASK, mask(text)))
    lines = [f"{name}: {clean(str(msg[name]))}" for name in HEADERS if msg[name] is not None]
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "text" and part.get_filename() is None:
            payload = part.get_payload(decode=True) or b""
            text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
            lines += ["", f"[{part.get_content_type()}]", clean(text)]
        else:
            lines += ["", f"[attachment {part.get_content_type()}: {clean(part.get_filename() or 'unnamed')}]"]
    return "\n".join(lines)


class ConsoleEmailBackend(DjangoConsoleBackend):
    """Django's console backend, masking what must not reach the log."""

    def write_message(self, message) -> None:
        self.stream.write(render(message, keep_links=settings.DEBUG) + "\n")
        self.stream.write("-" * 79 + "\n")
