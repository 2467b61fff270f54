"""Make a signed checkpoint of the audit trail now (a django-q2 schedule
makes one every hour)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cases.services.audit import audit_checkpoint_create
from cvx_site.errors import Conflict


class Command(BaseCommand):
    help = "Sign and store a checkpoint of the whole audit trail now."

    def handle(self, *args, **options):
        try:
            checkpoint = audit_checkpoint_create()
        except Conflict as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Checkpoint #{checkpoint.number}: {checkpoint.case_count} case(s), "
            f"{checkpoint.event_count} event(s), root {checkpoint.root[:16]}…, signed."
        )
