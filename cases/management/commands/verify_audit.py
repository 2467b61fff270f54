"""Check every case's audit hash chain.

Exit status 0 when every chain holds; 1 when one breaks, with one line per
break naming the case and the event. Safe to run at any time: it only reads.
"""

from django.core.management.base import BaseCommand

from cases.audit import verify_all
from cases.models import Case


class Command(BaseCommand):
    help = "Verify the tamper-evident audit trail of every case (exit 1 on any break)."

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, action="append", help="Only this case id (repeatable).")

    def handle(self, *args, case=None, **options):
        cases = Case.objects.order_by("pk")
        if case:
            cases = cases.filter(pk__in=case)
        checked = cases.count()
        breaks = list(verify_all(cases))
        for item in breaks:
            self.stderr.write(f"BROKEN {item}")
        if breaks:
            self.stderr.write(f"{len(breaks)} break(s) in the audit trail of {checked} case(s).")
            raise SystemExit(1)
        self.stdout.write(f"Audit trail intact: {checked} case(s) verified.")
