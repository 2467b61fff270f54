"""Read customer replies from an IMAP mailbox (CVX_IMAP_*) and hand each to
the same service the inbound endpoint calls; a message is marked seen only
once it has been stored (attached, duplicate or unmatched)."""

from __future__ import annotations

import imaplib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases.messaging.inbound import inbound_email_receive


class Command(BaseCommand):
    help = "Fetch unseen emails from the IMAP mailbox (CVX_IMAP_*) and attach replies to their cases."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="At most this many emails per run.")

    def handle(self, *args, limit: int, **options):
        if not settings.CVX_IMAP_HOST:
            raise CommandError("Set CVX_IMAP_HOST (and CVX_IMAP_USER, CVX_IMAP_PASSWORD) to read a mailbox.")
        try:
            imap = imaplib.IMAP4_SSL(settings.CVX_IMAP_HOST, settings.CVX_IMAP_PORT, timeout=60)
        except OSError as exc:
            raise CommandError(f"Cannot reach {settings.CVX_IMAP_HOST}:{settings.CVX_IMAP_PORT}: {exc}") from exc
        counts = {"attached": 0, "duplicate": 0, "unmatched": 0}
        try:
            imap.login(settings.CVX_IMAP_USER, settings.CVX_IMAP_PASSWORD)
            status, _ = imap.select(settings.CVX_IMAP_FOLDER)
            if status != "OK":
                raise CommandError(f"No folder {settings.CVX_IMAP_FOLDER!r} in the mailbox.")
            _, found = imap.uid("SEARCH", None, "UNSEEN")
            for uid in (found[0] or b"").split()[:limit]:
                _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
                if raw is None:
                    continue
                counts[inbound_email_receive(raw).status] += 1
                imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        except imaplib.IMAP4.error as exc:
            raise CommandError(f"IMAP: {exc}") from exc
        finally:
            try:
                imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
        self.stdout.write(", ".join(f"{n} {what}" for what, n in counts.items()))
