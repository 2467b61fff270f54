"""Check the audit trail: every case's keyed hash chain, every case row
against the state its own events imply, and the signed checkpoints (their
own chain, and that every head they recorded is still in its trail: a
vanished case or a truncated tail is named).

Exit status 0 when everything holds; 1 when something breaks, with one line
per break naming the case and the event (or the checkpoint); 2 when the
archive given cannot be read. Safe to run at any time: it only reads.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cases.audit.checkpoints import ArchiveError, check_archive, read_archive
from cases.audit.trail import (
    changed_since,
    checkpoint_checks,
    last_good_checkpoint,
    latest_checkpoint,
    verifier_for,
)


class Command(BaseCommand):
    help = (
        "Verify the tamper-evident audit trail: chains, case rows against their events, checkpoints "
        "(exit 1 on any break)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, action="append", help="Only this case id (repeatable).")
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="Only the cases changed since the last good checkpoint (the one the latest passed "
            "verification ended on), and the checkpoints.",
        )
        parser.add_argument(
            "--checkpoints",
            metavar="FILE",
            help="Also check the database against this archive of checkpoints (export_checkpoints).",
        )

    def handle(self, *args, case=None, incremental=False, checkpoints=None, **options):
        archive = self._read_archive(checkpoints) if checkpoints else None
        through = latest_checkpoint()
        verifier = verifier_for(through)
        notes = []
        if case:
            breaks = verifier.verify_ids(case)
            what = f"{verifier.tally.cases} case(s) verified"
        else:
            baseline = last_good_checkpoint() if incremental else None
            if incremental and baseline is None:
                notes.append("No verified checkpoint yet: verified in full.")
            if baseline is not None:
                breaks = verifier.verify_ids(changed_since(baseline))
                what = f"{verifier.tally.cases} case(s) changed since checkpoint #{baseline.number} verified"
            else:
                breaks, after = [], 0
                while True:
                    found, after, _count = verifier.verify_after(after)
                    if after is None:
                        break
                    breaks += found
                what = f"{verifier.tally.cases} case(s) verified"
            breaks += checkpoint_checks(through, verifier)
            notes.append(
                f"Checked against checkpoint #{through.number} of {through.created_at:%Y-%m-%d %H:%M} UTC."
                if through
                else "No checkpoint yet: a vanished case or a truncated tail shows only against "
                "one (manage.py audit_checkpoint)."
            )
        if archive is not None:
            breaks += check_archive(*archive, verifier.key)
            notes.append(f"Checked against {len(archive[0])} archived checkpoint(s) from {checkpoints}.")
        if verifier.tally.legacy:
            notes.append(
                f"{verifier.tally.legacy} event(s) from before keyed hashing (version 1) verify without the "
                "key: weaker, except where a checkpoint covers them."
            )
        for item in breaks:
            self.stderr.write(f"BROKEN {item}")
        if breaks:
            self.stderr.write(f"{len(breaks)} break(s) in the audit trail ({what}).")
            raise SystemExit(1)
        self.stdout.write(f"Audit trail intact: {what}.")
        for note in notes:
            self.stdout.write(note)

    def _read_archive(self, path: str):
        try:
            with open(path, encoding="utf-8") as lines:
                return read_archive(lines)
        except OSError as exc:
            raise CommandError(f"--checkpoints: cannot read {path}: {exc.strerror}", returncode=2) from None
        except (ArchiveError, UnicodeDecodeError) as exc:
            raise CommandError(f"--checkpoints: {path}: {exc}", returncode=2) from None
