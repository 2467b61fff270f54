"""Copy the audit trail's signed checkpoints out of the database, as JSON
lines for an auditor's archive: one line per checkpoint, then one per case
head it recorded. Append each export to the archive (`--since` the next
number) and keep it where whoever controls the database cannot write;
`verify_audit --checkpoints FILE` checks the database against it."""

from __future__ import annotations

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cases.audit.checkpoints import export_lines
from cases.models import AuditCheckpoint


class Command(BaseCommand):
    help = "Write the signed audit checkpoints as JSON lines (to stdout or a file) for an auditor's archive."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="A checkpoint number (that one and later) or an ISO date or time.")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write here instead of stdout (appends).")

    def handle(self, *args, since=None, output=None, **options):
        checkpoints = AuditCheckpoint.objects.order_by("number")
        if since:
            checkpoints = checkpoints.filter(**self._since(since))
        if not output:
            for line in export_lines(checkpoints.iterator()):
                self.stdout.write(line)
            return
        try:
            with open(output, "a", encoding="utf-8") as archive:
                for line in export_lines(checkpoints.iterator()):
                    archive.write(line + "\n")
        except OSError as exc:
            raise CommandError(f"--output: cannot write {output}: {exc.strerror}", returncode=2) from None
        self.stderr.write(f"{checkpoints.count()} checkpoint(s) appended to {output}.")

    @staticmethod
    def _since(value: str) -> dict:
        if value.isdigit():
            return {"number__gte": int(value)}
        moment = parse_datetime(value)
        if moment is None and parse_date(value):
            moment = datetime.combine(parse_date(value), time.min)
        if moment is None:
            raise CommandError(
                f"--since: expected a checkpoint number or an ISO date or time, got {value!r}", returncode=2
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return {"created_at__gte": moment}
