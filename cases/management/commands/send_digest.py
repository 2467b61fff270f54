"""Send or preview one person's weekly digest."""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cases.digest import digest_email, digest_for, digest_send, digest_week
from cases.selectors import is_manager
from feedback.analytics import week_start


class Command(BaseCommand):
    help = (
        "Send the weekly digest to one team lead or CX admin (once per week, as the schedule does), "
        "or print it with --dry-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="The username of the lead or CX admin.")
        parser.add_argument("--week", help="A day of the week to digest, YYYY-MM-DD (default: the last whole week).")
        parser.add_argument("--dry-run", action="store_true", help="Print the email (text part) and send nothing.")
        parser.add_argument("--html", action="store_true", help="With --dry-run: print the HTML part instead.")

    def handle(self, *args, user: str, week: str | None, dry_run: bool, html: bool, **options):
        person = get_user_model().objects.filter(username=user, is_active=True).first()
        if person is None:
            raise CommandError(f"--user: no active user {user[:150]!r}.")
        if not is_manager(person):
            raise CommandError(
                f"--user: {person.username!r} is neither a team lead nor a CX admin; the digest is theirs."
            )
        monday = self._week(week)
        if dry_run:
            email = digest_email(digest_for(person, week=monday))
            self.stdout.write(f"Subject: {email.subject}\nTo: {', '.join(email.to) or '(no address)'}\n")
            self.stdout.write(email.alternatives[0][0] if html else email.body)
            return
        if not person.email:
            raise CommandError(f"--user: {person.username!r} has no email address.")
        if digest_send(user=person, week=monday):
            self.stdout.write(f"Sent the digest of the week of {monday} to {person.email}.")
        else:
            self.stdout.write(
                f"The digest of the week of {monday} had already gone to {person.username}; nothing sent."
            )

    def _week(self, raw: str | None) -> date:
        if raw is None:
            return digest_week()
        try:
            return week_start(date.fromisoformat(raw))
        except ValueError:
            raise CommandError(f"--week: {raw[:40]!r} is not a day written YYYY-MM-DD.") from None
